"""An SE block's forward + backward as training runs it: SEBlock against the 4-D textbook form.

    python -m bench.se_block_speed [--batch-size 128] [--repeats 20] [--threads N]

Training feeds the blocks channels-last bfloat16 feature maps. The textbook form pools with
AdaptiveAvgPool2d and scales with a broadcast [B, C, 1, 1] multiply on the 4-D tensor, whose
reductions over H and W stride across memory; SEBlock does the same maths on the [B, H*W, C] view
of the same memory. Both share one set of weights, and their outputs and input gradients are
checked to agree before anything is timed. Random feature maps: the cost does not depend on the
values. Writes nothing.
"""

from __future__ import annotations

import argparse

import pandas as pd
import torch
from torch import nn

from bench.timing import median_ms
from seattn.data.cifar10 import IMAGE_SIZE
from seattn.model.ratios import BLOCK_CHANNELS
from seattn.model.se import SEBlock


def textbook_excite(block: SEBlock, x: torch.Tensor) -> torch.Tensor:
    """The lesson's formulation: pool the 4-D map, excite, multiply by [B, C, 1, 1] weights."""
    squeezed = nn.functional.adaptive_avg_pool2d(x, 1).flatten(1)
    return x * block.excitation(squeezed)[:, :, None, None]


def forward_backward(excite, x: torch.Tensor, upstream: torch.Tensor) -> torch.Tensor:
    x.grad = None
    with torch.autocast("cpu", dtype=torch.bfloat16):
        output = excite(x)
    output.backward(upstream)
    return x.grad


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    rows = []
    side = IMAGE_SIZE
    for channels in BLOCK_CHANNELS:
        block = SEBlock(channels, 16)
        shape = (args.batch_size, channels, side, side)
        x = torch.randn(shape).to(torch.bfloat16, memory_format=torch.channels_last)
        x.requires_grad_()
        upstream = torch.randn(shape).to(torch.bfloat16, memory_format=torch.channels_last)

        def seattn_form() -> torch.Tensor:
            return forward_backward(lambda t: block.excite(t).output, x, upstream)  # noqa: B023

        def textbook_form() -> torch.Tensor:
            return forward_backward(lambda t: textbook_excite(block, t), x, upstream)  # noqa: B023

        torch.testing.assert_close(
            seattn_form().float(), textbook_form().float(), atol=0.05, rtol=0.02
        )
        textbook_ms = median_ms(textbook_form, args.repeats)
        seattn_ms = median_ms(seattn_form, args.repeats)
        rows.append(
            {
                "block input": "x".join(map(str, shape)),
                "textbook 4-D ms": textbook_ms,
                "seattn [B, HW, C] ms": seattn_ms,
                "speed-up": textbook_ms / seattn_ms,
            }
        )
        side //= 2
    print(
        f"SE block forward + backward, bfloat16 autocast, channels-last, "
        f"{torch.get_num_threads()} threads"
    )
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.2f}"))


if __name__ == "__main__":
    main()
