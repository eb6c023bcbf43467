"""AppTest tests of the Explore and Home pages and the sidebar model picker.

The app runs in-process against a temporary zoo folder (SEATTN_ZOO_DIR) holding a network trained
for one epoch on the generated images, so nothing depends on the shipped models.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from PIL import Image
from streamlit.testing.v1 import AppTest

from pages.ui import text
from seattn.analysis import explore, whatif
from seattn.analysis.atlas import open_atlas
from seattn.model.checkpoints import load_model, save_checkpoint
from seattn.model.cnn import SECNN
from seattn.training.engine import train
from seattn.training.spec import TrainSpec
from tests.helpers import (
    PROJECT_ROOT,
    button,
    chart_keys,
    make_class_image,
    write_checkpoint,
    write_image_folder,
)

APP = str(PROJECT_ROOT / "dashboard.py")
EXPLORE = "pages/explore.py"
MODEL_KEY = "seattn_model_key"


@pytest.fixture(scope="module")
def trained_checkpoint(image_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("app-explore")
    config = TrainSpec(
        data=str(image_folder), reduction_ratio=4, epochs=1, batch_size=16, val_fraction=0.25
    )
    train(config, root / "run", data_dir=root / "data")
    return root / "run" / "checkpoint.pt"


@pytest.fixture
def zoo_folder(trained_checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A zoo with the trained r=4 network as the default model and a network without SE."""
    folder = tmp_path / "zoo"
    folder.mkdir()
    shutil.copy(trained_checkpoint, folder / "se-r16.pt")
    classes = load_model(trained_checkpoint)[1]["classes"]
    baseline = SECNN(reduction_ratio=None, num_classes=len(classes))
    save_checkpoint(
        folder / "no-se.pt",
        {
            "config": {"reduction_ratio": None, "classes": classes},
            "model_state": baseline.state_dict(),
        },
    )
    monkeypatch.setenv("SEATTN_ZOO_DIR", str(folder))
    monkeypatch.delenv("SEATTN_DATA", raising=False)
    return folder


def explore_app() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120)
    app.run()
    app.switch_page(EXPLORE)
    app.run()
    assert not app.exception
    return app


def encode(image: Image.Image, file_format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, file_format, **options)
    return buffer.getvalue()


def chart(app: AppTest, key: str) -> dict:
    """The plotly spec of the chart drawn with ``key``."""
    (found,) = [c for c in app.get("plotly_chart") if c.key == key]
    return json.loads(found.proto.spec)


def says(elements: object, words: str) -> bool:
    """Whether one of these message elements (info, warning, caption...) contains ``words``."""
    return any(words in str(element.value) for element in elements)


def expected_prediction(checkpoint: Path, image: Image.Image) -> str:
    model, config = load_model(checkpoint)
    analysis = explore.analyse(model, config["classes"], [image], ["x"])
    return analysis.top_k(1)[0][0][0]


def test_without_any_model_the_page_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEATTN_ZOO_DIR", str(tmp_path / "empty-zoo"))
    monkeypatch.delenv("SEATTN_DATA", raising=False)
    app = AppTest.from_file(APP, default_timeout=120)
    app.run()
    assert not app.exception
    assert says(app.sidebar.info, "No model yet")
    app.switch_page(EXPLORE)
    app.run()
    assert not app.exception
    assert says(app.warning, "upload a checkpoint") and says(app.warning, "train one")
    assert not app.get("plotly_chart")


def test_uploads_show_the_prediction_and_the_charts_of_every_block(
    zoo_folder: Path, image_folder: Path
) -> None:
    real = Image.open(image_folder / "stripes" / "0000.png").convert("RGB")
    photo = Image.fromarray(np.random.default_rng(0).integers(0, 256, (300, 200, 3), np.uint8))
    app = explore_app()
    assert says(app.caption, f"{st.get_option('server.maxUploadSize')} MB")
    app.file_uploader(key="explore_uploads").set_value(
        [
            ("stripes.png", encode(real, "PNG"), "image/png"),
            ("photo.jpg", encode(photo, "JPEG"), "image/jpeg"),
        ]
    ).run()
    assert not app.exception and not app.error

    predicted = expected_prediction(zoo_folder / "se-r16.pt", real)
    headline = f"#1 stripes.png: the network says **{predicted}**"
    assert any(h.value.startswith(headline) for h in app.subheader)
    chooser = app.segmented_control(key="explore_block")
    assert [option.split(" · ")[0] for option in chooser.options] == [
        "Block 1",
        "Block 2",
        "Block 3",
    ]
    for block in ("block1", "block2", "block3"):
        app.segmented_control(key="explore_block").set_value(block).run()
        assert not app.exception
        # The chosen block's weight bars, its before/after grid, its Grad-CAM and (two images)
        # the images x channels matrix; and the prediction above them.
        assert chart_keys(app) == ["explore_prediction"] + [
            f"explore_{chart}_{block}" for chart in ("bars", "maps", "gradcam", "matrix")
        ]
        maps = chart(app, f"explore_maps_{block}")
        assert [t["type"] for t in maps["data"]] == ["heatmap", "heatmap"]
        assert len(chart(app, f"explore_matrix_{block}")["data"][0]["y"]) == 2
    assert [b.label for b in app.get("download_button")] == [
        "Channel weights (CSV)",
        "Predictions (JSON)",
    ]

    # Display options: all channels, with what SE removed, and a zoom into one channel.
    app.segmented_control(key="explore_block").set_value("block1").run()
    app.session_state["explore_channels"] = "all"
    app.toggle(key="explore_difference").set_value(True).run()
    grid = chart(app, "explore_maps_block1")
    assert [a["text"] for a in grid["layout"]["annotations"]][2].startswith("<b>Removed")
    app.selectbox(key="explore_zoom_block1").set_value(5).run()
    assert not app.exception
    assert "explore_zoom_chart_block1" in chart_keys(app)


def test_only_the_chosen_blocks_charts_are_drawn(zoo_folder: Path) -> None:
    app = with_one_upload()
    # The default view: block 1 alone, however many blocks the network has.
    assert app.segmented_control(key="explore_block").value == "block1"
    assert chart_keys(app) == [
        "explore_prediction",
        "explore_bars_block1",
        "explore_maps_block1",
        "explore_gradcam_block1",
    ]
    assert not app.tabs
    app.selectbox(key="explore_zoom_block1").select_index(1).run()  # the strongest channel
    assert chart_keys(app)[-2:] == ["explore_zoom_chart_block1", "explore_gradcam_block1"]

    app.segmented_control(key="explore_block").set_value("block2").run()
    assert not app.exception
    assert chart_keys(app) == [
        "explore_prediction",
        "explore_bars_block2",
        "explore_maps_block2",
        "explore_gradcam_block2",
    ]
    bars = chart(app, "explore_bars_block2")
    assert sum(len(trace["x"]) for trace in bars["data"]) == 64  # block 2's channels


def test_the_k_slider_runs_to_the_blocks_channels_and_all_needs_none(zoo_folder: Path) -> None:
    app = with_one_upload()
    slider = app.slider(key="explore_k")
    assert (slider.value, slider.proto.min, slider.proto.max) == (16, 1, 32)
    assert highlight_name(app, "explore_bars_block1") == "16 strongest"

    app.segmented_control(key="explore_block").set_value("block3").run()
    assert app.slider(key="explore_k").proto.max == 128
    app.slider(key="explore_k").set_value(100).run()
    assert highlight_name(app, "explore_bars_block3") == "100 strongest"

    # "All" maps: no k to choose, and the bars do not pretend to show the k strongest.
    app.segmented_control(key="explore_channels").set_value("all").run()
    assert not app.exception
    assert not [s for s in app.slider if s.key == "explore_k"]
    assert highlight_name(app, "explore_bars_block3") == "128 channels, all shown"
    assert not says(app.markdown, "strongest")

    # Back to the strongest: k is still 100, then clamped to block 1's 32 channels.
    app.segmented_control(key="explore_channels").set_value("top").run()
    assert app.slider(key="explore_k").value == 100
    app.segmented_control(key="explore_block").set_value("block1").run()
    assert not app.exception
    assert app.slider(key="explore_k").value == 32
    assert highlight_name(app, "explore_bars_block1") == "32 strongest"


def test_every_blocks_bars_carry_channel_numbers(zoo_folder: Path) -> None:
    app = with_one_upload()
    for block, channels, every in (("block1", 32, 1), ("block2", 64, 2), ("block3", 128, 4)):
        app.segmented_control(key="explore_block").set_value(block).run()
        axis = chart(app, f"explore_bars_{block}")["layout"]["xaxis"]
        assert axis.get("showticklabels", True) is not False
        assert axis["tickvals"] == axis["categoryarray"][::every]
        assert len(axis["categoryarray"]) == channels


def test_same_file_names_are_numbered_as_the_gallery_shows_them(zoo_folder: Path) -> None:
    rng = np.random.default_rng(3)
    pictures = [Image.fromarray(rng.integers(0, 256, (40, 40, 3), np.uint8)) for _ in range(3)]
    app = explore_app()
    app.file_uploader(key="explore_uploads").set_value(
        [
            (name, encode(p, "JPEG"), "image/jpeg")
            for name, p in zip(("0000.jpg", "0000.jpg", "0001.jpg"), pictures, strict=True)
        ]
    ).run()
    assert not app.exception and not app.error
    numbered = ["#1 0000.jpg", "#2 0000.jpg", "#3 0001.jpg"]
    gallery = [caption for image in app.image for caption in image.captions]
    assert [caption.split(" → ")[0] for caption in gallery[:3]] == numbered
    assert app.selectbox(key="explore_image").options == numbered
    assert chart(app, "explore_matrix_block1")["data"][0]["y"] == numbered
    app.selectbox(key="explore_image").set_value(1).run()
    assert any(h.value.startswith("#2 0000.jpg: the network says") for h in app.subheader)
    assert chart(app, "explore_bars_block1")["layout"]["title"]["text"].endswith("#2 0000.jpg")


def test_a_picture_mostly_cut_away_or_far_too_small_says_what_was_used(zoo_folder: Path) -> None:
    rng = np.random.default_rng(4)
    strip = Image.fromarray(rng.integers(0, 256, (100, 5000, 3), np.uint8))
    photo = Image.fromarray(rng.integers(0, 256, (48, 64, 3), np.uint8))
    app = explore_app()
    app.file_uploader(key="explore_uploads").set_value(
        [
            ("strip.png", encode(strip, "PNG"), "image/png"),
            ("dot.png", encode(Image.new("RGB", (1, 1), "red"), "PNG"), "image/png"),
            ("photo.png", encode(photo, "PNG"), "image/png"),
        ]
    ).run()
    assert not app.exception and not app.error
    gallery = [caption for image in app.image for caption in image.captions]
    assert gallery[0].endswith("2% used") and gallery[1].endswith("only 1×1 px")
    assert "⚠" not in gallery[2]  # three quarters of a 64×48 photo: nothing to say

    (remark,) = app.warning
    assert "Only 2% of this picture is used" in remark.value and "5000×100" in remark.value
    app.selectbox(key="explore_image").set_value(1).run()
    (remark,) = app.warning
    assert "only 1×1 pixels" in remark.value and "a single pixel" in remark.value
    app.selectbox(key="explore_image").set_value(2).run()
    assert not app.warning


def test_each_bad_file_gets_one_error_and_the_good_ones_are_still_shown(zoo_folder: Path) -> None:
    good = Image.new("RGB", (40, 30), "orange")
    frames = [Image.new("RGB", (32, 32), colour) for colour in ("red", "green", "blue")]
    animated = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    bomb = encode(Image.new("1", (8000, 6000)), "PNG")  # 48 megapixels in a few kilobytes
    app = explore_app()
    app.file_uploader(key="explore_uploads").set_value(
        [
            ("good.png", encode(good, "PNG"), "image/png"),
            ("notes.png", b"this is not an image", "image/png"),
            ("empty.png", b"", "image/png"),
            ("cut.png", encode(good, "PNG")[:60], "image/png"),
            ("bomb.png", bomb, "image/png"),
            ("moving.gif", animated, "image/gif"),
        ]
    ).run()
    assert not app.exception
    errors = [error.value for error in app.error]
    assert len(errors) == 4
    for name in ("notes.png", "empty.png", "cut.png", "bomb.png"):
        assert sum(name in error for error in errors) == 1
    assert "megapixel" in next(e for e in errors if "bomb.png" in e)
    names = app.selectbox(key="explore_image").options
    assert names == ["#1 good.png", "#2 moving.gif"]
    app.selectbox(key="explore_image").set_value(1).run()
    assert says(app.info, "first of 3 frames")


def test_a_camera_photo_is_checked_and_analysed_like_an_upload(
    zoo_folder: Path, trained_checkpoint: Path
) -> None:
    app = explore_app()
    assert not app.camera_input, "the camera is asked for only when switched on"
    app.toggle(key="explore_use_camera").set_value(True).run()
    jpeg = encode(make_class_image(1, np.random.default_rng(5), size=240), "JPEG")
    app.camera_input(key="explore_camera").upload("image.jpg", jpeg).run()
    assert not app.exception
    expected = expected_prediction(trained_checkpoint, Image.open(io.BytesIO(jpeg)).convert("RGB"))
    (heading,) = [h.value for h in app.subheader if "the network says" in h.value]
    assert heading.startswith("#1 camera photo: the network says")
    assert f"**{expected}**" in heading
    assert "explore_prediction" in chart_keys(app)

    # What is not a picture gets the upload's message, naming the problem; the page stays up.
    app.camera_input(key="explore_camera").upload("image.jpg", b"\xff\xd8 cut short").run()
    assert not app.exception
    assert len(app.error) == 1 and "camera photo" in app.error[0].value
    assert says(app.info, "Add a picture above")


def test_dataset_examples_one_per_class_and_another_one(
    zoo_folder: Path, image_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = explore_app()
    app.toggle(key="explore_examples").set_value(True).run()
    # SEATTN_DATA unset: the held-out images of the folder the model was trained on.
    assert not app.exception and says(app.caption, f"of `{image_folder}`")

    monkeypatch.setenv("SEATTN_DATA", str(image_folder))
    app.run()
    assert not app.exception and not app.error
    picked = app.selectbox(key="explore_image").options
    assert [name.split(" · ")[0] for name in picked] == ["#1 circle", "#2 square", "#3 stripes"]
    prediction = chart(app, "explore_prediction")
    assert any(label.endswith("✓") for label in prediction["data"][0]["y"])  # the true class
    app.button(key="explore_another").click().run()
    assert app.selectbox(key="explore_image").options != picked


def test_a_model_without_se_still_predicts_and_says_why_nothing_else(zoo_folder: Path) -> None:
    app = explore_app()
    # AppTest (Streamlit 1.67) drops the entry script's sidebar from the element tree after
    # switch_page(), though the browser shows it; the picker's state is set directly instead.
    app.session_state[MODEL_KEY] = "bundled:no-se"
    app.run()
    image = encode(Image.new("RGB", (32, 32), "navy"), "PNG")
    app.file_uploader(key="explore_uploads").set_value(("navy.png", image, "image/png")).run()
    assert not app.exception
    assert says(app.info, "has no SE blocks")
    assert chart_keys(app) == ["explore_prediction"]
    assert not [control for control in app.segmented_control if control.key == "explore_block"]


def test_home_try_it_opens_explore_with_examples(
    zoo_folder: Path, image_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEATTN_DATA", str(image_folder))
    app = AppTest.from_file(APP, default_timeout=120)
    app.run()
    assert not app.exception
    assert chart_keys(app) == ["home_schematic"]  # the squeeze-excitation-scale illustration
    button(app, "Try it").click().run()
    assert not app.exception
    assert [title.value for title in app.title] == ["Explore"]
    assert app.toggle(key="explore_examples").value is True
    assert len(app.selectbox(key="explore_image").options) == 3


def test_checkpoint_upload_in_the_sidebar_is_vetted_then_selected(
    zoo_folder: Path, trained_checkpoint: Path
) -> None:
    app = AppTest.from_file(APP, default_timeout=120)
    app.run()
    # With a pages/ folder AppTest runs the page file alone from the second run on, under other
    # widget ids than the first run's: interact from the second run's tree.
    app.run()
    uploader = app.file_uploader(key="seattn_checkpoint_upload")
    uploader.set_value(("junk.pt", b"not a checkpoint at all", "application/octet-stream")).run()
    assert not app.exception
    assert [e.value.split(":")[0] for e in app.sidebar.error] == ["Not used"]
    assert says(app.sidebar.error, "Not used: junk.pt")

    data = trained_checkpoint.read_bytes()
    uploader = app.file_uploader(key="seattn_checkpoint_upload")
    uploader.set_value(("mine.pt", data, "application/octet-stream")).run()
    assert not app.exception and not app.sidebar.error
    picker = app.selectbox(key=MODEL_KEY)
    assert picker.value.startswith("upload:")
    assert "mine.pt (uploaded, SE r=4)" in picker.format_func(picker.value)


# -- the data set behind the bars, and what-if ------------------------------------------------


def with_one_upload(colour: str = "orange") -> AppTest:
    app = explore_app()
    image = encode(Image.new("RGB", (32, 32), colour), "PNG")
    app.file_uploader(key="explore_uploads").set_value(("one.png", image, "image/png")).run()
    assert not app.exception and not app.error
    return app


def reference_traces(app: AppTest, key: str) -> list[dict]:
    return [trace for trace in chart(app, key)["data"] if trace["type"] == "scatter"]


def highlight_name(app: AppTest, key: str) -> str:
    """The legend name of the coloured bars of the weight chart drawn with ``key``."""
    return chart(app, key)["data"][0]["name"]


def test_the_what_if_panel_changes_the_prediction_shown(zoo_folder: Path) -> None:
    app = with_one_upload()
    assert "What if…?" in [h.value for h in app.subheader]
    assert says(app.info, "Nothing is changed yet")
    assert not [key for key in chart_keys(app) if key.startswith("explore_whatif")]
    modes = app.selectbox(key="explore_whatif_mode_block1")
    assert modes.options == ["As trained", "SE off (every weight 1)"]  # no atlas: no freezing

    modes.set_value("off")
    app.multiselect(key="explore_whatif_mute_block2").set_value([0, 1])
    button(app, "Show what changes").click().run()
    assert not app.exception
    whatif_charts = [key for key in chart_keys(app) if key.startswith("explore_whatif")]
    # One block's bars at a time: the first block changed, then whichever is chosen.
    assert whatif_charts == [
        "explore_whatif_prediction_original",
        "explore_whatif_prediction_changed",
        "explore_whatif_bars_block1",
    ]
    blocks = app.segmented_control(key="explore_whatif_block")
    assert blocks.options == [
        "Block 1 · changed here",
        "Block 2 · changed here",
        "Block 3 · responds",
    ]
    blocks.set_value("block3").run()
    assert chart_keys(app)[-1] == "explore_whatif_bars_block3"
    app.segmented_control(key="explore_whatif_block").set_value("block1").run()
    block1 = chart(app, "explore_whatif_bars_block1")
    assert reference_traces(app, "explore_whatif_bars_block1")[0]["name"] == "as trained"
    assert {trace["name"] for trace in block1["data"]} >= {"as trained", "8 moved most"}
    (table,) = app.dataframe  # the moves per block
    changes = table.value
    assert list(changes["you set"]) == [
        "SE off",
        "2 muted",
        "nothing: it reacts to what it receives",
    ]
    first = chart(app, "explore_whatif_prediction_changed")["data"]

    # Everything SE passes on from block 3 muted instead: another prediction.
    app.selectbox(key="explore_whatif_mode_block1").set_value("trained")
    app.multiselect(key="explore_whatif_mute_block2").set_value([])
    app.multiselect(key="explore_whatif_mute_block3").set_value(list(range(128)))
    button(app, "Show what changes").click().run()
    assert not app.exception
    assert chart(app, "explore_whatif_prediction_changed")["data"] != first
    blocks = app.segmented_control(key="explore_whatif_block")
    assert blocks.options == ["Block 3 · changed here"]  # only block 3 is shown
    assert chart_keys(app)[-1] == "explore_whatif_bars_block3"
    app.session_state["explore_whatif_view"] = "deviation"
    app.run()
    assert not app.exception
    title = chart(app, "explore_whatif_bars_block3")["layout"]["yaxis"]["title"]["text"]
    assert title == "changed − as trained"

    button(app, "Reset").click().run()
    assert not app.exception
    assert says(app.info, "Nothing is changed yet")
    assert app.multiselect(key="explore_whatif_mute_block3").value == []


def test_without_an_atlas_the_page_offers_to_measure_and_then_shows_the_data_set(
    zoo_folder: Path,
) -> None:
    app = with_one_upload()
    assert says(app.caption, text.NO_ATLAS_NOTE)
    assert not reference_traces(app, "explore_bars_block1")
    assert not [s for s in app.get("button_group") if s.key == "explore_bar_view"]

    app.button(key="explore_measure").click().run()
    for _ in range(120):  # the build runs in a thread beside the page
        if says(app.caption, "Black ticks"):
            break
        app.run()
    assert not app.exception and not app.error
    assert says(app.caption, "Black ticks: each channel's mean weight over 30 held-out")
    for block in ("block1", "block2", "block3"):
        app.segmented_control(key="explore_block").set_value(block).run()
        (reference,) = reference_traces(app, f"explore_bars_{block}")
        assert reference["error_y"]["visible"] is True
    # Measured once: a later run reads it back, and the measuring offer is gone.
    app.run()
    assert not says(app.caption, text.NO_ATLAS_NOTE)
    assert len(reference_traces(app, "explore_bars_block3")) == 1


def test_a_measured_model_shows_the_band_the_deviation_and_can_be_frozen(
    zoo_folder: Path,
) -> None:
    atlas = open_atlas(zoo_folder / "se-r16.pt", model_name="se-r16")
    means = whatif.DatasetContext.from_atlas(atlas).blocks["block2"].mean
    app = with_one_upload("navy")
    assert not says(app.caption, text.NO_ATLAS_NOTE)
    app.segmented_control(key="explore_block").set_value("block2").run()
    (reference,) = reference_traces(app, "explore_bars_block2")
    assert reference["name"] == "dataset mean ± 1 std"

    app.session_state["explore_bar_view"] = "deviation"
    app.run()
    assert not app.exception
    bars = chart(app, "explore_bars_block2")
    assert bars["layout"]["yaxis"]["title"]["text"] == "weight − dataset mean"
    assert "differ from the data set's" in bars["layout"]["title"]["text"]

    modes = app.selectbox(key="explore_whatif_mode_block2")
    assert "Frozen to the data-set mean" in modes.options
    modes.set_value("frozen")
    button(app, "Show what changes").click().run()
    assert not app.exception
    changed = chart(app, "explore_whatif_bars_block2")
    order = [int(c) for c in changed["layout"]["xaxis"]["categoryarray"]]
    assert order == sorted(range(64), key=lambda c: -means[c])  # the bars are the mean vector


def test_a_model_that_cannot_be_measured_says_why(
    zoo_folder: Path, trained_checkpoint: Path, tmp_path: Path
) -> None:
    other = write_image_folder(tmp_path / "other", per_class=2)
    for folder in other.iterdir():
        folder.rename(other / f"not-{folder.name}")
    model, config = load_model(trained_checkpoint)
    save_checkpoint(
        zoo_folder / "se-r16.pt",
        {"config": {**config, "data": str(other)}, "model_state": model.state_dict()},
    )
    app = with_one_upload()
    app.button(key="explore_measure").click().run()
    for _ in range(120):  # the build runs in a thread beside the page, and fails
        if app.error:
            break
        app.run()
    assert not app.exception
    assert says(app.error, "could not be measured") and says(app.error, "not among the model's")
    assert not reference_traces(app, "explore_bars_block1")


def one_model_zoo(attention: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A zoo of one untrained (seeded) r=4 model with this attention, the dashboard's only one."""
    zoo = tmp_path / "zoo"
    zoo.mkdir()
    write_checkpoint(zoo / f"{attention}.pt", 4, attention=attention)
    monkeypatch.setenv("SEATTN_ZOO_DIR", str(zoo))
    return zoo


@pytest.mark.parametrize("attention", ["eca", "cbam"])
def test_explore_reads_eca_and_cbam_models_through_the_same_interface(
    attention: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one_model_zoo(attention, tmp_path, monkeypatch)
    app = with_one_upload()
    assert not app.exception
    spatial = ["explore_spatial_block1"] if attention == "cbam" else []
    assert chart_keys(app) == [
        "explore_prediction",
        "explore_bars_block1",
        "explore_maps_block1",
        *spatial,
        "explore_gradcam_block1",
    ]
    assert sum(len(t["x"]) for t in chart(app, "explore_bars_block1")["data"]) == 32
    # the section names the model's own module and says what it does, not SE's story
    module = attention.upper()
    assert f"Inside the {module} blocks" in [h.value for h in app.subheader]
    assert app.segmented_control(key="explore_block").label == f"{module} block to look inside"
    intro = next(m.value for m in app.markdown if m.value.startswith(f"Each {module} block"))
    assert ("1-D convolution" if attention == "eca" else "**spatial attention**") in intro
    maps_text = json.dumps(chart(app, "explore_maps_block1"))
    assert f"Before {module}" in maps_text and f"After {module}" in maps_text
    assert "Before SE" not in maps_text
    # the what-if's changes reach CBAM's channel weights, and the page says the spatial map stays
    cbam_note = [c.value for c in app.caption if "spatial attention still runs" in c.value]
    assert len(cbam_note) == (attention == "cbam")
    if attention == "cbam":  # over the picture, then alone: one weight per position, 0..1
        traces = chart(app, "explore_spatial_block1")["data"]
        assert [t["type"] for t in traces] == ["image", "heatmap", "heatmap"]
        assert traces[1]["z"] == traces[2]["z"]  # the same map, over the picture and alone
        assert [traces[1]["opacity"], traces[2]["opacity"]] == [0.5, 1.0]
    # Grad-CAM before and after the attention, over the picture; another class on request.
    cam = chart(app, "explore_gradcam_block1")
    assert [t["type"] for t in cam["data"]] == ["image", "heatmap", "image", "heatmap"]
    caption = next(c.value for c in app.caption if "moved the map" in c.value)
    app.selectbox(key="explore_cam_class").set_value(2).run()
    assert not app.exception
    assert "stripes" in next(c.value for c in app.caption if "moved the map" in c.value)
    assert caption != "" and app.selectbox(key="explore_cam_class").value == 2


@pytest.mark.parametrize(("attention", "words"), [("eca", "ECA gives"), ("cbam", "CBAM weighs")])
def test_the_presentation_walk_tells_each_module_in_its_own_words(
    attention: str, words: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one_model_zoo(attention, tmp_path, monkeypatch)
    app = with_one_upload()
    app.session_state["seattn_presenting"] = True
    app.run()
    told = []
    for _step in range(10):
        assert not app.exception
        told += [m.value for m in app.markdown]
        if app.button(key="walk_next").disabled:
            break
        app.button(key="walk_next").click()
        app.run()
    assert app.header[0].value == "What SE changed"
    assert any(words in sentence for sentence in told)
