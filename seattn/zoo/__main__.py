"""``python -m seattn.zoo``: see seattn.zoo.export."""

from seattn.zoo.export import main

raise SystemExit(main())
