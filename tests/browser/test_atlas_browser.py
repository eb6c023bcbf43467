"""The Atlas page in a real Chromium: a link to a channel lands on that channel with its pictures.

Run alone with ``pytest -m browser``. The server's zoo holds one untrained (seeded) network whose
atlas is built before the server starts, in the server's own data folder.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from seattn.analysis.atlas import open_atlas
from tests.helpers import STREAMLIT_IDLE, TEST_OUTPUT, write_checkpoint, write_image_folder

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

SCREENSHOT = TEST_OUTPUT / "atlas-channel.png"
IDLE = STREAMLIT_IDLE


@pytest.fixture
def server_env(tmp_path: Path) -> dict[str, str | None]:
    images = write_image_folder(tmp_path / "images", per_class=24)  # 18 held out
    zoo = tmp_path / "zoo"
    zoo.mkdir()
    write_checkpoint(zoo / "se-r16.pt", 4, data=images)
    write_checkpoint(zoo / "se-r8.pt", 8, data=images, seed=1)
    open_atlas(zoo / "se-r8.pt", model_name="se-r8", data_dir=tmp_path / "data")
    return {
        "SEATTN_ZOO_DIR": str(zoo),
        "SEATTN_DATA_DIR": str(tmp_path / "data"),
        "SEATTN_DATA": None,
    }


def test_a_channel_link_opens_that_channel_with_its_pictures(server: str, page: Page) -> None:
    from playwright.sync_api import expect

    page.goto(f"{server}/atlas?model=se-r8&block=block3&channel=17")
    heading = page.get_by_role("heading", name="Block 3 · channel 17")
    heading.wait_for(timeout=90_000)
    page.locator(IDLE).wait_for(timeout=60_000)
    # the link's model is the one picked (the default se-r16 has no atlas)
    expect(page.locator("[data-testid='stMain']")).to_contain_text("se-r8")
    pictures = page.locator("[data-testid='stImage'] img")
    # the two grids of 16 arrive one after the other: wait for both rather than count at once
    expect(pictures).to_have_count(2 * 16, timeout=30_000)
    expect(pictures.last).to_be_visible(timeout=30_000)
    # the distribution and the mean map
    expect(page.locator(".js-plotly-plot")).to_have_count(2, timeout=30_000)
    assert "channel=17" in page.url
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)


def test_clicking_a_channel_in_the_class_lines_opens_its_page(server: str, page: Page) -> None:
    from playwright.sync_api import expect

    page.goto(f"{server}/atlas?model=se-r8")
    classes = page.locator(".st-key-atlas_view").get_by_text("Classes", exact=True)
    classes.wait_for(timeout=90_000)
    page.locator(IDLE).wait_for(timeout=60_000)
    classes.click()
    lines = page.locator(".st-key-atlas_lines .js-plotly-plot")
    expect(lines).to_be_visible(timeout=60_000)
    page.locator(IDLE).wait_for(timeout=60_000)
    lines.scroll_into_view_if_needed()
    area = page.locator(".st-key-atlas_lines .nsewdrag").first.bounding_box()
    assert area is not None
    hover = page.locator(".st-key-atlas_lines .hoverlayer .hovertext")
    x = area["x"] + area["width"] / 2
    for step in range(60):  # find a line under the pointer, then click there
        y = area["y"] + area["height"] * step / 60
        page.mouse.move(x, y)
        page.wait_for_timeout(50)
        if hover.count():
            break
    text = hover.first.text_content() or ""
    channel = int(re.search(r"channel (\d+)", text).group(1))
    page.mouse.click(x, y)
    heading = page.get_by_role("heading", name=f"channel {channel}")
    heading.wait_for(timeout=60_000)
    expect(heading).to_contain_text("Block 1")
