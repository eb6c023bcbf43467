"""The atlas: what SE does across a whole evaluation set, not for one picture.

    evaluation_set  which images are measured (by default ones the model never trained on)
    measures        per block: mean, spread, fixed per-channel gain, class specificity
    interventions   accuracy when a block's weights are replaced (bypassed, frozen, zeroed...)
    build           one pass that records everything, and the cache file the CLI and page share

``open_atlas(model_path, ...)`` is the way in: it returns the cached atlas when it is still
valid and builds (and caches) one otherwise.
"""

from seattn.analysis.atlas.build import Atlas, BlockAtlas, Stage, open_atlas
from seattn.analysis.atlas.evaluation_set import EvaluationRequest, Split, resolve_request

__all__ = [
    "Atlas",
    "BlockAtlas",
    "EvaluationRequest",
    "Split",
    "Stage",
    "open_atlas",
    "resolve_request",
]
