"""Files replaced in one step: readers see the old version or the new one, never half of one.

Every file seattn writes for others to read (run files, checkpoints, the decoded-image cache,
uploaded checkpoints, bundled-model metadata) goes through :func:`atomic_path`: write to a
temporary file in the same folder, fsync, then ``os.replace``.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# mkstemp creates files only the owner can read; these files are meant to be shared like any other.
FILE_MODE = 0o644


@contextlib.contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """Yield a temporary path to write to; it replaces ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp_name)
        with open(tmp_name, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp_name, FILE_MODE)
        os.replace(tmp_name, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)


def write_bytes_atomic(path: Path | str, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_json_atomic(path: Path | str, payload: Any) -> None:
    write_bytes_atomic(path, json.dumps(payload, indent=2, sort_keys=True).encode())


def read_json(path: Path | str) -> dict[str, Any] | None:
    """The file's JSON object, or None when it does not exist (yet) or is not a JSON object."""
    try:
        payload = json.loads(Path(path).read_text())
    except FileNotFoundError:
        return None
    return payload if isinstance(payload, dict) else None
