"""The Explore page in a real Chromium: upload a picture, see the bars and the feature maps.

Run alone with ``pytest -m browser``. Starts its own Streamlit server on a free port, pointed at a
temporary zoo holding a network trained for one epoch on generated images, and always stops it.
Leaves a screenshot in test-output/explore.png.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from seattn.training.engine import train
from seattn.training.spec import TrainSpec
from tests.helpers import STREAMLIT_IDLE, TEST_OUTPUT, make_class_image

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

SCREENSHOT = TEST_OUTPUT / "explore.png"
IDLE = STREAMLIT_IDLE


@pytest.fixture
def zoo(image_folder: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "zoo"
    config = TrainSpec(
        data=str(image_folder), reduction_ratio=4, epochs=1, batch_size=16, val_fraction=0.25
    )
    train(config, tmp_path / "run", data_dir=tmp_path / "data")
    folder.mkdir()
    (tmp_path / "run" / "checkpoint.pt").rename(folder / "se-r16.pt")
    return folder


@pytest.fixture
def server_env(zoo: Path) -> dict[str, str | None]:
    # The temporary zoo only; no example dataset, whatever this shell has set.
    return {"SEATTN_ZOO_DIR": str(zoo), "SEATTN_DATA": None}


def picture() -> bytes:
    buffer = io.BytesIO()
    make_class_image(2, np.random.default_rng(7), size=96).save(buffer, "PNG")
    return buffer.getvalue()


def test_an_uploaded_picture_shows_bars_and_feature_maps(server: str, page: Page) -> None:
    from playwright.sync_api import expect

    # In by the front door, as a visitor would. (A deep link to /explore on a server no one
    # has opened yet runs pages/explore.py without the entry script: Streamlit's pages/
    # folder fallback. The page still works then, with its own picker.)
    page.goto(server)
    page.locator(IDLE).wait_for(timeout=60_000)
    navigation = page.locator("[data-testid='stSidebarNav']")
    expect(navigation).to_contain_text("Explore")
    navigation.get_by_text("Explore").click()
    page.get_by_role("heading", name="Explore").wait_for(timeout=60_000)
    page.locator(IDLE).wait_for(timeout=60_000)
    # exact: the Home page's caption ("Choose which trained network to look inside ...") can
    # linger while Streamlit swaps the pages on a busy machine.
    expect(page.get_by_text("Network to look inside", exact=True)).to_be_visible()
    page.locator(".st-key-explore_uploads input[type=file]").set_input_files(
        files=[{"name": "stripes.png", "mimeType": "image/png", "buffer": picture()}]
    )
    page.get_by_text("stripes.png: the network says").wait_for(timeout=60_000)
    page.locator(IDLE).wait_for(timeout=60_000)

    # Block 1 is chosen: its weight bars and its before/after heatmaps, and no other block's.
    bars = page.locator(".js-plotly-plot .barlayer .point")
    # the feature-map grid's heatmaps (Grad-CAM, further down, draws heatmaps of its own)
    maps = page.locator("[class*='st-key-explore_maps_'] .js-plotly-plot .heatmaplayer image")
    expect(bars.first).to_be_visible(timeout=30_000)
    expect(maps.first).to_be_visible(timeout=30_000)
    # the charts draw one by one: wait for the counts rather than read them at once
    expect(bars).to_have_count(32 + 3, timeout=30_000)  # block 1's 32 channels, the top 3 classes
    expect(maps).to_have_count(2, timeout=30_000)  # before and after SE, one heatmap each

    # Hover over the "before" grid names a channel (customdata reached the browser).
    maps.first.scroll_into_view_if_needed()
    box = maps.first.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 20, box["y"] + 20, steps=5)
    expect(page.locator(".hoverlayer .hovertext").first).to_contain_text("channel", timeout=10_000)

    # The chooser swaps the charts: block 3's 128 bars replace block 1's 32.
    chooser = page.locator(".st-key-explore_block")
    chooser.get_by_text("Block 3", exact=False).click()
    page.locator(IDLE).wait_for(timeout=60_000)
    expect(bars).to_have_count(128 + 3, timeout=30_000)
    expect(maps).to_have_count(2, timeout=30_000)
    chooser.get_by_text("Block 1", exact=False).click()
    page.locator(IDLE).wait_for(timeout=60_000)
    expect(bars).to_have_count(32 + 3, timeout=30_000)

    # Streamlit scrolls inside its own container: a tall window shows the whole page.
    height = page.evaluate(
        "document.querySelector('[data-testid=stMainBlockContainer]').scrollHeight"
    )
    page.set_viewport_size({"width": 1400, "height": min(int(height) + 150, 6000)})
    page.mouse.move(0, 0)
    page.wait_for_timeout(2000)
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
