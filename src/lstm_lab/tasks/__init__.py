"""Tasks: what an experiment reports beside the model's own test step (metrics, plots, eval)."""
