"""Interventions act on the real forward pass: checked against the network run by hand."""

from __future__ import annotations

import torch
from torch import nn

from seattn.analysis.atlas.interventions import (
    ALL_BLOCKS,
    CleanWeights,
    Kind,
    adjustment,
    plan,
    run_interventions,
    zeroed_channels,
)
from seattn.data.images import normalize_uint8
from seattn.model.cnn import SECNN


def network(ratio: int | None = 4, classes: int = 3) -> SECNN:
    torch.manual_seed(0)
    model = SECNN(reduction_ratio=ratio, num_classes=classes).eval()
    for block in model.blocks:  # batch norm statistics that are not the identity
        nn.init.uniform_(block.bn.running_mean, -0.2, 0.2)
        nn.init.uniform_(block.bn.running_var, 0.5, 2.0)
    return model


def images(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    pictures = torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=generator)
    return pictures, torch.randint(0, 3, (n,), generator=generator)


def clean_weights(model: SECNN, pictures: torch.Tensor, seed: int = 0) -> CleanWeights:
    with torch.inference_mode():
        _, records = model.forward_recorded(normalize_uint8(pictures))
    return CleanWeights.from_weights({r.name: r.weights.float() for r in records}, seed)


def accuracy_of(logits: torch.Tensor, labels: torch.Tensor) -> float:
    return float((logits.argmax(dim=1) == labels).double().mean())


def by_hand_without_se(model: SECNN, x: torch.Tensor) -> torch.Tensor:
    """The network with every SE weight forced to 1, written out from its layers."""
    for block in model.blocks:
        x = block.pool(block.relu(block.bn(block.conv(x))))
    return model.classifier(x)


def records_of(results: list[dict]) -> dict[tuple[str, str, float | None], float]:
    return {(r["kind"], r["blocks"], r["k"]): r["accuracy"] for r in results}


def test_bypass_everywhere_equals_the_network_with_every_se_weight_forced_to_one():
    model = network()
    pictures, labels = images(60)
    results = records_of(run_interventions(model, pictures, labels, clean_weights(model, pictures)))
    with torch.inference_mode():
        expected = accuracy_of(by_hand_without_se(model, normalize_uint8(pictures)), labels)
        logits, _ = model.forward_recorded(
            normalize_uint8(pictures), {n: torch.ones_like for n in ("block1", "block2", "block3")}
        )
        assert torch.allclose(logits, by_hand_without_se(model, normalize_uint8(pictures)))
    assert results[("bypass", ALL_BLOCKS, None)] == expected


def test_clean_is_the_plain_accuracy_and_mean_vector_on_one_image_changes_nothing():
    model = network()
    pictures, labels = images(1)
    results = records_of(run_interventions(model, pictures, labels, clean_weights(model, pictures)))
    with torch.inference_mode():
        clean = accuracy_of(model(normalize_uint8(pictures)), labels)
    assert results[("clean", ALL_BLOCKS, None)] == clean
    for where in ("block1", "block2", "block3", ALL_BLOCKS):
        assert results[("mean_vector", where, None)] == clean


def test_the_mean_vector_of_one_image_is_its_own_weights_in_the_forward_pass():
    model = network()
    pictures, _ = images(1)
    clean = clean_weights(model, pictures)
    x = normalize_uint8(pictures)
    with torch.inference_mode():
        plain, _ = model.forward_recorded(x)
        adjusted, _ = model.forward_recorded(
            x, {n: adjustment(Kind.MEAN_VECTOR, n, None, clean, slice(0, 1)) for n in clean.weights}
        )
    assert torch.allclose(plain, adjusted, atol=1e-6)


def test_zeroing_no_channels_is_clean_and_zeroing_k_zeroes_exactly_the_top_or_bottom_k():
    model = network()
    pictures, _ = images(8)
    clean = clean_weights(model, pictures)
    x = normalize_uint8(pictures)
    rows = slice(0, 8)
    with torch.inference_mode():
        plain, plain_records = model.forward_recorded(x)
        untouched, _ = model.forward_recorded(
            x, {"block2": adjustment(Kind.ZERO_TOP, "block2", 0.0, clean, rows)}
        )
        assert torch.equal(plain, untouched)
        for kind, largest in ((Kind.ZERO_TOP, True), (Kind.ZERO_BOTTOM, False)):
            _, records = model.forward_recorded(
                x, {"block3": adjustment(kind, "block3", 0.25, clean, rows)}
            )
            original = plain_records[2].weights
            zeroed = records[2].weights == 0
            assert (zeroed.sum(dim=1) == zeroed_channels(128, 0.25)).all()
            chosen = original.topk(32, dim=1, largest=largest).indices
            assert zeroed.gather(1, chosen).all()
            # block1 ran as before; block2 is upstream of the change
            assert torch.equal(records[0].weights, plain_records[0].weights)


def test_a_change_in_block1_reaches_later_blocks_weights():
    model = network()
    pictures, _ = images(4)
    x = normalize_uint8(pictures)
    with torch.inference_mode():
        _, plain = model.forward_recorded(x)
        _, changed = model.forward_recorded(x, {"block1": torch.ones_like})
    assert torch.equal(changed[0].weights, torch.ones_like(plain[0].weights))
    assert not torch.allclose(changed[1].weights, plain[1].weights)


def test_starting_from_a_blocks_features_equals_the_full_pass():
    model = network()
    pictures, _ = images(4)
    x = normalize_uint8(pictures)
    with torch.inference_mode():
        full, _ = model.forward_recorded(x, {"block2": torch.ones_like})
        after_block1, _ = model.blocks[0](x), None
        started, _ = model.forward_from(
            1, model.blocks[1].features(after_block1), {"block2": torch.ones_like}
        )
    assert torch.allclose(full, started)


def test_other_image_is_a_permutation_without_fixed_points_and_k_rounds_to_whole_channels():
    model = network()
    pictures, _ = images(50)
    permutation = clean_weights(model, pictures, seed=3).permutation
    assert sorted(permutation.tolist()) == list(range(50))
    assert not (permutation == torch.arange(50)).any()
    assert [zeroed_channels(c, 0.1) for c in (32, 64, 128)] == [3, 6, 13]
    assert [zeroed_channels(c, 0.25) for c in (32, 64, 128)] == [8, 16, 32]


def test_every_kind_is_planned_per_block_and_the_first_four_for_all_blocks():
    planned = plan(["block1", "block2"])
    per_block = [p for p in planned if p.blocks == "block1"]
    assert len(per_block) == 4 + 3 * 2
    assert {p.kind for p in planned if p.blocks == ALL_BLOCKS} == {
        Kind.CLEAN,
        Kind.BYPASS,
        Kind.MEAN_VECTOR,
        Kind.SCALAR,
        Kind.OTHER_IMAGE,
    }
    assert plan([]) == []


def test_a_network_without_se_has_no_interventions():
    model = network(ratio=None)
    pictures, labels = images(5)
    assert run_interventions(model, pictures, labels, CleanWeights({}, torch.arange(5), {})) == []


def test_the_model_is_left_untouched():
    model = network()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    pictures, labels = images(20)
    run_interventions(model, pictures, labels, clean_weights(model, pictures))
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert not model.training
    assert all(not block._forward_hooks for block in model.modules())
