"""Terminal progress for the CLI: a tqdm bar within each epoch and one line per finished epoch."""

from __future__ import annotations

import sys
from typing import Any

from tqdm import tqdm

from seattn.training.runfiles import Phase


class TerminalProgress:
    """A progress callback for seattn.training.engine.train; epoch lines print without a tty too."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self._bar: tqdm | None = None
        self._bar_epoch: int | None = None

    def __call__(self, fields: dict[str, Any]) -> None:
        if fields.get("phase") == Phase.EPOCH_DONE:
            self._close_bar()
            row = fields["row"]
            print(
                f"epoch {row['epoch']}: train loss {row['train_loss']:.4f} "
                f"acc {row['train_accuracy']:.4f} | val loss {row['val_loss']:.4f} "
                f"acc {row['val_accuracy']:.4f} | lr {row['lr']:g} | "
                f"{row['epoch_seconds']:.1f} s, {row['images_per_second']:.0f} images/s",
                flush=True,
            )
            return
        if not self.enabled or fields.get("phase") != Phase.TRAINING:
            return
        if self._bar is None or self._bar_epoch != fields["epoch"]:
            self._close_bar()
            self._bar = tqdm(
                total=fields["batches"],
                desc=f"epoch {fields['epoch']}/{fields['epochs']}",
                unit="batch",
                leave=False,
                file=sys.stderr,
            )
            self._bar_epoch = fields["epoch"]
        self._bar.n = fields["batch"]
        self._bar.set_postfix(loss=f"{fields['train_loss']:.3f}", refresh=False)
        self._bar.refresh()

    def _close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def close(self) -> None:
        self._close_bar()


class StageProgress:
    """A progress callback for long library work reported as (stage, done, total): one tqdm bar
    per stage."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self._bar: tqdm | None = None
        self._stage: str | None = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self._bar is None or stage != self._stage:
            self.close()
            self._bar = tqdm(total=total, desc=stage, leave=False, file=sys.stderr)
            self._stage = stage
        self._bar.n = done
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
