"""Browser-test fixtures: a Streamlit server of the dashboard, and a Chromium page to drive it.

``server`` starts ``streamlit run dashboard.py`` on a free port and always stops it; a test module
changes the server's environment by overriding ``server_env``. ``page`` is a fresh page of
Debian's Chromium (never a browser Playwright downloads). Every test here is skipped, before
anything starts, when that Chromium is not installed.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page

PROJECT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 1000}
SERVER_START_SECONDS = 60


@pytest.fixture(autouse=True)
def requires_chromium() -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's browser (apt-get install chromium)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server_env() -> dict[str, str | None]:
    """Variables to set for the server on top of this process's environment (None: unset)."""
    return {}


@pytest.fixture
def server(server_env: dict[str, str | None]) -> Iterator[str]:
    """The URL of a dashboard server started for this test; stopped on the way out."""
    port = free_port()
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE", PYTHONPATH=str(PROJECT))
    for name, value in server_env.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    command = [
        sys.executable, "-m", "streamlit", "run", "dashboard.py",
        "--server.headless", "true",
        "--server.port", str(port),
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    process = subprocess.Popen(
        command,
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start: {process.stderr.read().decode()}")
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def browser_locale() -> str:
    """The browser's language (navigator.language, Accept-Language); a module may override it."""
    return "en-US"


@pytest.fixture
def page(browser_locale: str) -> Iterator[Page]:
    """A new 1400x1000 page in Debian's Chromium; the browser is closed on the way out."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport=VIEWPORT, locale=browser_locale)
        finally:
            browser.close()
