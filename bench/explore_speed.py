"""How long Explore takes from a decoded image to every figure built, and how much it sends.

    python -m bench.explore_speed [--repeats 30] [--threads N]

Builds, for one decoded image, what the page draws: it reduces the image to a preview and the
model's 32x32 view (once per upload on the page), runs the model, and builds the top-5 bars and,
per SE block, the weight bars, the before/after feature-map grid and Grad-CAM before and after
the block's attention (one forward and backward pass for every block); once with the page's
default options (16 strongest channels), once with every option on (all channels, the difference
grid, a zoomed channel). Beside it, in the same run: the default page without Grad-CAM (the page
before issue 18: the target is to stay within twice its time), the probe alone (the model's
share) and the naive grid, one subplot per channel, that the tiled heatmap replaces. Payload is
the JSON Streamlit sends for those figures. Uses the bundled r=16 model when it is there, else an
untrained one (the cost does not depend on the weights). Writes nothing.
"""

from __future__ import annotations

import argparse
import io
import os

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import torch
from PIL import Image
from plotly.subplots import make_subplots

from bench.timing import median_ms
from seattn import zoo
from seattn.analysis import explore, gradcam
from seattn.data.cifar10 import CIFAR10_CLASSES
from seattn.data.images import CheckedImage, open_image, to_model_input
from seattn.figures import explore as figures
from seattn.model.checkpoints import CheckpointError, load_model
from seattn.model.cnn import SECNN
from seattn.model.probe import probe

TARGET_MS = 50.0
TARGET_BYTES = 1_000_000


def page_figures(
    model: SECNN,
    classes: list[str],
    image: CheckedImage,
    *,
    which: explore.ChannelChoice = "top",
    k: int = 16,
    difference: bool = False,
    zoom: bool = False,
    grad_cam: bool = True,
) -> list[go.Figure]:
    """The figures Explore draws for one image, built as the page builds them (``grad_cam``:
    with Grad-CAM before and after every block's attention, as since issue 18)."""
    prepared = explore.prepare(image)
    analysis = explore.analyse_prepared(model, classes, [prepared])
    drawn = [figures.prediction_bars(analysis.top_k()[0])]
    view = np.asarray(prepared.view)
    maps = gradcam.grad_cam(model, prepared.view) if grad_cam else None
    for number, record in enumerate(analysis.blocks):
        weights = analysis.weights(number)[0]
        channels = explore.choose_channels(weights, which, k)
        analysis.statistics(number, 0)
        drawn.append(figures.channel_weight_bars(weights, highlight=channels))
        panels = explore.feature_map_panels(
            record.before[0], record.after[0], channels, show_difference=difference
        )
        drawn.append(figures.feature_map_grid(panels))
        if maps is not None:
            drawn.append(
                figures.maps_over_picture(
                    view, [maps.before[number], maps.after[number]], ["before", "after"], "cam"
                )
            )
        if record.spatial is not None:
            spatial = record.spatial[0].float().numpy()
            drawn.append(
                figures.maps_over_picture(
                    view, [spatial, spatial], ["over", "alone"], "w", show_picture=[True, False]
                )
            )
        if zoom:
            top = int(channels[0])
            drawn.append(
                figures.channel_zoom(
                    record.before[0, top].numpy(),
                    record.after[0, top].numpy(),
                    top,
                    float(weights[top]),
                )
            )
    return drawn


def naive_grids(model: SECNN, image: CheckedImage, k: int = 16) -> list[go.Figure]:
    """The approach the tiled heatmap replaces: one subplot (and axis pair) per channel."""
    result = probe(model, to_model_input([image.image]))
    drawn = []
    for number, record in enumerate(result.blocks):
        weights = record.weights[0].numpy()
        channels = explore.choose_channels(weights, "top", k)
        columns = explore.grid_columns(len(channels))
        rows = -(-len(channels) // columns)
        figure = make_subplots(rows=rows, cols=2 * columns)
        for slot, channel in enumerate(channels):
            row, column = slot // columns + 1, slot % columns + 1
            for offset, maps in ((0, record.before), (columns, record.after)):
                figure.add_trace(
                    go.Heatmap(z=maps[0, channel].numpy(), coloraxis="coloraxis"),
                    row=row,
                    col=column + offset,
                )
        figure.update_layout(title=f"block {number + 1}")
        drawn.append(figure)
    return drawn


def payload(drawn: list[go.Figure]) -> int:
    return figures.payload_bytes(drawn)


def serialise(drawn: list[go.Figure]) -> None:
    for figure in drawn:
        pio.to_json(figure, validate=False)


def bench_model() -> tuple[SECNN, list[str], str]:
    try:
        path = zoo.default_model_path()
        model, config = load_model(path)
        return model, list(config["classes"]), f"bundled {path.name}"
    except CheckpointError:
        torch.manual_seed(0)
        return SECNN(16).eval(), list(CIFAR10_CLASSES), "untrained r=16 (no bundled model)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    model, classes, model_name = bench_model()
    # A decoded phone-sized photo: the page crops and resizes it, as for any upload.
    rng = np.random.default_rng(0)
    photo = Image.fromarray(rng.integers(0, 256, (768, 1024, 3), dtype=np.uint8))
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=90)
    image = open_image(buffer.getvalue(), "photo.jpg")  # decoded: where the timing starts
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"model: {model_name}; image 1024x768; torch threads {torch.get_num_threads()}; "
        f"{os.cpu_count()} CPUs, load average {load:.2f}; median of up to {args.repeats} runs"
    )

    default = page_figures(model, classes, image)
    everything = page_figures(model, classes, image, which="all", difference=True, zoom=True)
    naive = naive_grids(model, image)
    rows = [
        (
            "probe alone (resize, normalise, forward)",
            median_ms(lambda: probe(model, to_model_input([image.image])), args.repeats),
            None,
        ),
        (
            "page, default options (16 channels)",
            median_ms(lambda: page_figures(model, classes, image), args.repeats),
            payload(default),
        ),
        (
            "  the same without Grad-CAM (before issue 18)",
            median_ms(lambda: page_figures(model, classes, image, grad_cam=False), args.repeats),
            payload(page_figures(model, classes, image, grad_cam=False)),
        ),
        (
            "page, all channels + difference + zoom",
            median_ms(
                lambda: page_figures(
                    model, classes, image, which="all", difference=True, zoom=True
                ),
                args.repeats,
            ),
            payload(everything),
        ),
        (
            "baseline: one subplot per channel (16/block)",
            median_ms(lambda: naive_grids(model, image), max(3, args.repeats // 6)),
            payload(naive),
        ),
        (
            "serialise default page to JSON",
            median_ms(lambda: serialise(default), args.repeats),
            None,
        ),
    ]
    print(f"{'what':48} {'median ms':>10} {'payload kB':>11}")
    for name, milliseconds, size in rows:
        shown = f"{size / 1000:11.0f}" if size is not None else f"{'':>11}"
        print(f"{name:48} {milliseconds:10.1f} {shown}")
    page_ms, page_bytes = rows[1][1], rows[1][2]
    print(
        f"target: <= {TARGET_MS:.0f} ms and <= {TARGET_BYTES / 1e6:.0f} MB for the default page: "
        f"{'met' if page_ms <= TARGET_MS and page_bytes <= TARGET_BYTES else 'NOT met'} "
        f"({page_ms:.1f} ms, {page_bytes / 1e6:.2f} MB); the naive grids alone take "
        f"{rows[4][1] / page_ms:.0f}x the whole page's time"
    )
    ratio = page_ms / rows[2][1]
    print(
        f"Grad-CAM's cost: the default page takes {ratio:.2f}x its time without it "
        f"(target: within 2x): {'met' if ratio <= 2 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
