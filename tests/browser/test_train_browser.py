"""The Train page in a real Chromium: a background job's progress changes on screen by itself.

Run alone with ``pytest -m browser``. Starts its own Streamlit server on a free port, with its own
runs folder, and stops the server and the job it started on the way out.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from seattn.settings import runs_root
from seattn.training import queue as jobs
from seattn.training.spec import TrainSpec

pytestmark = pytest.mark.browser

PROJECT = Path(__file__).resolve().parents[2]
SCREENSHOT = PROJECT / "test-output" / "train.png"
OVERALL = re.compile(r"(\d+) of (\d+) epochs done")


@pytest.fixture
def training_job(image_folder):
    # Long enough to watch for a while; stopped on the way out whatever happens.
    spec = TrainSpec(data=str(image_folder), reduction_ratio=4, epochs=200, batch_size=16)
    run = jobs.start(spec)
    try:
        yield run
    finally:
        jobs.request_stop_all(runs_root())
        jobs.wait_until_idle(runs_root(), timeout=30)


def overall_text(page) -> str:
    for text in page.locator("[data-testid='stProgress']").all_inner_texts():
        if OVERALL.search(text):
            return OVERALL.search(text).group(0)
    return ""


def test_progress_of_a_background_job_changes_on_screen(server, training_job, page):
    page.goto(f"{server}/train")
    page.get_by_text(training_job.name).first.wait_for(timeout=60_000)
    page.get_by_text(OVERALL).first.wait_for(timeout=60_000)
    first = overall_text(page)
    # No clicks from here on: only the page's own refresh can change what is shown.
    deadline = time.monotonic() + 90
    while overall_text(page) in (first, "") and time.monotonic() < deadline:
        page.wait_for_timeout(500)
    later = overall_text(page)
    assert later and later != first, f"progress stayed at {first!r}"
    assert int(OVERALL.search(later).group(1)) > int(OVERALL.search(first).group(1))
    assert page.get_by_text("Images per second").count() >= 1
    # Streamlit scrolls inside its own container: a tall window shows the whole page.
    page.set_viewport_size({"width": 1400, "height": 2000})
    page.wait_for_timeout(3000)
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
    # The toy job finishes an epoch every fraction of a second, so its heatmaps change
    # on every refresh; stop it for a steady view of the attention tab.
    jobs.stop(training_job)
    page.get_by_role("button", name=re.compile("Resume")).wait_for(timeout=60_000)
    # Once nothing runs the page reruns to switch its timer off; stale copies of the
    # tabs linger until that rerun is drawn.
    tab = page.get_by_role("tab", name="Attention")
    for _ in range(100):
        if tab.count() == 1:
            break
        page.wait_for_timeout(200)
    tab.click()
    page.get_by_text("Block 3").first.wait_for(timeout=20_000)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(SCREENSHOT.with_name("train-attention.png")))
