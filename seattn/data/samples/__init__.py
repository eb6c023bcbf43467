"""Sample pictures shipped with the package: the examples when no data set is found.

Two CIFAR-10 pictures per class from the images the bundled models held out for validation
(manifest.json says which files; scripts/pick_samples.py picked them). The only data in the
repository: Explore's and Home's examples work on a fresh machine without the data set.
"""

from __future__ import annotations

from pathlib import Path

SAMPLES_DIR = Path(__file__).parent
MANIFEST = "manifest.json"
PER_CLASS = 2
