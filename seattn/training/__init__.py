"""Training: the one spec, the engine, recipes, the run folder, the job queue and sweeps."""
