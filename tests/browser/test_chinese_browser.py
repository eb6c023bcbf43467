"""A Chinese browser in a real Chromium: the dashboard opens in Chinese, Explore analyses an
uploaded picture in Chinese, and the presentation mode walks through it.

Leaves screenshots in test-output/: explore-zh.png (Explore in Chinese, the issue's record) and
presentation-zh.png (the walk's first block step, in large type).
"""

from __future__ import annotations

import io
import re
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

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def browser_locale() -> str:
    return "zh-CN"


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
    return {"SEATTN_ZOO_DIR": str(zoo), "SEATTN_DATA": None}


def picture() -> bytes:
    buffer = io.BytesIO()
    make_class_image(2, np.random.default_rng(7), size=96).save(buffer, "PNG")
    return buffer.getvalue()


def settle(page: Page) -> None:
    page.locator(STREAMLIT_IDLE).wait_for(timeout=60_000)


def test_a_chinese_browser_explores_a_picture_and_presents_it(server: str, page: Page) -> None:
    from playwright.sync_api import expect

    page.goto(server)
    settle(page)
    navigation = page.locator("[data-testid='stSidebarNav']")
    expect(navigation).to_contain_text("探索")
    navigation.get_by_text("探索").click()
    page.get_by_role("heading", name="探索").wait_for(timeout=60_000)
    settle(page)
    page.locator(".st-key-explore_uploads input[type=file]").set_input_files(
        files=[{"name": "stripes.png", "mimeType": "image/png", "buffer": picture()}]
    )
    bars = page.locator(".js-plotly-plot .barlayer .point")
    expect(bars.first).to_be_visible(timeout=60_000)
    settle(page)
    headings = page.locator("h1, h2, h3").all_inner_texts()
    assert headings and all(CJK.search(h) for h in headings if h.strip()), headings
    chart_titles = page.locator(".js-plotly-plot .gtitle").all_inner_texts()
    assert chart_titles and all(CJK.search(t) for t in chart_titles), chart_titles
    TEST_OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(TEST_OUTPUT / "explore-zh.png"), full_page=True)

    # Presentation mode: larger type, and the walk one step per screen.
    page.locator("[data-testid='stSidebar']").get_by_text("演示模式").click()
    progress = page.get_by_text(re.compile(r"第 1 步，共 \d+ 步"))
    expect(progress).to_be_visible(timeout=60_000)
    root_size = page.evaluate("getComputedStyle(document.documentElement).fontSize")
    assert float(root_size.removesuffix("px")) > 16
    for _step in range(2):  # to block 1's squeeze
        page.locator(".st-key-walk_next button").click()
        settle(page)
    expect(page.get_by_text(re.compile(r"第 3 步"))).to_be_visible(timeout=30_000)
    expect(page.get_by_role("heading", name=re.compile("挤压"))).to_be_visible()
    page.screenshot(path=str(TEST_OUTPUT / "presentation-zh.png"), full_page=True)
