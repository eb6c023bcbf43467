"""A CBAM network's training step: CBAMBlock's max pooling against the paper's literal amax form.

    python -m bench.cbam_step [--batch-size 128] [--repeats 10] [--threads 2]

CBAMBlock takes its channel descriptor's maxima with ``adaptive_max_pool2d`` and its spatial
descriptor's with ``max(dim=1).values``; written literally from the paper, both are ``amax``. The
values are the same, but ``amax``'s backward spreads the gradient over ties, which builds a mask
of the whole input. One step is what the engine does per batch on a CPU (float32, channels-last,
forward, cross-entropy, backward, SGD update); the SE network's step is timed beside them as the
baseline the issue compares against. The forms alternate, so load on a noisy machine falls on
both. Random pixels: the cost does not depend on them. Writes nothing.
"""

from __future__ import annotations

import argparse

import pandas as pd
import torch
from torch import nn

from bench.timing import median_ms
from seattn.data.cifar10 import IMAGE_SIZE
from seattn.model.cbam import CBAMBlock
from seattn.model.cnn import SECNN
from seattn.model.excitation import Excitation, WeightAdjustment


class AmaxCBAMBlock(CBAMBlock):
    """The same module with the paper's maxima written as ``amax``."""

    def excite(self, x: torch.Tensor, adjust: WeightAdjustment | None = None) -> Excitation:
        average = x.mean(dim=(-2, -1))
        weights = torch.sigmoid(self.mlp(average) + self.mlp(x.amax(dim=(-2, -1))))
        refined = x * weights[:, :, None, None]
        descriptors = torch.stack((refined.mean(dim=1), refined.amax(dim=1)), dim=1)
        spatial = torch.sigmoid(self.spatial(descriptors))[:, 0]
        return Excitation(average, weights, refined * spatial[:, None], spatial)


def network(attention: str, amax: bool = False) -> nn.Module:
    torch.manual_seed(0)
    model = SECNN(16, attention=attention)
    if amax:
        for _name, block in model.attention_blocks():
            block.__class__ = AmaxCBAMBlock  # same parameters, only the maxima's form differs
    return model.to(memory_format=torch.channels_last).train()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    pixels = torch.randn(args.batch_size, 3, IMAGE_SIZE, IMAGE_SIZE)
    pixels = pixels.contiguous(memory_format=torch.channels_last)
    labels = torch.randint(0, 10, (args.batch_size,))
    forms = {
        "SE r=16 (baseline)": network("se"),
        "CBAM r=16, amax": network("cbam", amax=True),
        "CBAM r=16, max pooling (seattn)": network("cbam"),
    }
    literal, ours = forms["CBAM r=16, amax"], forms["CBAM r=16, max pooling (seattn)"]
    with torch.no_grad():  # the two CBAM forms compute the same outputs (dropout off to compare)
        same = torch.allclose(literal.eval()(pixels), ours.eval()(pixels), atol=1e-6)
    assert same, "the two CBAM forms disagree"
    literal.train(), ours.train()

    def step(model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
        optimizer.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(model(pixels), labels).backward()
        optimizer.step()

    optimizers = {name: torch.optim.SGD(m.parameters(), lr=0.01) for name, m in forms.items()}
    times: dict[str, list[float]] = {name: [] for name in forms}
    for _round in range(3):  # alternate, so a burst of load is shared
        for name, model in forms.items():
            times[name].append(
                median_ms(lambda m=model, o=optimizers[name]: step(m, o), args.repeats)
            )
    rows = [
        {"form": name, "ms per step (median of rounds)": sorted(ms)[1]}
        for name, ms in times.items()
    ]
    table = pd.DataFrame(rows).set_index("form")
    baseline = table.iloc[0, 0]
    table["× SE"] = table.iloc[:, 0] / baseline
    table["images/s"] = args.batch_size * 1000 / table.iloc[:, 0]
    print(f"batch {args.batch_size}, {torch.get_num_threads()} threads, float32, channels-last")
    print(table.round(2).to_string())


if __name__ == "__main__":
    main()
