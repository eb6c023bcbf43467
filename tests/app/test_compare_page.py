"""The Compare page through Streamlit's AppTest, on small runs made by the real trainer.

The runs and the zoo come from tests.helpers_compare.comparison_store (trained once per session);
SEATTN_RUNS_DIR and SEATTN_ZOO_DIR point the page at them, so no shipped model is ever read.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from seattn.analysis.compare import speed
from seattn.model.attention import AttentionKind
from seattn.model.checkpoints import load_model
from seattn.model.cnn import count_attention_parameters, count_parameters
from seattn.training import queue as jobs
from seattn.training.runfiles import Run
from seattn.training.sweep import sweep_run_name
from tests.helpers import PROJECT_ROOT, button, chart_keys

PAGE = str(PROJECT_ROOT / "pages" / "compare.py")


def open_compare(store: dict[str, Path], monkeypatch) -> AppTest:
    monkeypatch.setenv("SEATTN_RUNS_DIR", str(store["runs"]))
    monkeypatch.setenv("SEATTN_ZOO_DIR", str(store["zoo"]))
    monkeypatch.setenv("SEATTN_DATA_DIR", str(store["data"]))
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def page(store, monkeypatch) -> AppTest:
    return open_compare(store, monkeypatch)


def frame_with(at: AppTest, column: str) -> pd.DataFrame:
    frames = [d.value for d in at.dataframe if column in d.value.columns]
    assert frames, f"no table with a {column!r} column"
    return frames[0]


def texts(at: AppTest) -> str:
    parts = []
    for kind in ("markdown", "caption", "info", "success", "warning", "error"):
        parts += [str(element.value) for element in getattr(at, kind)]
    return "\n".join(parts)


def test_the_table_shows_the_runs_metrics_and_the_models_parameter_counts(page, store):
    table = frame_with(page, "attention parameters").set_index("variant")
    assert table.index.tolist() == ["no SE", "r=4", "r=8"]
    for ratio in (None, 8):
        run = Run(store["runs"] / sweep_run_name(ratio, 0, 1))
        metrics = run.read_metrics()
        model, _ = load_model(run.checkpoint_path)
        row = table.loc["no SE" if ratio is None else f"r={ratio}"]
        assert row["seeds"] == 1
        assert row["best val accuracy"] == pytest.approx(metrics["val_accuracy"].max())
        assert row["final val accuracy"] == pytest.approx(metrics["val_accuracy"].iloc[-1])
        assert row["final val loss"] == pytest.approx(metrics["val_loss"].iloc[-1])
        assert row["training seconds"] == pytest.approx(metrics["epoch_seconds"].sum())
        assert row["images per second"] == pytest.approx(metrics["images_per_second"].mean())
        assert row["parameters"] == count_parameters(model)
        assert row["attention parameters"] == count_attention_parameters(model)
    # r=4: the run (seed 0), the bundled model (seed 1) and its metrics-only seed 2.
    r4 = table.loc["r=4"]
    assert r4["seeds"] == 3 and r4["seed list"] == "0, 1, 2"
    # the best accuracy beside the variant; hidden widths in one column, "–" rather than empty
    assert list(table.reset_index().columns[:3]) == [
        "variant",
        "best val accuracy",
        "best val accuracy std",
    ]
    assert r4["hidden widths (blocks 1 · 2 · 3)"] == "8 · 16 · 32"
    assert table.loc["no SE", "hidden widths (blocks 1 · 2 · 3)"] == "–"
    models = frame_with(page, "source")
    accuracies = models.loc[models["variant"] == "r=4", "best val accuracy"]
    assert r4["best val accuracy"] == pytest.approx(accuracies.mean())
    assert r4["best val accuracy std"] == pytest.approx(accuracies.std())
    assert [b.label for b in page.get("download_button")] == ["Download the table (CSV)"]


def test_runs_on_other_data_are_a_group_of_their_own(page, store):
    groups = frame_with(page, "variants")
    assert groups["models"].tolist() == [5, 1]
    assert "fingerprint" not in groups.columns  # a hash means nothing to most readers
    assert len(set(groups["group"])) == 2
    page.selectbox(key="compare_group").select_index(1).run()
    assert not page.exception, page.exception
    table = frame_with(page, "attention parameters")
    assert table["variant"].tolist() == ["r=4"] and table["seeds"].tolist() == [1]
    metrics = Run(store["runs"] / "other-data-r4").read_metrics()
    assert table["best val accuracy"].iloc[0] == pytest.approx(metrics["val_accuracy"].max())


def open_tab(page: AppTest, name: str) -> AppTest:
    page.session_state["compare_tab"] = name
    page.run()
    assert not page.exception, page.exception
    return page


def test_only_the_open_tab_is_drawn_and_each_tab_draws_its_charts(page):
    # The table first: no chart, no validation image read, no model run.
    assert chart_keys(page) == []
    assert chart_keys(open_tab(page, "Charts")) == [
        "compare_accuracy",
        "compare_parameters",
        "compare_curves",
    ]
    # Attention statistics, CKA; one image's weights, correlation.
    assert chart_keys(open_tab(page, "Attention")) == ["compare_attention", "compare_cka"]
    statistics = frame_with(page, "entropy")
    assert set(statistics["variant"]) == {"r=4", "r=8"}
    open_tab(page, "One image, every ratio")
    assert chart_keys(page) == ["compare_image_weights", "compare_image_correlation"]
    predictions = frame_with(page, "prediction")
    assert predictions["variant"].tolist() == ["no SE", "r=4", "r=8"]
    page.slider(key="compare_image").set_value(3).run()
    assert not page.exception, page.exception
    assert "(C of them, whatever its hidden width)" in texts(page)


def test_a_sweep_is_queued_through_the_job_queue(page, monkeypatch, image_folder):
    started = []

    def fake_start(spec, *, root, name, max_jobs=None):
        started.append((name, spec.reduction_ratio, spec.seed, spec.epochs, spec.data))
        return Run(Path(root) / name)

    monkeypatch.setattr(jobs, "start", fake_start)
    page.radio(key="compare_data").set_value("An image folder")
    page.text_input(key="compare_folder").set_value(str(image_folder))
    page.multiselect(key="compare_ratios").set_value([None, 16])
    page.text_input(key="compare_seeds").set_value("0-1")
    page.number_input(key="compare_epochs").set_value(2)
    button(page, "Start the sweep").click().run()
    assert not page.exception, page.exception
    assert sorted(started) == sorted(
        (sweep_run_name(ratio, seed, 2), ratio, seed, 2, str(image_folder.resolve()))
        for ratio in (None, 16)
        for seed in (0, 1)
    )
    assert "Sweep: started 4." in texts(page)


def test_bad_seeds_are_refused_with_a_reason(page, monkeypatch):
    monkeypatch.setattr(jobs, "start", lambda *a, **k: pytest.fail("nothing may start"))
    page.text_input(key="compare_seeds").set_value("one")
    button(page, "Start the sweep").click().run()
    assert [e.value for e in page.error] == [
        "seeds must be whole numbers like 0, 1, 2 or 0-2; got 'one'"
    ]


def test_with_nothing_to_compare_the_page_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("SEATTN_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("SEATTN_ZOO_DIR", str(tmp_path / "zoo"))
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert "Nothing to compare yet" in texts(at)
    assert [e.label for e in at.expander] == ["Train a sweep of ratios"]


def test_the_depth_tab_measures_the_groups_models_on_request_and_draws_them_side_by_side(
    page, store, monkeypatch, tmp_path
):
    monkeypatch.setenv("SEATTN_DATA_DIR", str(tmp_path / "data"))  # no atlas from other tests
    page.session_state["compare_tab"] = "Across depth (atlas)"
    page.run()
    assert not page.exception, page.exception
    assert "compare_depth_chart" in chart_keys(page)
    button(page, next(b.label for b in page.button if b.label.startswith("Measure the"))).click()
    page.run()
    for _ in range(240):  # the builds run one after another beside the page
        if not any(b.label.startswith("Measure the") for b in page.button) and not page.get(
            "progress"
        ):
            break
        page.run()
    chart = next(c for c in page.get("plotly_chart") if c.key == "compare_depth_chart")
    names = {trace["name"] for trace in json.loads(chart.proto.spec)["data"]}
    assert any(name.startswith("r=4") for name in names), names
    assert any(name.startswith("r=8") for name in names), names


def test_a_sweep_on_an_empty_folder_is_refused_in_the_forms_words(page, monkeypatch, tmp_path):
    monkeypatch.setattr(jobs, "start", lambda *a, **k: pytest.fail("nothing may start"))
    (tmp_path / "empty" / "cat").mkdir(parents=True)
    page.radio(key="compare_data").set_value("An image folder")
    page.text_input(key="compare_folder").set_value(str(tmp_path / "empty"))
    button(page, "Start the sweep").click().run()
    assert not page.exception, page.exception
    (message,) = [e.value for e in page.error]
    assert "--data" not in message and "Traceback" not in message
    assert "image" in message.lower()


def test_one_image_every_ratio_uses_the_sample_pictures_when_the_images_are_not_here(
    page, store, monkeypatch, image_folder
):
    from seattn.data.examples import sample_image_set

    monkeypatch.setenv("SEATTN_DATA", str(store["data"] / "not-here"))  # a key of its own
    hidden = image_folder.with_name(image_folder.name + "-hidden")
    image_folder.rename(hidden)
    try:
        open_tab(page, "One image, every ratio")
    finally:
        hidden.rename(image_folder)
    assert "sample pictures that come with seattn" in texts(page)
    assert chart_keys(page) == ["compare_image_weights", "compare_image_correlation"]
    assert page.slider(key="compare_image").max == len(sample_image_set()) - 1


@pytest.fixture
def kinds_page(kinds_store, monkeypatch) -> AppTest:
    """The Compare page over the SE ratios with an ECA and a CBAM run of the same recipe."""
    return open_compare(kinds_store, monkeypatch)


def test_eca_and_cbam_sit_beside_the_ratios_with_their_own_numbers(kinds_page, kinds_store):
    groups = frame_with(kinds_page, "variants")
    assert groups["variants"].tolist()[0] == "no SE, r=4, r=8, ECA, CBAM r=4"
    table = frame_with(kinds_page, "attention parameters").set_index("variant")
    assert table.index.tolist() == ["no SE", "r=4", "r=8", "ECA", "CBAM r=4"]
    for variant, kind, ratio in (("ECA", "eca", None), ("CBAM r=4", "cbam", 4)):
        run = Run(kinds_store["runs"] / sweep_run_name(ratio, 0, 1, attention=kind))
        model, _ = load_model(run.checkpoint_path)
        row = table.loc[variant]
        assert row["seeds"] == 1
        assert row["best val accuracy"] == pytest.approx(run.read_metrics()["val_accuracy"].max())
        assert row["parameters"] == count_parameters(model)
        assert row["attention parameters"] == count_attention_parameters(model)
    assert table.loc["ECA", "hidden widths (blocks 1 · 2 · 3)"] == "–"
    assert table.loc["CBAM r=4", "hidden widths (blocks 1 · 2 · 3)"] == "8 · 16 · 32"
    # The CSV keeps the English identities: the module beside the ratio.
    (download,) = kinds_page.get("download_button")
    assert download.label == "Download the table (CSV)"


def test_the_step_time_is_measured_only_when_its_tab_is_opened(kinds_page, monkeypatch):
    timed = []

    def fake(attention, ratio, *, batch_size, **options):
        timed.append((attention, ratio, batch_size))
        return 0.01 * (1 + len(timed))

    monkeypatch.setattr(speed, "training_step_seconds", fake)
    kinds_page.run()  # the table again: nothing timed
    assert timed == [] and "compare_step_time" not in chart_keys(kinds_page)
    open_tab(kinds_page, "Time per step")
    assert timed == [
        (AttentionKind.NONE, None, 16),
        (AttentionKind.SE, 4, 16),
        (AttentionKind.SE, 8, 16),
        (AttentionKind.ECA, None, 16),
        (AttentionKind.CBAM, 4, 16),
    ]
    assert chart_keys(kinds_page) == ["compare_step_time"]
    times = frame_with(kinds_page, "ms per step")
    assert times["variant"].tolist() == ["no SE", "r=4", "r=8", "ECA", "CBAM r=4"]
    assert times["ms per step"].tolist() == pytest.approx([20, 30, 40, 50, 60])
    assert "on this machine's CPU" in texts(kinds_page)


def test_the_step_time_tab_times_real_steps(page):
    speed.training_step_seconds.cache_clear()
    open_tab(page, "Time per step")
    times = frame_with(page, "ms per step")
    assert times["variant"].tolist() == ["no SE", "r=4", "r=8"]
    assert (times["ms per step"] > 0).all() and (times["batch size"] == 16).all()
    assert speed.training_step_seconds.cache_info().misses == 3
    open_tab(page, "Time per step")  # once per process: shown again, not timed again
    assert speed.training_step_seconds.cache_info().misses == 3


def test_the_depth_tab_offers_to_measure_eca_and_cbam_too(kinds_page, monkeypatch, tmp_path):
    monkeypatch.setenv("SEATTN_DATA_DIR", str(tmp_path / "data"))  # no atlas from other tests
    open_tab(kinds_page, "Across depth (atlas)")
    (note,) = [c.value for c in kinds_page.caption if c.value.startswith("Not measured yet")]
    for variant in ("r=4", "r=8", "ECA", "CBAM r=4"):
        assert variant in note
    assert "no SE" not in note  # nothing to measure without attention
    assert any(b.label == "Measure the 5 models not measured yet" for b in kinds_page.button)


def test_a_sweep_of_attention_modules_is_queued_with_their_names(page, monkeypatch, image_folder):
    started = []

    def fake_start(spec, *, root, name, max_jobs=None):
        started.append((name, spec.attention_kind, spec.reduction_ratio))
        return Run(Path(root) / name)

    monkeypatch.setattr(jobs, "start", fake_start)
    page.radio(key="compare_data").set_value("An image folder")
    page.text_input(key="compare_folder").set_value(str(image_folder))
    page.multiselect(key="compare_ratios").set_value([None, 16])
    assert page.multiselect(key="compare_attentions").value == [AttentionKind.SE]
    page.multiselect(key="compare_attentions").set_value([AttentionKind.ECA, AttentionKind.CBAM])
    page.number_input(key="compare_epochs").set_value(2)
    button(page, "Start the sweep").click().run()
    assert not page.exception, page.exception
    assert started == [
        ("sweep-eca-seed0-e2", "eca", None),
        ("sweep-no-SE-seed0-e2", "none", None),
        ("sweep-cbam-r16-seed0-e2", "cbam", 16),
    ]
    assert "Sweep: started 3." in texts(page)
