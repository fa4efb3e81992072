"""A Hydra sweeper on current Optuna: persistent study, resumable, best parameters saved."""
