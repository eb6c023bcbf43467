"""Grad-CAM by torchcam and by pytorch-grad-cam, each against Grad-CAM written out, per layer.

    python -m bench.gradcam_libraries [--repeats 20]

The dashboard uses torchcam (seattn/analysis/gradcam.py). This is the measurement behind that
choice, kept to repeat it: on the bundled r=16 model and one sample picture, at each block's maps
before and after its attention, the largest difference of each library's map (scaled to 0..1)
from the hand-written one, and the median time of one call. pytorch-grad-cam is not a
requirement; install it beside to compare: ``pip install grad-cam==1.5.7``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torchcam.methods import GradCAM

from seattn.analysis.gradcam import _TappedNetwork
from seattn.data.examples import sample_pool
from seattn.data.images import to_model_input
from seattn.model.checkpoints import load_model
from seattn.training.hardware import device_name
from seattn.zoo import default_model_path


def scaled(cam: np.ndarray) -> np.ndarray:
    cam = cam - cam.min()
    return cam / cam.max() if cam.max() > 0 else cam


def by_hand(network: _TappedNetwork, layer: torch.nn.Module, batch, class_index) -> np.ndarray:
    kept = {}
    handle = layer.register_forward_hook(lambda _m, _i, output: kept.update(maps=output))
    try:
        score = network(batch)[0, class_index]
        (gradient,) = torch.autograd.grad(score, kept["maps"])
    finally:
        handle.remove()
    maps = kept["maps"]
    cam = torch.relu((gradient.mean(dim=(2, 3), keepdim=True) * maps).sum(dim=1))[0]
    return scaled(cam.detach().numpy())


def timed(call, repeats: int) -> tuple[np.ndarray, float]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return result, statistics.median(times) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    try:
        from pytorch_grad_cam import GradCAM as OtherGradCAM
        from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
    except ImportError:
        OtherGradCAM = None  # noqa: N806

    model, config = load_model(default_model_path())
    pool = sample_pool()
    with Image.open(pool.files[pool.classes[3]][0]) as opened:
        # The picture asks for the gradient; the network's parameters do not (as on the page).
        batch = to_model_input([opened.convert("RGB")]).requires_grad_()
    network = _TappedNetwork(model)
    with torch.no_grad():
        class_index = int(network(batch).argmax())
    print(f"on {device_name(torch.device('cpu'))}, {torch.get_num_threads()} threads")
    print(f"se-r16, a sample {pool.classes[3]}, Grad-CAM for {config['classes'][class_index]}")
    print("layer            torchcam: max |diff|  ms     pytorch-grad-cam: max |diff|  ms")
    for side in ("before", "after"):
        for block, layer in enumerate(getattr(network, side)):
            reference = by_hand(network, layer, batch, class_index)

            def with_torchcam(layer=layer):
                with GradCAM(network, target_layer=layer, input_shape=(3, 32, 32)) as extractor:
                    return extractor(class_index, network(batch))[0][0].detach().numpy()

            cam, torchcam_ms = timed(with_torchcam, args.repeats)
            line = (
                f"block{block + 1} {side:<6}   {np.abs(scaled(cam) - reference).max():18.1e}"
                f"  {torchcam_ms:5.1f}"
            )
            if OtherGradCAM is not None:

                def with_other(layer=layer):
                    with OtherGradCAM(model=network, target_layers=[layer]) as other:
                        return other(batch, [ClassifierOutputTarget(class_index)])[0]

                other_cam, other_ms = timed(with_other, args.repeats)
                # It hands out the map resized to the picture: compare with ours resized alike.
                upsized = F.interpolate(
                    torch.from_numpy(reference)[None, None], size=(32, 32), mode="bilinear"
                )[0, 0].numpy()
                difference = np.abs(other_cam - scaled(upsized)).max()
                line += f"     {difference:24.1e}  {other_ms:5.1f}"
            else:
                line += "     (pip install grad-cam==1.5.7 to compare)"
            print(line)


if __name__ == "__main__":
    main()
