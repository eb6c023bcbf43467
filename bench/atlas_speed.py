"""How long an atlas takes: decoded images to every measure, against one plain forward pass.

    python -m bench.atlas_speed [--images 10000] [--threads N]

The target: CIFAR-10's 10,000 test images in under 60 s on 2 cores. The images are CIFAR-10's
test split when torchvision's copy is in the data folder, else that many images of the SEATTN_DATA
folder (decoded once and cached, as training does), else random pictures (the cost does not depend
on what the pictures show). Timed from the decoded uint8 images on, like the page after its first
visit: ``build_atlas`` in the precision it picks on this CPU (bfloat16 where native) and in
float32, each beside one plain float32 forward pass of the model as trained over the same images.
Uses the bundled r=16 model. Writes nothing (the atlas cache is not touched).
"""

from __future__ import annotations

import argparse
import time

import torch

from seattn import settings, zoo
from seattn.analysis.atlas.build import build_atlas
from seattn.analysis.atlas.evaluation_set import EvaluationRequest, Split, load_evaluation_set
from seattn.data.datasets import DataError, ImageSet
from seattn.data.images import normalize_uint8
from seattn.model.checkpoints import load_model
from seattn.training.hardware import cpu_has_native_bf16, device_name

TARGET_S = 60.0


def evaluation_images(count: int) -> tuple[ImageSet, str]:
    for data, split in (("cifar10", Split.TEST), (settings.example_data_folder(), Split.ALL)):
        if not data:
            continue
        try:
            request = EvaluationRequest(data, split, limit=count)
            return load_evaluation_set(request, download=False), f"{data} ({split})"
        except DataError:
            continue
    images = torch.randint(0, 256, (count, 3, 32, 32), dtype=torch.uint8)
    labels = torch.randint(0, 10, (count,))
    return ImageSet(images, labels, [str(i) for i in range(10)]), "random pictures"


def plain_pass_s(model: torch.nn.Module, images: torch.Tensor) -> float:
    start = time.perf_counter()
    with torch.inference_mode():
        for first in range(0, len(images), 500):
            model(normalize_uint8(images[first : first + 500]))
    return time.perf_counter() - start


def timed_atlas(model, classes, image_set: ImageSet, precision: str) -> tuple[float, dict]:
    stages: dict[str, float] = {}
    last = [time.perf_counter()]
    current = [None]

    def progress(stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if current[0] is not None:
            stages[current[0]] = stages.get(current[0], 0.0) + now - last[0]
        current[0], last[0] = stage, now

    start = time.perf_counter()
    build_atlas(
        model,
        classes,
        image_set,
        model_name="se-r16",
        model_sha="bench",
        data={},
        precision=precision,
        progress=progress,
    )
    end = time.perf_counter()
    stages[current[0]] = stages.get(current[0], 0.0) + end - last[0]
    return end - start, stages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    model, config = load_model(zoo.default_model_path())
    image_set, source = evaluation_images(args.images)
    native = cpu_has_native_bf16()
    print(f"on {device_name(torch.device('cpu'))}, {torch.get_num_threads()} threads")
    print(f"native bfloat16: {'yes' if native else 'no'}")
    print(f"images: {len(image_set)} from {source}")
    precisions = ["bfloat16", "float32"] if native else ["float32"]
    for precision in precisions:
        baseline = plain_pass_s(model, image_set.images)
        total, stages = timed_atlas(model, list(config["classes"]), image_set, precision)
        verdict = "meets" if total < TARGET_S else "misses"
        print(
            f"atlas, interventions in {precision}: {total:.1f} s ({verdict} the {TARGET_S:.0f} s "
            f"target) = {total / baseline:.1f} plain float32 passes of {baseline:.2f} s"
        )
        for stage, seconds in stages.items():
            print(f"    {stage}: {seconds:.1f} s")


if __name__ == "__main__":
    main()
