"""The command line: ``python -m seattn train|eval|predict|analyse|sweep``.

Every expected failure (bad arguments, missing or unreadable files, refused checkpoints, data that
cannot be loaded) exits non-zero with one clear line on stderr and no traceback.
"""

from __future__ import annotations

import sys

from seattn.cli.commands import COMMANDS, CommandError
from seattn.cli.parser import build_parser


def main(argv: list[str] | None = None) -> int:
    # Parse first: --help and bad arguments answer at once, before torch is imported.
    args = build_parser().parse_args(argv)
    from seattn.data.datasets import DataError
    from seattn.data.images import ImageError
    from seattn.model.checkpoints import CheckpointError

    try:
        return COMMANDS[args.command](args)
    except (CommandError, CheckpointError, DataError, ImageError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except FileNotFoundError as error:
        print(f"error: {error.filename}: no such file or folder", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
