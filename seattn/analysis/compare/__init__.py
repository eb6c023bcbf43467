"""Reduction ratios and attention modules side by side: what the Compare page computes, without
the page.

    sources    the trained models: completed runs and bundled models, with their extra seeds;
               a model's variant, (attention module, ratio)
    grouping   which models are comparable: same images, same recipe
    tables     one row per model or per variant, learning curves over seeds
    speed      a training step of each variant, timed on this machine once per process
    attention  excitation statistics and similarity over the validation images, and one image
               through every variant

Variants. SE at each ratio, ECA, CBAM at each ratio and the network without attention
(seattn.model.attention) compare within a group like ratios always did: a config without
"attention" reads as before (a ratio: SE; none: no attention), so older runs and bundled models
keep their groups, variants ("no SE", "r=16") and order. ECA and CBAM follow SE ("ECA",
"CBAM r=16"); the attention's own parameters and FLOPs are its module's, whatever its kind.


Sources. Completed runs of the run store (``SEATTN_RUNS_DIR``) and the bundled models
(``SEATTN_ZOO_DIR``, see seattn.zoo). A bundled model may also report extra seeds that were
trained without shipping their weights: they count in the accuracy columns, nothing else.

Grouping. Two trained models are comparable only when they saw the same images (the data
fingerprint, which hashes the exact training and validation images) and followed the same recipe
(``seattn.training.recipes.Recipe``: optimiser, lr, batch size, augmentation, epochs, limit).
Every model lands in exactly one :class:`ComparisonGroup`; the page shows the groups and compares
within one, so runs of another data set or recipe are never averaged in silently. Within a group,
a second model with the same (ratio, seed) repeats an experiment instead of adding a seed: it is
left out of the statistics and listed with the reason (bundled models win, then runs by name).

Statistics. One row per variant in a group; accuracy, loss, time and speed are the mean and the
sample standard deviation (n - 1) over its seeds. Parameters and FLOPs belong to the
architecture, so they are computed once per (variant, classes) on the meta device (no weights,
no random numbers).

Attention. Per block, weight statistics (seattn.analysis.statistics) over validation images
for every model with weights, and how alike two ratios' attention is:

- for one image, the Pearson correlation of two ratios' excitation vectors of the same block.
  The hidden width differs between ratios but the excitation output has one weight per channel
  (C entries) whatever the ratio, so the vectors always line up entry by entry; the network
  without SE has no vectors and is left out. Channel c of two separately trained networks is
  only the same feature as far as training kept them alike (runs with one seed share block 1's
  initial filters and their batch order; deeper blocks start differently), so low correlations
  in deep blocks may mean "different channel order" as much as "different attention";
- over the validation images, linear CKA (centred kernel alignment) of the two ratios' [N, C]
  excitation matrices: it compares which images a block treats alike, so it does not depend on
  channel order at all.
"""
