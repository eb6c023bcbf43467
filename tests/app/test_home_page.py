"""The Home page's schematic: the picked network's own numbers, or chosen ones said to be so."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from seattn.analysis.schematic import model_se_example
from seattn.data.examples import sample_pool
from seattn.model.checkpoints import load_model
from tests.helpers import PROJECT_ROOT, chart_keys, write_checkpoint

APP = str(PROJECT_ROOT / "dashboard.py")


@pytest.fixture
def zoo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "zoo"
    folder.mkdir()
    write_checkpoint(folder / "se-r16.pt", 16)
    write_checkpoint(folder / "no-se.pt", None)
    monkeypatch.setenv("SEATTN_ZOO_DIR", str(folder))
    return folder


def test_the_schematic_is_drawn_from_the_picked_networks_block_1(zoo):
    app = AppTest.from_file(APP, default_timeout=120)
    app.run()
    assert not app.exception
    assert chart_keys(app) == ["home_schematic"]
    model, _ = load_model(zoo / "se-r16.pt")
    pool = sample_pool()
    with Image.open(pool.files[pool.classes[0]][0]) as picture:
        weights = model_se_example(model, picture.convert("RGB")).weights
    caption = next(c.value for c in app.caption if "first SE block" in c.value)
    assert "se-r16" in caption and pool.classes[0] in caption
    assert f"{weights[0]:.2f}" in caption and f"{weights[-1]:.2f}" in caption


def test_a_network_without_se_gets_the_chosen_weights_said_to_be_chosen(zoo):
    app = AppTest.from_file(APP, default_timeout=120)
    app.session_state["seattn_model_key"] = "bundled:no-se"
    app.run()
    assert not app.exception
    assert any("chosen to show the arithmetic" in c.value for c in app.caption)
