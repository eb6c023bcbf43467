"""``python -m seattn``: the command line (seattn.cli)."""

import sys

from seattn.cli import main

sys.exit(main())
