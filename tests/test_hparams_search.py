"""Optuna searches through `python train.py -m hparams_search=...`: stored, resumed, reported."""

from __future__ import annotations

import optuna
import pytest
from omegaconf import OmegaConf
from optuna.distributions import CategoricalDistribution
from optuna.trial import TrialState
from test_sweeps import QUIET, multirun, read_summary

from hydra_plugins.lstm_lab_optuna_sweeper.optuna_sweeper import search_space


def load_study(sweep_dir, name="bilstm_optuna") -> optuna.Study:
    return optuna.load_study(study_name=name, storage=f"sqlite:///{sweep_dir}/optuna.db")


@pytest.mark.e2e
def test_search_is_stored_and_a_second_invocation_resumes_it(tmp_path):
    sweep_dir = tmp_path / "search"
    search = ["hparams_search=bilstm_optuna", *QUIET]
    first = multirun(sweep_dir, *search, "hydra.sweeper.n_trials=3")

    study = load_study(sweep_dir)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 3
    best = OmegaConf.load(sweep_dir / "best_params.yaml")
    assert best.metric == "val/best" and best.direction == "minimize"
    assert best.best.value == min(t.value for t in study.trials) == study.best_value
    assert set(best.best.params) == {
        "model.hidden_size",
        "model.merge_mode",
        "model.optimizer.lr",
        "data.batch_size",
    }
    assert "Best of 3 completed trials" in first.stdout

    # A killed invocation leaves its trial RUNNING; make one, as if the process had died.
    study.ask({"model.hidden_size": CategoricalDistribution([8, 16, 32, 64])})
    interrupted = load_study(sweep_dir).trials[-1]
    assert interrupted.state == TrialState.RUNNING

    second = multirun(sweep_dir, *search, "hydra.sweeper.n_trials=5")
    trials = load_study(sweep_dir).trials
    assert len(trials) == 6  # grown, not started over
    assert [t.state for t in trials[:3]] == [TrialState.COMPLETE] * 3
    assert trials[3].state == TrialState.FAIL  # the interrupted one ...
    retry = trials[4]  # ... runs again with its parameters
    assert retry.user_attrs["retry_of"] == 3
    assert retry.params["model.hidden_size"] == interrupted.params["model.hidden_size"]
    assert [t.state for t in trials[4:]] == [TrialState.COMPLETE] * 2
    assert "3 of 5 trials done, 2 to run" in second.stderr + second.stdout

    # Job numbers continue the trial numbers: the second invocation's folders are new ones.
    rows = read_summary(sweep_dir)
    assert [int(r["job"]) for r in rows] == [0, 1, 2, 4, 5]
    assert all(r["status"] == "completed" for r in rows)
    assert OmegaConf.load(sweep_dir / "best_params.yaml").trials.complete == 5


def test_search_space_reads_choice_range_and_log_interval():
    space, fixed = search_space(
        {
            "model.hidden_size": "choice(8, 16)",
            "model.optimizer.lr": "tag(log, interval(1e-3, 0.1))",
        },
        ["model.num_layers=range(1, 4)", "model.hidden_size=32", "debug=fast"],
    )
    assert set(space) == {"model.optimizer.lr", "model.num_layers"}  # fixed on the command line
    assert space["model.optimizer.lr"].log and space["model.optimizer.lr"].high == 0.1
    assert (space["model.num_layers"].low, space["model.num_layers"].high) == (1, 3)
    assert fixed == ["model.hidden_size=32", "debug=fast"]


@pytest.mark.parametrize("search", ["bilstm_optuna", "stacked_lstm_optuna"])
def test_search_configs_compose_with_a_resumable_sweep_dir(make_cfg, search):
    cfg = make_cfg(f"hparams_search={search}")
    sweeper = cfg.hydra.sweeper
    assert sweeper._target_.endswith("OptunaSweeper")
    assert sweeper.storage.endswith("/optuna.db") and sweeper.study_name == search
    # No timestamp in the folder: re-running the command finds the same study.
    assert cfg.hydra.sweep.dir.endswith(f"hparams_search/{search}")
    assert cfg.name == search.removesuffix("_optuna")
