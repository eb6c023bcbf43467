"""A Chinese browser in a real Chromium, on a machine without the data set: every page reads in
Chinese, Home's "Try it" opens Explore with the shipped sample pictures, and the presentation
mode walks through one of them.

Leaves screenshots in test-output/: explore-zh.png (Explore in Chinese, the issue's record) and
presentation-zh.png (the walk's squeeze step, in large type).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from seattn.data.cifar10 import CIFAR10_CLASSES
from tests.helpers import STREAMLIT_IDLE, TEST_OUTPUT, write_checkpoint

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

CJK = re.compile(r"[\u4e00-\u9fff]")
PAGES = {"图谱": "atlas", "训练": "train", "对比": "compare"}


@pytest.fixture
def browser_locale() -> str:
    return "zh-CN"


@pytest.fixture
def server_env(tmp_path: Path) -> dict[str, str | None]:
    zoo = tmp_path / "zoo"
    zoo.mkdir()
    # trained on a data set this machine does not have, as the bundled models are on a new one
    write_checkpoint(zoo / "se-r16.pt", 16, classes=CIFAR10_CLASSES, data=tmp_path / "absent")
    return {"SEATTN_ZOO_DIR": str(zoo), "SEATTN_DATA": None, "SEATTN_DATA_DIR": str(tmp_path)}


def settle(page: Page) -> None:
    page.locator(STREAMLIT_IDLE).wait_for(timeout=60_000)


def assert_headings_are_chinese(page: Page) -> None:
    headings = [h for h in page.locator("h1, h2, h3").all_inner_texts() if h.strip()]
    assert headings and all(CJK.search(h) for h in headings), headings


def test_a_chinese_browser_tries_it_and_presents_it(server: str, page: Page) -> None:
    from playwright.sync_api import expect

    page.goto(server)
    settle(page)
    navigation = page.locator("[data-testid='stSidebarNav']")
    for title in ("首页", "探索", *PAGES):
        expect(navigation).to_contain_text(title)
    assert_headings_are_chinese(page)

    page.get_by_role("button", name="试一试").click()
    page.get_by_role("heading", name="探索").wait_for(timeout=60_000)
    expect(page.get_by_text("网络认为").first).to_be_visible(timeout=60_000)
    bars = page.locator(".js-plotly-plot .barlayer .point")
    expect(bars.first).to_be_visible(timeout=60_000)
    settle(page)
    assert_headings_are_chinese(page)
    titles = page.locator(".js-plotly-plot .gtitle")
    expect(titles.first).to_be_attached(timeout=30_000)  # plotly writes them after the bars
    chart_titles = titles.all_text_contents()  # SVG: no innerText
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
    assert_headings_are_chinese(page)
    page.screenshot(path=str(TEST_OUTPUT / "presentation-zh.png"), full_page=True)

    for title in PAGES:  # the other pages, in the same session's language
        navigation.get_by_text(title).click()
        page.get_by_role("heading", name=re.compile(title)).first.wait_for(timeout=60_000)
        settle(page)
        assert_headings_are_chinese(page)
