"""Pick the sample pictures shipped in seattn/data/samples/ (run once; its output is committed).

    python scripts/pick_samples.py ../shared/data/cifar10/train

Two pictures per class, drawn with a fixed seed from the 5,000 images the bundled models hold out
for validation (the seeded 10% split, seed 0, of that folder): pictures none of them trained on.
The files are copied byte for byte, and manifest.json records where each one came from.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from seattn.data.datasets import validation_files  # noqa: E402
from seattn.data.samples import MANIFEST, PER_CLASS, SAMPLES_DIR  # noqa: E402

SEED = 0


def main(source: str) -> None:
    root = Path(source).resolve()
    listing = validation_files(root, val_fraction=0.1, split_seed=0)
    by_class: dict[str, list[str]] = {name: [] for name in listing.classes}
    for path, label in listing.samples:
        by_class[listing.classes[label]].append(path)
    rng = np.random.default_rng(SEED)
    picked = {}
    for name, paths in by_class.items():
        chosen = sorted(rng.choice(len(paths), size=PER_CLASS, replace=False).tolist())
        picked[name] = []
        for index in chosen:
            original = Path(paths[index])
            target = SAMPLES_DIR / name / original.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(original, target)
            picked[name].append(
                {
                    "file": f"{name}/{original.name}",
                    "source": str(original.relative_to(root.parent.parent)),
                }
            )
    manifest = {
        "from": "CIFAR-10 training images, the seeded 10% validation split (seed 0) the bundled "
        "models hold out; none of them trained on these",
        "picked": f"{PER_CLASS} per class, numpy default_rng({SEED})",
        "classes": picked,
    }
    (SAMPLES_DIR / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
