"""Tests for seattn.analysis.compare.grouping: only models of one data set and recipe compare.

The groups are structured; their labels and reasons are worded in tests/app/test_text.py.
"""

from __future__ import annotations

import dataclasses

from seattn.analysis.catalog import ModelSource
from seattn.analysis.compare import grouping
from seattn.model.attention import AttentionKind
from seattn.training.recipes import Augmentation, Optimizer, Recipe
from seattn.training.spec import TrainSpec
from tests.helpers_compare import synthetic


def test_runs_and_bundled_models_are_grouped_by_data_and_recipe(store, groups):
    assert len(groups) == 2
    first, other = groups
    assert first.ratios == [None, 4, 8]  # the group with most ratios leads
    assert other.ratios == [4] and [m.name for m in other.models] == ["other-data-r4"]
    assert first.data["fingerprint"] != other.data["fingerprint"]
    assert first.recipe == other.recipe  # same recipe, other images: still two groups
    table = grouping.groups_table(groups)
    assert table["models"].tolist() == [5, 1]
    assert table["sources"].tolist() == ["bundled, run", "run"]
    assert first.recipe.epochs == 1


def test_a_repeated_ratio_and_seed_is_left_out_with_the_model_it_repeats():
    kept = synthetic("a", 4, 0, 0.8, source=ModelSource.BUNDLED)
    repeat = synthetic("b", 4, 0, 0.6)
    (group,) = grouping.group_models([kept, repeat, synthetic("c", 4, 1, 0.7)])
    assert [m.name for m in group.models] == ["a", "c"]
    assert group.left_out[0][0] is repeat and group.left_out[0][1] is kept
    assert len(group.left_out) == 1


def test_runs_saved_before_augmentation_had_names_group_with_the_course_recipe():
    recipe = synthetic("base", 4, 0, 0.8).recipe

    def as_saved(augment):
        return Recipe.from_record({**recipe.to_dict(), "augment": augment}).as_trained(2)

    old = synthetic("old", 4, 0, 0.8, recipe=as_saved(True))
    new = synthetic("new", 8, 0, 0.8, recipe=as_saved("course"))
    crop_flip = synthetic("crop", 16, 0, 0.8, recipe=as_saved("crop-flip"))
    groups = grouping.group_models([old, new, crop_flip])
    assert sorted(sorted(m.name for m in g.models) for g in groups) == [["crop"], ["new", "old"]]
    augments = {m.name: g.recipe.augment for g in groups for m in g.models}
    assert augments == {
        "old": Augmentation.COURSE,
        "new": Augmentation.COURSE,
        "crop": Augmentation.CROP_FLIP,
    }


def test_other_recipe_or_fingerprint_makes_another_group():
    base = synthetic("a", 4, 0, 0.8)
    other_lr = synthetic("b", 4, 1, 0.8, recipe=dataclasses.replace(base.recipe, lr=0.01))
    other_data = synthetic("c", 4, 2, 0.8, data={**base.data, "fingerprint": "f2"})
    groups = grouping.group_models([base, other_lr, other_data])
    assert sorted(len(g.models) for g in groups) == [1, 1, 1]
    assert len({g.key for g in groups}) == 3
    # same data name, other images: still apart
    assert sorted(g.data["fingerprint"] for g in groups) == ["f1", "f1", "f2"]


def test_an_sgd_cosine_model_groups_apart_and_the_table_names_its_optimizer():
    def recipe(optimizer):
        config = {"optimizer": optimizer, "lr": 0.05, "batch_size": 16, "augment": "crop-flip"}
        return TrainSpec.from_dict(config).recipe().as_trained(2)

    adam = synthetic("adam", 4, 0, 0.8, recipe=recipe(None))  # saved before the choice
    sgd = synthetic("sgd", 8, 0, 0.8, recipe=recipe("sgd-cosine"))
    groups = grouping.group_models([adam, sgd])
    assert len(groups) == 2
    optimizers = {m.name: g.recipe.optimizer for g in groups for m in g.models}
    # saved before the choice: the course's optimizer
    assert optimizers == {"adam": Optimizer.ADAM_PLATEAU, "sgd": Optimizer.SGD_COSINE}
    table = grouping.groups_table(groups)
    by_model = {g.models[0].name: row for g, row in zip(groups, table.itertuples(), strict=True)}
    assert by_model["sgd"].optimizer == "sgd-cosine"  # a name in the table; the page words it


def test_eca_and_cbam_join_the_se_ratios_of_their_recipe_and_data_as_variants():
    models = [
        synthetic("cbam", 16, 0, 0.8, attention="cbam"),
        synthetic("eca", None, 0, 0.8, attention="eca"),
        synthetic("r16", 16, 0, 0.8),  # a record from before ECA: a ratio means SE
        synthetic("plain", None, 0, 0.7),  # and no ratio no attention
        synthetic("r4", 4, 0, 0.8, attention="se"),
    ]
    (group,) = grouping.group_models(models)
    assert [v.label for v in group.variants] == ["no SE", "r=4", "r=16", "ECA", "CBAM r=16"]
    assert [m.name for m in group.models] == ["plain", "r4", "r16", "eca", "cbam"]
    # SE r=16 and CBAM r=16 of one seed are two variants, not a repeat of one experiment.
    assert not group.left_out
    assert [m.name for m in group.variant_models(16)] == ["r16"]  # a bare ratio: SE's
    cbam = grouping.Variant(AttentionKind.CBAM, 16)
    assert [m.name for m in group.variant_models(cbam)] == ["cbam"]
    assert grouping.groups_table([group])["variants"].tolist() == [
        "no SE, r=4, r=16, ECA, CBAM r=16"
    ]
    assert [m.variant for m in grouping.representatives(group)] == []  # none has weights


def test_a_repeated_eca_seed_is_left_out_and_other_data_stays_apart():
    first = synthetic("eca-a", None, 0, 0.8, attention="eca")
    repeat = synthetic("eca-b", None, 0, 0.6, attention="eca")
    elsewhere = synthetic("eca-c", None, 0, 0.6, attention="eca", data={"fingerprint": "f2"})
    groups = grouping.group_models([first, repeat, elsewhere])
    by_name = {g.models[0].name: g for g in groups}
    assert sorted(by_name) == ["eca-a", "eca-c"] and len(groups) == 2
    assert by_name["eca-a"].left_out == ((repeat, first),)
    assert by_name["eca-c"].left_out == ()


def test_old_runs_and_bundled_models_group_exactly_as_before(groups, kinds_groups):
    # The comparison store holds SE ratios and no SE only, with configs that never say
    # "attention" for the bundled model; their variants and order are those of the ratios.
    group = groups[0]
    assert [v.label for v in group.variants] == ["no SE", "r=4", "r=8"]
    assert {m.attention for m in group.models} == {AttentionKind.NONE, AttentionKind.SE}
    # The same runs with an ECA and a CBAM run of their recipe beside them: one group of five.
    main = kinds_groups[0]
    assert [v.label for v in main.variants] == ["no SE", "r=4", "r=8", "ECA", "CBAM r=4"]
    assert [len(g.models) for g in kinds_groups] == [7, 1]
    assert [m.variant for m in grouping.representatives(main)] == [
        "no SE",
        "r=4",
        "r=8",
        "ECA",
        "CBAM r=4",
    ]
