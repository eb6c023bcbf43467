"""What a model does on a set of images: loss and accuracy, and the per-epoch attention snapshot."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from seattn.data.datasets import ImageSet
from seattn.data.images import normalize_uint8
from seattn.model.cnn import SECNN
from seattn.model.probe import probe

EVAL_BATCH_SIZE = 500
HISTOGRAM_BINS = 20  # of the excitation snapshot's weights, over 0..1


def evaluate(
    model: SECNN,
    image_set: ImageSet,
    *,
    batch_size: int = EVAL_BATCH_SIZE,
    bf16: bool = False,
    channels_last: bool = False,
) -> dict[str, Any]:
    """Loss, accuracy and per-class accuracy of ``model`` over every image of ``image_set``.

    Training validates with its own ``bf16`` and ``channels_last`` settings (about twice as fast);
    ``python -m seattn eval`` keeps float32, so its figures may differ from the run's last
    validation in the last digit.
    """
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    n_classes = len(image_set.classes)
    # Sums stay on the device until the end: one synchronisation per evaluation, not per batch.
    total_loss = torch.zeros((), device=device)
    per_class_correct = torch.zeros(n_classes, dtype=torch.int64, device=device)
    per_class_total = torch.bincount(image_set.labels, minlength=n_classes)
    try:
        with torch.inference_mode():
            for start in range(0, len(image_set), batch_size):
                images = image_set.images[start : start + batch_size].to(device)
                labels = image_set.labels[start : start + batch_size].to(device)
                images = normalize_uint8(images).contiguous(memory_format=memory_format)
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                    logits = model(images).float()
                total_loss += nn.functional.cross_entropy(logits, labels, reduction="sum")
                hits = logits.argmax(dim=1) == labels
                per_class_correct += torch.bincount(labels[hits], minlength=n_classes)
    finally:
        model.train(was_training)
    n = len(image_set)
    per_class_correct = per_class_correct.cpu()
    return {
        "loss": float(total_loss) / n,
        "accuracy": int(per_class_correct.sum()) / n,
        "n": n,
        "per_class": {
            name: (int(c) / int(t) if int(t) else None)
            for name, c, t in zip(
                image_set.classes, per_class_correct, per_class_total, strict=True
            )
        },
    }


def excitation_snapshot(model: SECNN, batch: torch.Tensor) -> dict[str, dict]:
    """Per SE block, over a probe batch: channel means, the histogram of weights, mean and std.

    The trainer stores one snapshot per epoch, which is how a user sees attention change as the
    network learns.
    """
    was_training = model.training
    model.eval()
    try:
        result = probe(model, batch)
    finally:
        model.train(was_training)
    snapshot = {}
    for record in result.blocks:
        weights = record.weights.float()
        histogram = torch.histc(weights, bins=HISTOGRAM_BINS, min=0.0, max=1.0)
        snapshot[record.name] = {
            "channel_means": [round(v, 6) for v in weights.mean(dim=0).tolist()],
            "histogram": [int(v) for v in histogram.tolist()],
            "mean": float(weights.mean()),
            "std": float(weights.std(unbiased=False)),
        }
    return snapshot
