"""Train: start a training run in the background, watch it live, stop, resume or delete it.

Training runs in a process of its own (seattn.training.queue); this page only writes requests and
reads the run folders, refreshing every REFRESH_SECONDS while some run is queued or running.
"""

from __future__ import annotations

import time

import streamlit as st

from pages.ui import forms, language, models, text
from pages.ui.routing import run_through_dashboard
from seattn.analysis import monitor
from seattn.data.datasets import DataCheck
from seattn.figures import training as train_figures
from seattn.i18n import _
from seattn.settings import max_jobs, runs_root
from seattn.training import overview, queue
from seattn.training.runfiles import (
    RESUMABLE_STATES,
    FailureKind,
    Run,
    RunState,
    failure_kind,
    list_runs,
    resume_would_repeat_failure,
)

run_through_dashboard()

REFRESH_SECONDS = 1.5
FLASH_SECONDS = 8.0
STATE_BADGES = {  # colour and icon; the words are text.run_state_text's
    RunState.RUNNING: ("blue", ":material/progress_activity:"),
    RunState.QUEUED: ("gray", ":material/schedule:"),
    RunState.COMPLETED: ("green", ":material/check_circle:"),
    RunState.STOPPED: ("orange", ":material/pause_circle:"),
    RunState.FAILED: ("red", ":material/error:"),
    RunState.INTERRUPTED: ("orange", ":material/link_off:"),
}
ACTIVE = (RunState.RUNNING, RunState.QUEUED)

root = runs_root()


def flash(message: str, kind: str = "success") -> None:
    """Show ``message`` on the reruns that follow an action (including the one that switches the
    refresh timer on or off, which would swallow a message shown only once)."""
    st.session_state["train_flash"] = (time.monotonic() + FLASH_SECONDS, kind, message)


def show_flash() -> None:
    until, kind, message = st.session_state.get("train_flash", (0.0, None, None))
    if message and time.monotonic() < until:
        getattr(st, kind)(message)


def recorded_failure(status: dict) -> tuple[FailureKind | None, DataCheck | None]:
    """What made a run fail, and for a data failure the data check made when it failed."""
    return failure_kind(status), DataCheck.from_record(status.get("data_check"))


def editing_note(name: str) -> str:
    """The line above a form refilled from a failed run: whose settings, and what failed."""
    kind, check = recorded_failure(Run(root / name).read_status())
    note = _(text.EDITING_NOTE).format(run=name)
    problem = text.data_problem(check) if kind == FailureKind.DATA and check else None
    return f"{note} {problem}" if problem else note


def edit_again(run: Run) -> None:
    """Fill the Start form with ``run``'s settings and open it; called before the form's widgets
    are drawn (see apply_edit_request)."""
    try:
        spec = queue.job_spec(run)
    except queue.JobError as error:
        flash(str(error), "error")
        return
    values = {
        **forms.data_values("train", spec.data),
        **forms.recipe_values("train", spec),
        **forms.attention_values("train", spec),
        "train_augment": spec.augment,
        "train_optimizer": spec.optimizer,
        "train_seed": spec.seed,
        "train_name": "",  # a new run: the failed one keeps its name and its log
    }
    # The form's expander is opened through its state: its "expanded" is only where it starts.
    st.session_state.update(values, train_editing=run.name, train_form_open=True)
    st.toast(_(text.EDITING_TOAST).format(run=run.name), icon=":material/edit:")


def apply_edit_request() -> None:
    """Carry out an "Edit and start again" press. The button lives in the live fragment, whose
    reruns leave the form alone, so it asks for a full rerun and the form is refilled here,
    before its widgets exist (their values can only be set then)."""
    name = st.session_state.pop("train_edit_request", None)
    if name:
        edit_again(Run(root / name))


def start_form(expanded: bool) -> None:
    editing = st.session_state.get("train_editing")
    with (
        st.expander(
            _("Start a training run"),
            expanded=expanded,
            icon=":material/play_arrow:",
            key="train_form_open",
            on_change="rerun",  # so that its state, which edit_again sets, is the page's
        ),
        st.form("train_start", border=False),
    ):
        note = st.empty()  # emptied once the edited run has started
        if editing:
            note.info(editing_note(editing))
        left, right = st.columns(2)
        data = forms.data_input(
            left,
            "train",
            folder_help=_(
                "Used when '{folder_choice}' is chosen. A train/ and test/ inside are used as "
                "the split; otherwise 10% is held out for validation."
            ).format(folder_choice=_(text.DATA_FOLDER_CHOICE)),
        )
        attention, ratio = right.columns(2)
        model = forms.attention_inputs(attention, ratio, "train")
        augment = forms.augmentation_input(right, "train_augment")
        optimizer = forms.optimizer_input(right, "train_optimizer")
        cols = st.columns(5)
        recipe = forms.recipe_inputs([cols[0], cols[1], cols[2], cols[4]], "train")
        seed = cols[3].number_input(_("Seed"), 0, 2**31 - 1, 0, key="train_seed")
        name = st.text_input(
            _("Run name (optional)"),
            key="train_name",
            placeholder=_("made from the date and settings"),
        )
        st.caption(text.job_threads_caption(queue.JOB_THREADS, max_jobs()))
        pressed = st.form_submit_button(
            _("Start training"), type="primary", icon=":material/play_arrow:"
        )
        problem = st.empty()  # why the run was not started, said where Start was pressed
    if not pressed:
        return
    spec = forms.spec_from_form(
        data, seed=int(seed), augment=augment, optimizer=optimizer, **model, **recipe
    )
    if isinstance(spec, str):
        problem.error(spec)
        return
    try:
        # Refused, with the data's check, when the data is not here and cannot be fetched.
        run = queue.start(spec, root=root, name=name.strip() or None)
    except queue.DataUnavailable as error:
        problem.error(text.data_problem(error.check))
        return
    except queue.JobError as error:
        problem.error(str(error))
        return
    st.session_state.pop("train_editing", None)
    note.empty()
    st.session_state["train_pick"] = run.name  # show the new run
    position = queue.queue_position(run)
    if position:
        flash(
            _("Queued {run}: it starts when a core is free (position {position}).").format(
                run=run.name, position=position
            ),
            "info",
        )
    else:
        flash(_("Started {run}. It keeps training if you close this tab.").format(run=run.name))


def runs_overview(table) -> None:
    """The runs table as people read it: models and recipes named, times worded, every column
    as wide as what it holds (in pixels: the words are short and known), all of them within a
    wide page beside the sidebar. The headers are the session's language's; the table's own
    columns (and so its CSV download) keep their English names."""
    shown = text.runs_for_display(table)
    column = st.column_config
    columns = {
        "run": column.TextColumn(_("Run"), width=180, pinned=True),
        "state": column.TextColumn(_("State"), width=85),
        "model": column.TextColumn(_("Model"), width=55),
        "recipe": column.TextColumn(_("Recipe"), width=230),
        "data": column.TextColumn(_("Data"), width=85),
        "epochs": column.TextColumn(
            _("Epochs"), width=60, help=_("epochs done / epochs asked for")
        ),
        "best": column.TextColumn(
            _("Best acc."), width=80, alignment="right", help=_("best validation accuracy")
        ),
        "duration": column.TextColumn(
            _("Trained for"),
            width=85,
            help=_("training time, summed over every stop and resume"),
        ),
        # The date format (moment.js) is the language's: "7 Dec 14:05" / "12月7日 14:05".
        "started": column.DatetimeColumn(_("Started"), format=_("D MMM HH:mm"), width=95),
    }
    st.dataframe(
        shown, hide_index=True, key="train_runs", column_order=list(columns), column_config=columns
    )


def pick_run(names: list[str]) -> str:
    # The choice survives refreshes and new runs appearing; a deleted run falls back to the newest.
    if st.session_state.get("train_pick") not in names:
        st.session_state.pop("train_pick", None)
    return st.selectbox(_("Run"), names, key="train_pick")


def state_badge(state: str) -> None:
    colour, icon = STATE_BADGES.get(state, ("gray", None))
    st.badge(text.run_state_text(state), color=colour, icon=icon)


def progress_panel(snapshot: monitor.RunSnapshot, progress: monitor.Progress) -> None:
    within, overall = text.progress_lines(progress)
    if progress.state in ACTIVE:
        st.progress(progress.epoch_fraction, text=within)
    st.progress(progress.overall_fraction, text=overall)
    best = monitor.best_epoch(snapshot.metrics)
    cols = st.columns(4)
    cols[0].metric(_("Epochs done"), f"{progress.epochs_done} / {progress.epochs}")
    cols[1].metric(
        _("Images per second"),
        f"{progress.images_per_second:,.0f}" if progress.images_per_second else "—",
    )
    cols[2].metric(_("Time left"), text.format_duration(progress.seconds_left))
    cols[3].metric(
        _("Best validation accuracy"),
        f"{best['val_accuracy']:.1%}" if best else "—",
        help=_("epoch {epoch:.0f}").format(epoch=best["epoch"]) if best else None,
    )


def state_messages(run: Run, snapshot: monitor.RunSnapshot, progress: monitor.Progress) -> None:
    if progress.state == RunState.QUEUED:
        st.info(
            _(
                "Waiting for a free core: number {position} in the queue "
                "(at most {max_jobs} runs train at once)."
            ).format(position=queue.queue_position(run), max_jobs=max_jobs())
        )
    elif progress.state == RunState.FAILED:
        kind, check = recorded_failure(snapshot.status)
        error = monitor.failure_text(snapshot)
        st.error(text.failure_sentence(kind, error, check))
        st.caption(text.failure_remedy(kind, check))
        with st.expander(_("The error in full, and the end of the log"), icon=":material/code:"):
            st.code(f"{error or ''}\n\n{snapshot.log_tail}".strip(), language=None)
    elif progress.state == RunState.INTERRUPTED:
        st.warning(
            _(
                "This run's process is gone (killed, or the machine restarted): its heartbeat "
                "stopped. Resume continues from the last complete epoch ({epoch})."
            ).format(epoch=progress.epochs_done)
        )


def actions(run: Run, snapshot: monitor.RunSnapshot) -> None:
    state = snapshot.state
    row = st.container(horizontal=True, vertical_alignment="bottom")
    if state in ACTIVE and row.button(
        _("Stop"),
        icon=":material/stop:",
        key="train_stop",
        help=_("Stops at the next batch; the last complete epoch is kept."),
    ):
        act(queue.stop, run, _("Asked {run} to stop.").format(run=run.name))
    # A failure a resume would repeat (the data is missing, the settings refused) is started
    # again, edited, instead.
    repeats = state == RunState.FAILED and resume_would_repeat_failure(snapshot.status)
    if repeats and row.button(
        _("Edit and start again"),
        icon=":material/edit:",
        key="train_edit_again",
        type="primary",
        help=_("Opens the form above with this run's settings, to change what failed."),
    ):
        st.session_state["train_edit_request"] = run.name
        st.rerun()  # the whole page: the form is outside this fragment
    if (
        state in RESUMABLE_STATES
        and not repeats
        and row.button(
            _("Resume"),
            icon=":material/play_arrow:",
            key="train_resume",
            type="primary",
            help=_("Continues from the last complete epoch, with the same settings."),
        )
    ):
        act(queue.resume, run, _("Resuming {run}.").format(run=run.name))
    if row.button(
        _("Open in Explore"),
        icon=":material/biotech:",
        key="train_explore",
        disabled=not snapshot.has_checkpoint,
        help=_("Look inside this run's model (its last complete epoch)."),
    ):
        models.show_in_explore(run.checkpoint_path)
    if state != RunState.RUNNING:
        row.button(
            _("Delete…"),
            icon=":material/delete:",
            key="train_del",
            on_click=st.session_state.update,
            kwargs={"train_confirm_delete": run.name},
        )
    if state == RunState.COMPLETED:
        trained = int(snapshot.status.get("epochs") or 1)
        more = row.number_input(
            _("Train until epoch"),
            min_value=trained + 1,
            value=trained + 5,
            key=f"train_more_{run.name}",
            width=160,
        )
        if row.button(_("Train further"), key="train_further", icon=":material/add:"):
            act(
                lambda r: queue.resume(r, epochs=int(more)),
                run,
                _("Training {run} further.").format(run=run.name),
            )
    if st.session_state.get("train_confirm_delete") == run.name:
        st.warning(
            _("Delete {run}, its checkpoint, curves and log? This cannot be undone.").format(
                run=run.name
            )
        )
        confirm = st.container(horizontal=True)
        if confirm.button(_("Yes, delete"), type="primary", key="train_del_yes"):
            st.session_state.pop("train_confirm_delete")
            act(queue.delete, run, _("Deleted {run}.").format(run=run.name))
        confirm.button(
            _("Cancel"),
            key="train_del_no",
            on_click=st.session_state.pop,
            args=("train_confirm_delete", None),
        )


def act(action, run: Run, message: str) -> None:
    """Run a queue action; a full rerun then switches the live refresh on or off to match."""
    try:
        action(run)
    except queue.JobError as error:
        flash(str(error), "error")
    else:
        flash(message)
    st.rerun()


def curves_tab(figures: train_figures.LiveFigures) -> None:
    st.plotly_chart(figures.curves, key="train_curves")
    st.plotly_chart(figures.learning_rate, key="train_lr_chart")


def attention_tab(snapshot: monitor.RunSnapshot, figures: train_figures.LiveFigures) -> None:
    if figures.channels is None or figures.histograms is None:
        if snapshot.config and snapshot.config.get("reduction_ratio") is None:
            st.info(_("This model has no SE blocks, so there is no channel attention to show."))
        else:
            st.info(_("The attention maps appear when the first epoch is done."))
        return
    st.markdown(
        _(
            "Each SE block gives every channel a weight between 0 and 1. After each epoch the "
            "trainer measures these weights on the same validation images, so each column below "
            "is one moment of training. **First chart**: the mean weight of every channel (rows, "
            "highest latest weight on top). **Second chart**: how all weights are spread between "
            "0 and 1. A narrow band near 0.5 means the block treats channels alike; a band that "
            "widens means it has learnt to favour some channels and mute others."
        )
    )
    st.plotly_chart(figures.channels, key="train_channels")
    st.plotly_chart(figures.histograms, key="train_hists")


def run_detail(run: Run) -> None:
    snapshot = monitor.read_snapshot(run)
    progress = monitor.live_progress(snapshot)
    title, badge = st.columns([5, 1], vertical_alignment="center")
    title.subheader(run.name, anchor=False)
    with badge:
        state_badge(snapshot.state)
    state_messages(run, snapshot, progress)
    progress_panel(snapshot, progress)
    actions(run, snapshot)
    curves, attention, log, settings = st.tabs(
        [_("Curves"), _("Attention"), _("Log"), _("Settings")]
    )
    figures = train_figures.live_figures(snapshot)
    with curves:
        curves_tab(figures)
    with attention:
        attention_tab(snapshot, figures)
    with log:
        st.code(snapshot.log_tail or _("(the log is empty)"), language=None)
    with settings:
        st.json(snapshot.config or queue.job_spec(run).to_dict(), expanded=1)


def live_section(polling: bool) -> None:
    """The runs table and the chosen run; re-drawn every REFRESH_SECONDS while polling."""
    queue.schedule(root)  # whoever polls moves the queue on
    table = overview.runs_table(root)
    if table.empty:
        st.info(_("No runs yet. Start one above: it trains in the background while you watch."))
    else:
        st.subheader(_("Runs"), anchor=False)
        runs_overview(table)
        chosen = pick_run(table["run"].tolist())
        run_detail(Run(root / chosen))
    if queue.has_active_jobs(root) != polling:
        st.rerun()  # switch the timer on or off: polling stops when nothing runs


st.title(_("Train"))
st.caption(
    _(
        "Train the small CIFAR-10 network with or without Squeeze-and-Excitation and watch its "
        "channel attention form, epoch by epoch. Training runs in a background process: it keeps "
        "going when you close the tab, and every open dashboard sees it."
    )
)
apply_edit_request()
start_form(expanded=not list_runs(root))
show_flash()
is_polling = queue.has_active_jobs(root)
# language.fragment: the timer's reruns of the fragment speak the session's language too.
language.fragment(run_every=REFRESH_SECONDS if is_polling else None)(live_section)(is_polling)
