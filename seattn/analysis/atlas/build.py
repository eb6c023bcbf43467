"""Building an atlas in one pass over an evaluation set, and its cache file.

The cache lives under the data folder (``SEATTN_DATA_DIR``/atlas/), one file per model and
evaluation request, and holds tensors and plain types only (read with ``weights_only=True``). It
records the model file's content hash and the images' fingerprint: a file that is truncated,
from another model or of other images is recomputed, never trusted. Its only writer is
``open_atlas`` (atomically); the CLI and the page share it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from seattn import settings
from seattn.analysis.atlas.evaluation_set import (
    EvaluationRequest,
    fingerprint,
    load_evaluation_set,
    resolve_request,
)
from seattn.analysis.atlas.interventions import CleanWeights, run_interventions
from seattn.analysis.atlas.measures import block_measures
from seattn.atomic import atomic_path
from seattn.data.datasets import DataError, ImageSet
from seattn.data.images import normalize_uint8
from seattn.i18n import N_, _
from seattn.model.checkpoints import load_model
from seattn.model.cnn import SECNN
from seattn.model.inference import inference_copy, inference_input
from seattn.training.hardware import cpu_has_native_bf16

FORMAT = "seattn.atlas"
FORMAT_VERSION = 1
TOP_IMAGES = 16  # per channel, the images that give it the highest (and the lowest) weight
BATCH_SIZE = 250

# (stage, done, total): the CLI draws it with tqdm, the page with a progress bar.
ProgressFn = Callable[[str, int, int], None]


class Stage:
    """The stages reported to ``progress``, in English (the command line shows them as they
    are); marked for translation, so that a page shows a stage with ``_(stage)``."""

    IMAGES = N_("reading the images")
    WEIGHTS = N_("recording every block's weights")
    MAPS = N_("averaging each channel's feature maps")
    INTERVENTIONS = N_("running the interventions")


@dataclass(frozen=True)
class BlockAtlas:
    name: str
    weights: torch.Tensor  # [N, C] float32, one row per image of the evaluation set
    measures: dict[str, Any]  # seattn.analysis.atlas.measures.block_measures
    top: torch.Tensor  # [C, TOP_IMAGES] image indices, highest weight first
    bottom: torch.Tensor  # [C, TOP_IMAGES] image indices, lowest weight first
    mean_maps: torch.Tensor  # [C, H, W] each channel's map entering SE, mean over its top images

    @property
    def channels(self) -> int:
        return int(self.weights.shape[1])


@dataclass(frozen=True)
class Atlas:
    """What SE does over one evaluation set, for one model."""

    model: str  # the model's name, as asked for
    model_sha: str  # the model file's content hash
    data: dict[str, Any]  # the request, plus "images" and "fingerprint"
    classes: list[str]  # the model's classes; labels index them
    labels: torch.Tensor  # [N] true classes
    predictions: torch.Tensor  # [N] predicted classes
    clean_accuracy: float
    blocks: list[BlockAtlas]  # one per SE block, in network order; empty without SE
    interventions: list[dict[str, Any]]  # seattn.analysis.atlas.interventions records
    thumbnails: torch.Tensor  # [M, 3, 32, 32] uint8: the images some channel ranks top or bottom
    thumbnail_ids: torch.Tensor  # [M] their indices in the evaluation set, increasing
    precision: str  # the interventions' ("float32" or "bfloat16"); weights are always float32

    @property
    def images(self) -> int:
        return int(self.labels.shape[0])

    @property
    def has_se(self) -> bool:
        return bool(self.blocks)

    def block(self, name: str) -> BlockAtlas:
        for block in self.blocks:
            if block.name == name:
                return block
        raise KeyError(f"no SE block named {name!r} (blocks: {[b.name for b in self.blocks]})")

    def thumbnail(self, index: int) -> np.ndarray:
        """[32, 32, 3] uint8 picture of image ``index`` (one some channel ranks top or bottom)."""
        row = int(torch.searchsorted(self.thumbnail_ids, index))
        if row >= len(self.thumbnail_ids) or int(self.thumbnail_ids[row]) != index:
            raise KeyError(f"image {index} is not among the atlas's thumbnails")
        return self.thumbnails[row].permute(1, 2, 0).numpy()

    def summary(self) -> dict[str, Any]:
        """The JSON object ``python -m seattn analyse --json`` prints (stable names)."""
        return {
            "model": self.model,
            "data": self.data,
            "images": self.images,
            "clean_accuracy": self.clean_accuracy,
            "precision": self.precision,
            "blocks": [{"name": b.name, "channels": b.channels, **b.measures} for b in self.blocks],
            "interventions": self.interventions,
        }


# -- building ---------------------------------------------------------------------------------


def build_atlas(
    model: SECNN,
    classes: list[str],
    image_set: ImageSet,
    *,
    model_name: str,
    model_sha: str,
    data: dict[str, Any],
    seed: int = 0,
    precision: str | None = None,
    progress: ProgressFn | None = None,
) -> Atlas:
    """Measure ``model`` over ``image_set`` (its labels already in the model's class order).

    ``precision`` of the interventions: None picks bfloat16 on CPUs that compute it natively.
    """
    report = progress or (lambda stage, done, total: None)
    if precision is None:
        precision = "bfloat16" if cpu_has_native_bf16() else "float32"
    dtype = torch.bfloat16 if precision == "bfloat16" else torch.float32
    labels = image_set.labels
    weights, predictions = _record(model, image_set.images, report)
    blocks, thumbnail_ids = [], set()
    for name, block_weights in weights.items():
        count = min(TOP_IMAGES, len(labels))
        top = block_weights.topk(count, dim=0).indices.T.contiguous()
        bottom = block_weights.topk(count, dim=0, largest=False).indices.T.contiguous()
        thumbnail_ids.update(top.flatten().tolist() + bottom.flatten().tolist())
        measures = block_measures(block_weights, labels, seed=seed)
        blocks.append((name, block_weights, measures, top, bottom))
    maps = _mean_maps(model, image_set.images, {name: top for name, _, _, top, _ in blocks}, report)
    interventions = []
    if weights:
        clean = CleanWeights.from_weights(weights, seed)
        interventions = run_interventions(
            model,
            image_set.images,
            labels,
            clean,
            dtype=dtype,
            progress=lambda done, total: report(Stage.INTERVENTIONS, done, total),
        )
    ids = torch.tensor(sorted(thumbnail_ids), dtype=torch.int64)
    return Atlas(
        model=model_name,
        model_sha=model_sha,
        data={**data, "images": len(labels), "classes": list(classes)},
        classes=list(classes),
        labels=labels,
        predictions=predictions,
        clean_accuracy=float((predictions == labels).double().mean()),
        blocks=[
            BlockAtlas(name, w, measures, top, bottom, maps[name])
            for name, w, measures, top, bottom in blocks
        ],
        interventions=interventions,
        thumbnails=image_set.images[ids].contiguous(),
        thumbnail_ids=ids,
        precision=precision,
    )


def _record(
    model: SECNN, images: torch.Tensor, report: ProgressFn
) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """(block -> [N, C] float32 weights, [N] predictions): the clean pass, in float32."""
    fast = inference_copy(model)
    weights: dict[str, list[torch.Tensor]] = {}
    predictions = []
    n = len(images)
    with torch.inference_mode():
        for start in range(0, n, BATCH_SIZE):
            batch = inference_input(normalize_uint8(images[start : start + BATCH_SIZE]))
            logits, records = fast.forward_recorded(batch)
            predictions.append(logits.argmax(dim=1))
            for record in records:
                weights.setdefault(record.name, []).append(record.weights.float())
            report(Stage.WEIGHTS, min(start + BATCH_SIZE, n), n)
    return {name: torch.cat(parts) for name, parts in weights.items()}, torch.cat(predictions)


def _mean_maps(
    model: SECNN, images: torch.Tensor, tops: dict[str, torch.Tensor], report: ProgressFn
) -> dict[str, torch.Tensor]:
    """Per block, [C, H, W]: each channel's feature map entering SE, averaged over its top images.

    Only the images some channel ranks top are run again.
    """
    if not tops:
        return {}
    needed = torch.cat([top.flatten() for top in tops.values()]).unique()
    fast = inference_copy(model)
    sums: dict[str, torch.Tensor] = {}
    with torch.inference_mode():
        for start in range(0, len(needed), BATCH_SIZE):
            ids = needed[start : start + BATCH_SIZE]
            batch = inference_input(normalize_uint8(images[ids]))
            records = fast.forward_recorded(batch)[1]
            for record in records:
                top = tops[record.name]  # [C, k]
                # member[i, c]: image ids[i] is one of channel c's top images
                member = (ids[:, None, None] == top[None]).any(dim=2).float()
                contribution = torch.einsum("ic,ichw->chw", member, record.before.float())
                sums[record.name] = sums.get(record.name, 0) + contribution
            report(Stage.MAPS, min(start + BATCH_SIZE, len(needed)), len(needed))
    return {name: total / tops[name].shape[1] for name, total in sums.items()}


# -- the cache --------------------------------------------------------------------------------


def file_sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def cache_path(model_sha: str, request: EvaluationRequest, data_dir: Path | None = None) -> Path:
    folder = (Path(data_dir) if data_dir is not None else settings.data_dir()) / "atlas"
    return folder / f"atlas-{model_sha[:16]}-{request.key()}.pt"


def save_atlas(atlas: Atlas, path: Path) -> None:
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model": atlas.model,
        "model_sha": atlas.model_sha,
        "data": atlas.data,
        "classes": atlas.classes,
        "labels": atlas.labels,
        "predictions": atlas.predictions,
        "clean_accuracy": atlas.clean_accuracy,
        "interventions": atlas.interventions,
        "thumbnails": atlas.thumbnails,
        "thumbnail_ids": atlas.thumbnail_ids,
        "precision": atlas.precision,
        "blocks": [
            {
                "name": b.name,
                "weights": b.weights,
                "measures": b.measures,
                "top": b.top,
                "bottom": b.bottom,
                "mean_maps": b.mean_maps,
            }
            for b in atlas.blocks
        ],
    }
    with atomic_path(Path(path)) as tmp:
        torch.save(payload, tmp)


def read_atlas(path: Path, *, model_sha: str, data_fingerprint: str | None) -> Atlas | None:
    """The cached atlas at ``path`` if it is whole and of this model and these images, else None.

    ``data_fingerprint`` None trusts the images (a caller that checked them already).
    """
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        if payload.get("format") != FORMAT or payload.get("format_version") != FORMAT_VERSION:
            return None
        if payload["model_sha"] != model_sha:
            return None
        if data_fingerprint is not None and payload["data"]["fingerprint"] != data_fingerprint:
            return None
        blocks = [BlockAtlas(**block) for block in payload.pop("blocks")]
        fields = {k: v for k, v in payload.items() if k not in ("format", "format_version")}
        return Atlas(blocks=blocks, **fields)
    except Exception:  # missing, truncated, damaged or of an older layout: only a cache
        return None


def open_atlas(
    model_path: Path | str,
    *,
    model_name: str | None = None,
    data: str | None = None,
    split: str | None = None,
    limit: int | None = None,
    seed: int = 0,
    data_dir: Path | None = None,
    rebuild: bool = False,
    cached_only: bool = False,
    precision: str | None = None,
    progress: ProgressFn | None = None,
) -> Atlas | None:
    """The atlas of the model at ``model_path``: from the cache when it is valid, else built and
    cached. ``cached_only`` returns None instead of building. Raises CheckpointError for a model
    that cannot be opened and DataError for images that cannot be used.
    """
    model_path = Path(model_path)
    model, config = load_model(model_path)
    request = resolve_request(config, data=data, split=split, limit=limit, seed=seed)
    sha = file_sha(model_path)
    path = cache_path(sha, request, data_dir)
    report = progress or (lambda stage, done, total: None)
    image_set = load_evaluation_set(
        request,
        data_dir=data_dir,
        progress=lambda done, total: report(Stage.IMAGES, done, total),
    )
    image_set = in_model_classes(image_set, list(config["classes"]), request.data)
    data_fingerprint = fingerprint(image_set)
    if not rebuild:
        cached = read_atlas(path, model_sha=sha, data_fingerprint=data_fingerprint)
        if cached is not None or cached_only:
            return cached
    atlas = build_atlas(
        model,
        list(config["classes"]),
        image_set,
        model_name=model_name or model_path.stem,
        model_sha=sha,
        data={**request.describe(), "fingerprint": data_fingerprint},
        seed=seed,
        precision=precision,
        progress=progress,
    )
    save_atlas(atlas, path)
    return atlas


def in_model_classes(image_set: ImageSet, model_classes: list[str], data: str) -> ImageSet:
    """``image_set`` with labels renumbered to the model's classes; DataError for unknown ones.

    A folder may hold some of the model's classes (say only cat/ and dog/), in its own order.
    """
    if image_set.classes == model_classes:
        return image_set
    unknown = [name for name in image_set.classes if name not in model_classes]
    if unknown:
        message = _(
            "{data}: its classes {unknown} are not among the model's {classes}; measure "
            "the model on images of its own classes"
        )
        raise DataError(message.format(data=data, unknown=unknown, classes=model_classes))
    renumber = torch.tensor([model_classes.index(name) for name in image_set.classes])
    return ImageSet(image_set.images, renumber[image_set.labels], model_classes, image_set.files)
