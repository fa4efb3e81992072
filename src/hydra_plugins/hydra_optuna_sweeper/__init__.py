"""hydra-optuna-sweeper's class path, kept so configs naming it run on lstm-lab's sweeper.

lightning-hydra-template's search configs set `hydra.sweeper._target_` to
`hydra_plugins.hydra_optuna_sweeper.optuna_sweeper.OptunaSweeper`. That plugin needs
optuna<3 and this project optuna>=4, so the two are never installed together.
"""
