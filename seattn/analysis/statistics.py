"""Statistics of excitation weights: what one picture's, or many pictures', SE weights look like."""

from __future__ import annotations

import math

import torch

# The keys weight_statistics() returns, in the order pages show them.
STATISTICS = ("mean", "std", "min", "max", "entropy", "share_above_0_9", "share_below_0_1")


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
