"""What one block's SE weights do over a whole evaluation set: the atlas's per-block measures.

Every measure reads ``weights`` [N, C] (one row per image) and, where classes matter, the images'
true class indices. Variances are population variances (divided by N), classes weighted by their
image counts, so the decompositions below add up exactly:

- ``fixed_share``: the share of the weights' total variance (over images and channels) that lies
  between the channels' dataset means. Total variance = mean over channels of each channel's
  variance over images + variance of the channel means, so 1 - fixed_share is what changes from
  picture to picture: the per-picture adaptation.
- ``eta_squared``: for each channel, between-class variance / total variance of its weight over
  the images (the share of the channel's variation that its class explains), averaged over the
  block's channels; ``eta_squared_shuffled`` is the same with the labels shuffled (seeded), the
  floor that chance alone reaches with this many images.
- ``nearest_class_mean_accuracy``: each image classified by the nearest (Euclidean) class-mean
  weight vector, the class means taken from the other half of the images (2-fold, seeded halves);
  ``chance`` is 1 / classes.

A measure that the data cannot define (η² with one class; any measure of a channel whose weight
never varies) is None, never NaN; ``undefined`` says why.
"""

from __future__ import annotations

from typing import Any

import torch

# The per-block measures, in the order the page, the CLI's JSON and the README give them.
MEASURES = (
    "mean",
    "std",
    "share_above_0_9",
    "share_below_0_1",
    "fixed_share",
    "eta_squared",
    "eta_squared_shuffled",
    "nearest_class_mean_accuracy",
    "chance",
)
# A channel whose weight varies less than this over the images has no variance to explain.
_FLAT = 1e-12


def block_measures(weights: torch.Tensor, labels: torch.Tensor, *, seed: int) -> dict[str, Any]:
    """Every measure of MEASURES for one block, plus ``undefined``: measure -> reason."""
    weights = weights.double()
    present = labels.unique()
    undefined: dict[str, str] = {}
    eta, eta_shuffled = None, None
    if len(present) < 2:
        undefined["eta_squared"] = "only one class in the evaluation set"
        undefined["eta_squared_shuffled"] = undefined["eta_squared"]
        undefined["nearest_class_mean_accuracy"] = undefined["eta_squared"]
    else:
        eta = eta_squared(weights, labels)
        shuffled = labels[torch.randperm(len(labels), generator=_generator(seed))]
        eta_shuffled = eta_squared(weights, shuffled)
        if eta is None:
            undefined["eta_squared"] = "no channel's weight varies over the images"
            undefined["eta_squared_shuffled"] = undefined["eta_squared"]
    nearest = nearest_class_mean_accuracy(weights, labels, seed=seed) if len(present) > 1 else None
    if nearest is None and "nearest_class_mean_accuracy" not in undefined:
        undefined["nearest_class_mean_accuracy"] = "too few images for two halves"
    fixed = fixed_share(weights)
    if fixed is None:
        undefined["fixed_share"] = "the weights do not vary at all"
    return {
        "mean": float(weights.mean()),
        "std": float(weights.std(unbiased=False)),
        "share_above_0_9": float((weights > 0.9).double().mean()),
        "share_below_0_1": float((weights < 0.1).double().mean()),
        "fixed_share": fixed,
        "eta_squared": eta,
        "eta_squared_shuffled": eta_shuffled,
        "nearest_class_mean_accuracy": nearest,
        "chance": 1.0 / len(present),
        "undefined": undefined,
    }


def fixed_share(weights: torch.Tensor) -> float | None:
    """Variance of the channels' means / total variance of all weights; None if nothing varies."""
    total = weights.double().var(unbiased=False)
    if total <= _FLAT:
        return None
    between_channels = weights.double().mean(dim=0).var(unbiased=False)
    return float(between_channels / total)


def eta_squared(weights: torch.Tensor, labels: torch.Tensor) -> float | None:
    """Mean over channels of between-class variance / total variance; channels that never vary
    are left out (None when no channel varies)."""
    weights = weights.double()
    class_means, counts = class_mean_weights(weights, labels)
    shares = counts / counts.sum()
    grand = weights.mean(dim=0)
    between = (shares[:, None] * (class_means - grand) ** 2).sum(dim=0)
    total = weights.var(dim=0, unbiased=False)
    varying = total > _FLAT
    if not bool(varying.any()):
        return None
    return float((between[varying] / total[varying]).mean())


def class_mean_weights(
    weights: torch.Tensor, labels: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """([classes present, C] mean weight vector per class, [classes present] image counts), the
    classes in increasing index order."""
    present, inverse, counts = labels.unique(return_inverse=True, return_counts=True)
    sums = torch.zeros(len(present), weights.shape[1], dtype=weights.dtype)
    sums.index_add_(0, inverse, weights)
    return sums / counts[:, None].to(weights.dtype), counts.to(weights.dtype)


def nearest_class_mean_accuracy(
    weights: torch.Tensor, labels: torch.Tensor, *, seed: int
) -> float | None:
    """2-fold accuracy of the nearest class-mean classifier; None with fewer than 2 images."""
    n = len(labels)
    if n < 2:
        return None
    order = torch.randperm(n, generator=_generator(seed))
    halves = (order[: n // 2], order[n // 2 :])
    correct = 0
    for fit, test in (halves, halves[::-1]):
        fit_labels = labels[fit]
        means, _ = class_mean_weights(weights[fit], fit_labels)
        known = fit_labels.unique()  # a class missing from this half cannot be predicted
        nearest = torch.cdist(weights[test].double(), means.double()).argmin(dim=1)
        correct += int((known[nearest] == labels[test]).sum())
    return correct / n


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)
