"""The network: SE block, reference CNN, reduction ratios, checkpoints, parameters and FLOPs."""
