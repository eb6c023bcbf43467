"""AppTest tests of the Atlas page, against a temporary zoo whose default model has an atlas.

The models are untrained (seeded) networks over a small generated image folder: the page's logic
does not depend on how good they are, and building their atlas takes about a second.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from seattn.analysis.atlas import open_atlas
from tests.helpers import PROJECT_ROOT, button, chart_keys, write_checkpoint, write_image_folder

ATLAS = str(PROJECT_ROOT / "pages" / "atlas.py")
MODEL_KEY = "seattn_model_key"


@pytest.fixture
def zoo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    images = write_image_folder(tmp_path / "images", per_class=8)
    folder = tmp_path / "zoo"
    folder.mkdir()
    write_checkpoint(folder / "se-r16.pt", 4, data=images)
    write_checkpoint(folder / "se-r8.pt", 8, data=images, seed=1)
    write_checkpoint(folder / "no-se.pt", None, data=images)
    monkeypatch.setenv("SEATTN_ZOO_DIR", str(folder))
    monkeypatch.delenv("SEATTN_DATA", raising=False)
    return folder


@pytest.fixture
def built(zoo: Path) -> Path:
    open_atlas(zoo / "se-r16.pt", model_name="se-r16")
    return zoo


def run(app: AppTest) -> AppTest:
    app.run(timeout=60)
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_a_built_atlas_shows_the_depth_view_with_a_sentence_per_block(built):
    app = run(AppTest.from_file(ATLAS))
    assert app.title[0].value.startswith("Atlas")
    assert chart_keys(app) == ["atlas_depth"]
    sentences = [m.value for m in app.markdown if m.value.startswith("- **Block")]
    assert len(sentences) == 3
    assert all("fixed gain" in s or "same weights" in s or "adapts" in s for s in sentences)


def test_every_view_draws_only_its_own_charts(built):
    app = run(AppTest.from_file(ATLAS))
    expected = {
        "Classes": ["atlas_heatmap", "atlas_lines"],
        "Channel": ["atlas_distribution", "atlas_mean_map"],
        "Interventions": ["atlas_interventions"],
    }
    for view, keys in expected.items():
        app.segmented_control(key="atlas_view").set_value(view)
        run(app)
        assert chart_keys(app) == keys, view
    assert len(app.dataframe) == 1
    table = app.dataframe[0].value
    assert {"kind", "blocks", "accuracy", "change"} <= set(table.columns)


def test_a_channel_link_opens_that_channels_page_with_its_pictures(built):
    app = AppTest.from_file(ATLAS)
    app.query_params["model"] = "se-r16"
    app.query_params["block"] = "block2"
    app.query_params["channel"] = "17"
    run(app)
    assert app.subheader[0].value == "Block 2 · channel 17"
    images = app.get("image")
    assert len(images) == 2  # the top and the bottom sixteen
    assert chart_keys(app) == ["atlas_distribution", "atlas_mean_map"]


def test_an_unmeasured_model_offers_to_measure_it_and_shows_the_atlas_when_done(zoo):
    app = AppTest.from_file(ATLAS)
    app.session_state[MODEL_KEY] = "bundled:se-r8"
    run(app)
    assert "has not been measured yet" in app.info[0].value
    button(app, "Measure this model").click()
    run(app)
    for _ in range(120):  # the build runs in a thread beside the page
        if app.get("plotly_chart"):
            break
        app.run(timeout=60)
    assert chart_keys(app) == ["atlas_depth"]


def test_a_model_without_se_says_there_is_nothing_to_measure(zoo):
    open_atlas(zoo / "no-se.pt", model_name="no-se")
    app = AppTest.from_file(ATLAS)
    app.session_state[MODEL_KEY] = "bundled:no-se"
    run(app)
    assert any("no SE blocks" in info.value for info in app.info)
    assert any("accuracy" in m.value for m in app.markdown)


def test_images_that_cannot_be_found_give_a_message_not_an_exception(zoo, tmp_path, monkeypatch):
    import shutil

    shutil.rmtree(tmp_path / "images")  # the model's own data is gone, and so is the default
    monkeypatch.setenv("SEATTN_DATA", str(tmp_path / "nowhere"))
    app = run(AppTest.from_file(ATLAS))
    assert "No evaluation images" in app.error[0].value
