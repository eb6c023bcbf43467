"""Home's "Try it" in a real Chromium on a machine without the data set: Explore opens with the
sample pictures shipped with seattn, one per class, run through the default model."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from seattn.data.cifar10 import CIFAR10_CLASSES
from tests.helpers import STREAMLIT_IDLE, TEST_OUTPUT, write_checkpoint

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


@pytest.fixture
def server_env(tmp_path: Path) -> dict[str, str | None]:
    zoo = tmp_path / "zoo"
    zoo.mkdir()
    # trained on a data set this machine does not have, as the bundled models are on a new one
    write_checkpoint(zoo / "se-r16.pt", 16, classes=CIFAR10_CLASSES, data=tmp_path / "absent")
    return {"SEATTN_ZOO_DIR": str(zoo), "SEATTN_DATA": None, "SEATTN_DATA_DIR": str(tmp_path)}


def test_try_it_opens_explore_with_the_shipped_sample_pictures(server: str, page: Page) -> None:
    from playwright.sync_api import expect

    page.goto(server)
    page.locator(STREAMLIT_IDLE).wait_for(timeout=60_000)
    page.get_by_role("button", name="Try it").click()
    page.get_by_role("heading", name="Explore").wait_for(timeout=60_000)
    expect(page.get_by_text("Sample pictures that come with seattn")).to_be_visible(timeout=60_000)
    # the gallery: one picture per class, each captioned with its class and the prediction
    for name in CIFAR10_CLASSES:
        expect(page.get_by_text(f"{name} · ").first).to_be_visible(timeout=60_000)
    expect(page.get_by_text("the network says")).to_be_visible()
    expect(page.get_by_text("SEATTN_DATA is not set")).to_have_count(0)
    page.locator(STREAMLIT_IDLE).wait_for(timeout=60_000)
    expect(page.locator("[data-testid='stImage'] img").first).to_be_visible(timeout=30_000)
    TEST_OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(TEST_OUTPUT / "try-it.png"))
