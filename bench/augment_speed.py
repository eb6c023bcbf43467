"""How long the training augmentations take per batch: batched tensors vs the per-image PIL recipe.

    python -m bench.augment_speed [--batch-size 256] [--repeats 3] [--threads N]

Both paths end in normalised float tensors, so they are compared like for like; the model's own
forward + backward on the same batch is timed too, as the yardstick augmentation must stay well
under. Random images stand in for CIFAR-10: the cost does not depend on what the pixels show.
Writes nothing.
"""

from __future__ import annotations

import argparse
import os

import torch
from torchvision import transforms

from bench.reference_pipeline import TRAIN_TRANSFORM
from bench.timing import median_ms
from seattn.data.augment import BatchAugment
from seattn.data.cifar10 import CIFAR_MEAN as MEAN
from seattn.data.cifar10 import CIFAR_STD as STD
from seattn.model.cnn import SECNN

# Per measurement, so a busy machine cannot stretch the benchmark past half a minute.
BUDGET_S = 4.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    images = torch.randint(0, 256, (args.batch_size, 3, 32, 32), dtype=torch.uint8)
    pil_images = [transforms.functional.to_pil_image(image) for image in images]

    reference = TRAIN_TRANSFORM
    augment = BatchAugment()
    generator = torch.Generator().manual_seed(0)
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)

    def batched() -> torch.Tensor:
        return (augment(images, generator) - mean) / std

    def per_image() -> torch.Tensor:
        return torch.stack([reference(image) for image in pil_images])

    model = SECNN()
    model.train()
    labels = torch.randint(0, 10, (args.batch_size,))
    inputs = batched()

    def training_step() -> None:
        model.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(inputs), labels).backward()

    batched_ms = median_ms(batched, args.repeats * 2, BUDGET_S)
    per_image_ms = median_ms(per_image, args.repeats, BUDGET_S)
    model_ms = median_ms(training_step, args.repeats, BUDGET_S)

    # On a busy 2-core machine libgomp's default spin-waiting makes every small op wait for a
    # descheduled thread: with 2 threads, OMP_WAIT_POLICY=PASSIVE (set before Python starts) or
    # --threads 1 turned 2 s per batch back into 35 ms here.
    wait_policy = os.environ.get("OMP_WAIT_POLICY", "default")
    print(
        f"{args.batch_size} images per batch, {torch.get_num_threads()} torch threads, "
        f"OMP_WAIT_POLICY={wait_policy}"
    )
    print(f"BatchAugment (batched tensors):     {batched_ms:8.1f} ms/batch")
    print(f"torchvision per-image PIL pipeline: {per_image_ms:8.1f} ms/batch")
    print(f"speed-up:                           {per_image_ms / batched_ms:8.1f}x")
    print(f"model forward + backward (SE r=16): {model_ms:8.1f} ms/batch")
    print(f"augmentation / training step:       {batched_ms / model_ms:8.1%}")


if __name__ == "__main__":
    main()
