"""Shared fixtures: small generated image folders, so the core tests need no downloaded data, and
a runs root whose background jobs are stopped on the way out. Helpers live in tests/helpers.py."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

# Busy-waiting OpenMP threads collapse when the cores are shared (a dashboard, a training job,
# other tests); passive waiting keeps small ops fast. Must be set before torch starts its pool.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import pytest
import torch

from seattn.analysis.compare import grouping, sources
from seattn.settings import runs_root
from tests.helpers import REAL_DATA_ENV, stop_our_jobs, write_image_folder
from tests.helpers_compare import attention_store, comparison_store


@pytest.fixture(scope="session")
def image_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 classes x 40 generated 32x32 PNGs in ImageFolder layout."""
    return write_image_folder(tmp_path_factory.mktemp("images"), per_class=40)


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own runs and data folders; nothing is written into the source tree."""
    monkeypatch.setenv("SEATTN_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("SEATTN_DATA_DIR", str(tmp_path / "data"))
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The real CIFAR-10 image folder named by SEATTN_DATA, or a skip saying why."""
    value = os.environ.get(REAL_DATA_ENV)
    if not value or not Path(value).is_dir():
        pytest.skip(f"{REAL_DATA_ENV} does not name a folder of CIFAR-10 class sub-folders")
    return Path(value)


@pytest.fixture
def root() -> Iterator[Path]:
    """This test's runs root (see isolated_dirs); its jobs are stopped on the way out."""
    root = runs_root().resolve()
    yield root
    stop_our_jobs(root)


@pytest.fixture(scope="session")
def store(tmp_path_factory, image_folder) -> dict[str, Path]:
    return comparison_store(tmp_path_factory.getbasetemp(), image_folder)


@pytest.fixture(scope="session")
def groups(store) -> list[grouping.ComparisonGroup]:
    return grouping.group_models(sources.collect(store["runs"], store["zoo"]))


@pytest.fixture(scope="session")
def kinds_store(tmp_path_factory, image_folder) -> dict[str, Path]:
    """The comparison store with an ECA and a CBAM run beside the SE ratios (helpers_compare)."""
    return attention_store(tmp_path_factory.getbasetemp(), image_folder)


@pytest.fixture(scope="session")
def kinds_groups(kinds_store) -> list[grouping.ComparisonGroup]:
    return grouping.group_models(sources.collect(kinds_store["runs"], kinds_store["zoo"]))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say plainly how many tests were skipped and why, grouped by reason."""
    skipped = terminalreporter.stats.get("skipped", [])
    if not skipped:
        terminalreporter.write_line("skipped: none")
        return
    reasons: dict[str, int] = {}
    for report in skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    terminalreporter.write_line(f"skipped: {len(skipped)}")
    for reason, count in sorted(reasons.items(), key=lambda item: -item[1]):
        terminalreporter.write_line(f"  {count} x {reason}")
