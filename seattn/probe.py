"""One recorded forward pass: the prediction and, per SE block, its input, weights and output."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from seattn.model import SECNN, BlockRecord

HISTOGRAM_BINS = 20


@dataclass(frozen=True)
class ProbeResult:
    probabilities: torch.Tensor  # [B, classes]
    blocks: list[BlockRecord]  # one per SE block, in network order

    def top_k(self, classes: list[str], k: int = 5) -> list[list[tuple[str, float]]]:
        """Per image, the k most probable (class, probability) pairs, most probable first."""
        k = min(k, self.probabilities.shape[1])
        values, indices = self.probabilities.topk(k, dim=1)
        return [
            [
                (classes[i], float(p))
                for i, p in zip(row_idx.tolist(), row_val.tolist(), strict=True)
            ]
            for row_idx, row_val in zip(indices, values, strict=True)
        ]


def probe(model: SECNN, batch: torch.Tensor) -> ProbeResult:
    """Run ``model`` on a normalised [B, 3, 32, 32] batch and keep what every SE block did.

    Inference mode and no hooks: the model is never changed, so a shared cached model is safe.
    """
    if model.training:
        raise ValueError("probe() needs a model in eval mode; call model.eval() on your own copy")
    with torch.inference_mode():
        logits, blocks = model.forward_recorded(batch)
        return ProbeResult(logits.float().softmax(dim=1), blocks)


def weight_statistics(weights: torch.Tensor) -> dict[str, float]:
    """Summary of excitation weights (any shape; values in [0, 1]).

    ``entropy`` is the Shannon entropy of the weights rescaled to sum to one, divided by its
    maximum log(C): 1.0 when every channel is weighted alike, lower as attention concentrates.
    For a batch [B, C] it is the mean over images.
    """
    weights = weights.detach().float()
    per_image = weights.reshape(-1, weights.shape[-1]) if weights.dim() > 1 else weights[None]
    channels = per_image.shape[1]
    shares = per_image / per_image.sum(dim=1, keepdim=True).clamp_min(1e-12)
    entropy = -(shares * shares.clamp_min(1e-12).log()).sum(dim=1)
    normalised = entropy / math.log(channels) if channels > 1 else torch.ones_like(entropy)
    return {
        "mean": float(weights.mean()),
        "std": float(weights.std(unbiased=False)),
        "min": float(weights.min()),
        "max": float(weights.max()),
        "entropy": float(normalised.mean()),
        "share_above_0_9": float((weights > 0.9).float().mean()),
        "share_below_0_1": float((weights < 0.1).float().mean()),
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
