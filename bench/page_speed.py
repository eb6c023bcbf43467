"""How long each page takes to settle in a real browser: first visit on a fresh server, then warm.

    PYTHONPATH=. python -m bench.page_speed [--repeats 5] [--pages home,explore,atlas,...]

For every page: a fresh server (nothing imported, nothing cached) started as ``make run`` starts
it (``python serve.py``, which imports the heavy libraries before it opens its port) and, as the
baseline in the same run, as plain ``streamlit run dashboard.py``;
Debian's Chromium opening the page's URL, and the time until the page has settled: its title is
shown, the script has finished, no spinner is left and every plotly chart has drawn. Then the
median of ``--repeats`` further visits (new sessions on the warm server). On top, where the page
has one: the Atlas page's switch between its four views, and Explore's upload of three pictures
to settled page.

Every wait polls inside the page on each animation frame. Playwright's own waits for an element
(``locator.wait_for``) retry after 0, 20, 50, 100, 100 and then every 500 ms, which rounded a
view that settled after 300 ms up to about 800 ms. A view switch is timed inside the page, from
the click event to the settled view with the new view's chart on screen: what a visitor waits,
without Playwright's checks before it clicks.

Uses the runs, data and bundled models of this shell (SEATTN_RUNS_DIR, SEATTN_DATA_DIR, ...);
the Atlas page needs an atlas of the default model (``python -m seattn analyse se-r16``) to
show more than its offer to measure. Writes nothing but the servers' own caches.
"""

from __future__ import annotations

import argparse
import io
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image

PROJECT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
PAGES = {  # url path -> the title the page shows
    "home": ("", "Channel attention, made visible"),
    "explore": ("explore", "Explore"),
    "atlas": ("atlas", "Atlas: what SE does across many pictures"),
    "train": ("train", "Train"),
    "compare": ("compare", "Compare"),
}
# Each Atlas view, and a chart only it draws (so a switch is timed to the new view's content).
ATLAS_VIEWS = {
    "Classes": ".st-key-atlas_lines .main-svg",
    "Channel": ".st-key-atlas_mean_map .main-svg",
    "Interventions": ".st-key-atlas_interventions .main-svg",
    "Depth": ".st-key-atlas_depth .main-svg",
}
TARGET_FIRST_S = 3.0
# Settled: the page's title is shown, the script ran to the end, nothing is still loading, every
# chart has drawn.
SETTLED = """(title) => {
  const headings = document.querySelectorAll('h1, h2, h3');
  if (![...headings].some((heading) => heading.textContent.includes(title))) return false;
  const app = document.querySelector("[data-testid='stApp']");
  if (!app || app.dataset.testScriptState !== 'notRunning') return false;
  if (document.querySelector("[data-testid='stSpinner'], [data-testid='stSkeleton']")) return false;
  for (const chart of document.querySelectorAll("[data-testid='stPlotlyChart']")) {
    if (!chart.querySelector('.main-svg')) return false;
  }
  return true;
}"""
# Remember when the last click reached the page (a capturing listener sees it first).
RECORD_CLICKS = """() => document.addEventListener(
  'click', () => { window.seattnClickedAt = performance.now(); }, true)"""
# Milliseconds from the last click to a settled page that shows `drawn` (visible); false before.
SWITCHED = f"""([drawn, title]) => {{
  if (!({SETTLED})(title)) return false;
  const shown = document.querySelector(drawn);
  if (!shown || !shown.getBoundingClientRect().width) return false;
  if (getComputedStyle(shown).visibility !== 'visible') return false;
  return performance.now() - window.seattnClickedAt;
}}"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


LAUNCHERS = {  # how the server is started
    "serve.py": [sys.executable, "serve.py"],
    "streamlit run": [sys.executable, "-m", "streamlit", "run", "dashboard.py"],
}


@contextmanager
def fresh_server(launcher: str) -> Iterator[str]:
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(PROJECT))
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    command = [
        *LAUNCHERS[launcher],
        "--server.headless", "true", "--server.port", str(port),
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.1)
        print(f"    ({launcher}: server up in {time.perf_counter() - started:.1f} s)")
        yield url
    finally:
        process.terminate()
        process.wait(10)


def settle(page, title: str, timeout_ms: int = 180_000) -> None:
    page.wait_for_function(SETTLED, arg=title, timeout=timeout_ms, polling="raf")


def switch_view(page, view: str, drawn: str, title: str) -> float:
    """Click an Atlas view; the seconds from the click to the settled view (timed in the page,
    whose RECORD_CLICKS must have run)."""
    page.locator(".st-key-atlas_view").get_by_text(view, exact=True).click()
    waited = page.wait_for_function(SWITCHED, arg=[drawn, title], timeout=60_000, polling="raf")
    return waited.json_value() / 1000


def timed(action: Callable[[], None]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def pictures(count: int) -> list[dict]:
    rng = np.random.default_rng(0)
    files = []
    for i in range(count):
        buffer = io.BytesIO()
        Image.fromarray(rng.integers(0, 255, (256, 256, 3), dtype=np.uint8)).save(buffer, "PNG")
        files.append(
            {"name": f"picture{i}.png", "mimeType": "image/png", "buffer": buffer.getvalue()}
        )
    return files


def first_visit(browser, name: str, launcher: str) -> float:
    path, title = PAGES[name]
    with fresh_server(launcher) as url:
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        seconds = timed(lambda: (page.goto(f"{url}/{path}"), settle(page, title)))
        page.close()
    return seconds


def measure_page(browser, name: str, repeats: int, launcher: str) -> None:
    path, title = PAGES[name]
    baseline = first_visit(browser, name, "streamlit run")
    with fresh_server(launcher) as url:
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        first = timed(lambda: (page.goto(f"{url}/{path}"), settle(page, title)))
        warm = []
        for _ in range(repeats):
            again = browser.new_page(viewport={"width": 1440, "height": 1000})
            warm.append(timed(lambda p=again: (p.goto(f"{url}/{path}"), settle(p, title))))
            again.close()
        verdict = "meets" if first <= TARGET_FIRST_S else "misses"
        print(
            f"{name:8s} first visit {first:6.2f} s with {launcher} ({verdict} {TARGET_FIRST_S:.0f} "
            f"s; plain streamlit run: {baseline:.2f} s), warm visit median "
            f"{statistics.median(warm):.2f} s "
            f"over {repeats}"
        )
        if name == "atlas" and page.locator(".st-key-atlas_view").count():
            page.evaluate(RECORD_CLICKS)
            views = list(ATLAS_VIEWS)
            for view, drawn in ATLAS_VIEWS.items():
                times = []
                for _ in range(repeats):
                    other = views[(views.index(view) + 1) % len(views)]
                    switch_view(page, other, ATLAS_VIEWS[other], title)
                    times.append(switch_view(page, view, drawn, title))
                print(
                    f"    atlas view {view:13s} median {statistics.median(times) * 1000:5.0f} ms "
                    f"(of {[round(t * 1000) for t in times]})"
                )
        if name == "explore":
            upload = page.locator(".st-key-explore_uploads input[type=file]")
            seconds = timed(
                lambda: (
                    upload.set_input_files(files=pictures(3)),
                    page.get_by_text("picture2.png").first.wait_for(timeout=120_000),
                    settle(page, title),
                )
            )
            print(f"    upload of 3 pictures -> settled page {seconds:.2f} s")
        page.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--pages", default=",".join(PAGES))
    parser.add_argument(
        "--launcher",
        choices=list(LAUNCHERS),
        default="serve.py",
        help="how the measured server starts (the baseline is always plain streamlit run)",
    )
    args = parser.parse_args()
    import torch
    from playwright.sync_api import sync_playwright

    from seattn.training.hardware import cpu_has_native_bf16, device_name

    print(f"on {device_name(torch.device('cpu'))}; native bfloat16: {cpu_has_native_bf16()}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            for name in args.pages.split(","):
                measure_page(browser, name.strip(), args.repeats, args.launcher)
        finally:
            browser.close()


if __name__ == "__main__":
    main()
