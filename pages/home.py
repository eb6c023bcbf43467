"""Home: what the dashboard shows and how channel attention works, in plain words."""

from __future__ import annotations

import streamlit as st
from PIL import Image

from pages.ui import examples, models, text
from pages.ui.routing import COMPARE_PAGE, EXPLORE_PAGE, TRAIN_PAGE, run_through_dashboard
from seattn.analysis.explore import ToySE, toy_se_example
from seattn.analysis.schematic import model_se_example
from seattn.data.examples import sample_pool
from seattn.figures import explore as figures
from seattn.i18n import _, active_language

run_through_dashboard()


@st.cache_data(max_entries=8, show_spinner=False)
def schematic(model_path: str, mtime_ns: int, language: str) -> tuple[ToySE | None, str, str]:
    """(block 1 of the model on the first sample picture, its class, its file name)."""
    # mtime_ns is only part of the key: a checkpoint rewritten in place is drawn afresh.
    # language too: the channels' names are words of the session's language.
    model, _config = models.load_model(model_path)
    pool = sample_pool()
    class_name = pool.classes[0]
    path = pool.files[class_name][0]
    with Image.open(path) as picture:
        return model_se_example(model, picture.convert("RGB")), class_name, path.name


st.title(_("Channel attention, made visible"))
st.markdown(
    _(
        "This dashboard looks inside a small image-recognition network, the kind that tells a cat "
        "from a truck in tiny 32×32 photos (the CIFAR-10 collection). The network has a helper "
        "called **Squeeze-and-Excitation (SE)**: after each stage it decides which of its "
        "*channels*, its little pattern detectors, matter for the picture in front of it, and "
        "turns the others down. Here you can watch it do that, picture by picture."
    )
)

loaded = models.current_model()
pool = examples.example_pool(loaded.config if loaded else None)
has_examples = not isinstance(pool, str)

try_column, text_column = st.columns([1, 3], vertical_alignment="center")
if try_column.button(_("Try it"), type="primary", width="stretch"):
    if has_examples:
        examples.request_examples()
    st.switch_page(EXPLORE_PAGE)
if loaded is None:
    text_column.markdown(
        _(
            "No trained network is available yet: **Try it** explains how to add one (upload a "
            "checkpoint, or train one on the **Train** page)."
        )
    )
elif has_examples:
    text_column.markdown(
        _(
            "Opens **Explore** with one example picture per class, run through "
            "**{model}**. You can also upload your own pictures there."
        ).format(model=loaded.label)
    )
else:
    text_column.markdown(
        _(
            "Opens **Explore**, where you upload your own pictures and see what **{model}** "
            "does with them."
        ).format(model=loaded.label)
    )

st.header(_("What channel attention does"))
st.markdown(
    _(
        "Inside the network, every stage turns the picture into a stack of **feature maps**, one "
        "per channel. Each channel responds to one kind of pattern, such as an edge, a colour or "
        "a texture, and its map is bright where that pattern appears. An SE block then works in "
        "three steps:"
    )
)
example, caption = None, _(text.TOY_SCHEMATIC_CAPTION)
if loaded is not None:
    path = loaded.entry.path.resolve()
    example, class_name, file_name = schematic(
        str(path), path.stat().st_mtime_ns, active_language()
    )
    if example is not None:
        caption = text.schematic_caption(loaded.label, class_name, example.weights)
st.plotly_chart(
    figures.se_schematic(example or toy_se_example()),
    key="home_schematic",
    config={"displayModeBar": False, "staticPlot": True},
)
st.caption(caption)
squeeze, excite, scale = st.columns(3)
squeeze.markdown(
    _(
        "**1 · Squeeze.** Each map is summed up in one number, its average brightness: "
        "*how much of this pattern is in the picture overall?*"
    )
)
excite.markdown(
    _(
        "**2 · Excitation.** A tiny network reads all those numbers together and gives every "
        "channel a **weight between 0 and 1**: *given everything I see, how useful is this "
        "channel here?*"
    )
)
scale.markdown(
    _(
        "**3 · Scale.** Every map is multiplied by its weight. Near 1 the channel passes through "
        "unchanged, near 0 it is almost switched off. The next stage sees the re-weighted maps."
    )
)
st.markdown(
    _(
        "The *reduction ratio* **r** is how much the tiny network squeezes its inner layer: r=16 "
        "means 16 times fewer neurons than channels. A larger r is cheaper but coarser. The "
        "network *without* SE is the baseline every SE version is compared with."
    )
)

st.header(_("How to read the Explore page"))
st.markdown(
    _(
        "- **Prediction**: the five classes the network finds most likely, with their "
        "probabilities.\n"
        "- **Channel weights** (one bar per channel): tall bars are channels the SE block keeps "
        "for this picture, short bars are channels it turns down. Orange marks the channels shown "
        "below. Hover a bar for the channel number and its exact weight.\n"
        "- **Summary numbers**: the average weight, how spread out the weights are, and "
        "*evenness* (1.0 means every channel is treated alike; lower means SE picks favourites).\n"
        "- **Feature maps before and after SE**: each small square is one channel's map of your "
        "picture; bright means a strong response. Both grids use the same colours, so a channel SE "
        "turned down looks darker *after*. The pattern never changes, only its strength: that is "
        "all SE does.\n"
        "- **Several pictures**: a grid of pictures × channels shows which channels wake up for "
        "which picture; a cat and a truck usually light up different columns."
    )
)

st.header(_("The pages"))
st.page_link(
    EXPLORE_PAGE,
    label=_("Explore: your pictures, inside the network"),
    icon=":material/biotech:",
)
st.page_link(
    TRAIN_PAGE,
    label=_("Train: teach a network yourself and watch it learn"),
    icon=":material/model_training:",
)
st.page_link(
    COMPARE_PAGE,
    label=_("Compare: how the reduction ratio changes things"),
    icon=":material/compare_arrows:",
)
st.caption(
    _(
        "Choose which trained network to look inside in the sidebar; the choice applies to "
        "every page."
    )
)
