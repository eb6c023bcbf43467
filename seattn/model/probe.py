"""One recorded forward pass: the prediction and, per SE block, its input, weights and output.

In model/ rather than analysis/ because training records one every epoch (engine.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from seattn.model.cnn import SECNN, BlockRecord


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
