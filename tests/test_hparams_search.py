"""Optuna searches through `python train.py -m hparams_search=...`: stored, resumed, reported."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import hydra
import optuna
import pytest
from conftest import REPO_ROOT, run_cli, start_cli
from omegaconf import OmegaConf
from optuna.distributions import CategoricalDistribution
from optuna.trial import TrialState
from test_sweeps import QUIET, multirun, read_summary

from hydra_plugins.lstm_lab_optuna_sweeper.optuna_sweeper import search_space
from hydra_plugins.lstm_lab_optuna_sweeper.study import pruner_of


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
    assert "Heartbeat" not in first.stderr  # Optuna's notice that no user can act on

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
    assert retry.system_attrs["failed_trial"] == 3
    assert retry.params["model.hidden_size"] == interrupted.params["model.hidden_size"]
    assert [t.state for t in trials[4:]] == [TrialState.COMPLETE] * 2
    assert "3 of 5 trials done" in second.stderr + second.stdout

    # Job numbers continue the trial numbers: the second invocation's folders are new ones.
    rows = read_summary(sweep_dir)
    assert [int(r["job"]) for r in rows] == [0, 1, 2, 4, 5]
    assert all(r["status"] == "completed" for r in rows)
    best = OmegaConf.load(sweep_dir / "best_params.yaml")
    assert best.trials.complete == 5

    # One command trains the best trial again at the recipe's full budget (2000 steps, not
    # the search's 500 or debug=fast's 20), into a run named after the search and the trial.
    retrain = run_cli(str(sweep_dir), "--cfg", "job", script="retrain.py")
    assert retrain.returncode == 0, retrain.stderr[-2000:]
    job = OmegaConf.create(retrain.stdout)
    assert job.name == f"bilstm_optuna_trial{best.best.trial}"
    assert job.trainer.max_steps == 2000 and job.model.bidirectional
    for key, value in best.best.params.items():
        assert OmegaConf.select(job, key) == value


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


# -- pruning ---------------------------------------------------------------------------------

# A search whose later trials must be pruned: the first trials learn (lr 0.05), the later ones
# cannot (lr 1e-6: val/loss stays near ln 2 = 0.69), and the median pruner (after one finished
# trial) stops a trial at step 10 whose val/loss is worse than the median of the finished
# trials there. The trials' order is fixed by queueing them in the study before the search.
PRUNED_SEARCH = [
    "hparams_search=bilstm_optuna",
    *QUIET,
    "model.hidden_size=16",
    "model.merge_mode=concat",
    "data.batch_size=64",
    "model.optimizer.lr=choice(0.05,0.000001)",
    "hydra.sweeper.pruner=median",
    "hydra.sweeper.pruner_startup_trials=1",
    "hydra.sweeper.pruner_warmup_steps=0",
]


def queue_trials(sweep_dir, *learning_rates):
    sweep_dir.mkdir(parents=True)
    storage = f"sqlite:///{sweep_dir}/optuna.db"
    study = optuna.create_study(study_name="bilstm_optuna", storage=storage)
    for lr in learning_rates:
        study.enqueue_trial({"model.optimizer.lr": lr})


def check_pruned_search(sweep_dir, completed, pruned):
    study = load_study(sweep_dir)
    # Pruned trials count toward n_trials.
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * completed + [
        TrialState.PRUNED
    ] * pruned
    rows = {int(r["job"]): r for r in read_summary(sweep_dir)}
    for trial in study.trials[completed:]:
        record = json.loads((Path(trial.user_attrs["job_dir"]) / "metrics.json").read_text())
        assert record["status"] == "pruned"
        assert record["train/steps"] == trial.user_attrs["pruned_at_step"] == 10 < 20
        assert "stopped at step 10 of 20" in record["error"]
        assert not any(k.startswith("test/") for k in record)  # stopped, not tested
        assert trial.value == trial.intermediate_values[10]  # its last report
        assert rows[trial.number]["status"] == "pruned"
    best = OmegaConf.load(sweep_dir / "best_params.yaml")
    assert best.trials.pruned == pruned and best.trials.failed == 0
    summary = (sweep_dir / "summary.md").read_text()
    total = completed + pruned
    assert f"{total} jobs: {completed} completed, {pruned} pruned, 0 failed." in summary
    return study


@pytest.mark.e2e
def test_median_pruner_stops_bad_trials_at_a_validation(tmp_path):
    sweep_dir = tmp_path / "pruned"
    queue_trials(sweep_dir, 0.05, 0.000001, 0.000001)
    result = multirun(sweep_dir, *PRUNED_SEARCH, "hydra.sweeper.n_trials=3")
    check_pruned_search(sweep_dir, completed=1, pruned=2)
    assert "Trial 1: pruned at step 10" in result.stderr + result.stdout
    assert "jobs failed" not in result.stderr  # pruned is not failed


@pytest.mark.slow
def test_pruning_works_when_joblib_runs_the_trials_in_other_processes(tmp_path):
    sweep_dir = tmp_path / "pruned_joblib"
    # Two at a time: the first pair finishes before the second pair reports.
    queue_trials(sweep_dir, 0.05, 0.05, 0.000001, 0.000001)
    multirun(
        sweep_dir,
        *PRUNED_SEARCH,
        "hydra.sweeper.n_trials=4",
        "hydra.sweeper.n_jobs=2",
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
    )
    study = check_pruned_search(sweep_dir, completed=2, pruned=2)
    # The pruned jobs ran in loky worker processes, not in the sweeper's.
    pids = {
        event.name.split(".")[-2]
        for t in study.trials[2:]
        for event in (Path(t.user_attrs["job_dir"]) / "tensorboard").glob("events.out.*")
    }
    assert len(pids) == 2


@pytest.mark.e2e
def test_pruning_without_the_reporting_callback_stops_with_one_sentence(tmp_path):
    result = run_cli(
        "-m",
        "experiment=lstm",
        "hydra/sweeper=optuna",
        "model.hidden_size=choice(4,8)",
        "hydra.sweeper.pruner=median",
        f"hydra.sweep.dir={tmp_path / 'x'}",
    )
    assert result.returncode != 0
    assert "hydra.sweeper.pruner=median needs the trials to report" in result.stderr
    assert "Traceback" not in result.stderr


# -- parallel workers ------------------------------------------------------------------------


def worker(sweep_dir, *overrides):
    """The same search command a user starts in another terminal (one thread each)."""
    return start_cli(
        "-m",
        *overrides,
        f"hydra.sweep.dir={sweep_dir}",
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, to kill it with its children
    )


@pytest.mark.e2e
def test_two_workers_share_one_study_without_colliding(tmp_path):
    sweep_dir = tmp_path / "workers"
    search = [
        "hparams_search=bilstm_optuna",
        *QUIET,
        "trainer.max_steps=60",
        "trainer.val_check_interval=30",
        "hydra.sweeper.n_trials=6",
        "hydra.sweeper.heartbeat_interval=1",
    ]
    workers = [worker(sweep_dir, *search), worker(sweep_dir, *search)]
    outputs = [w.communicate(timeout=600)[0] for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs[0][-2000:] + outputs[1][-2000:]

    trials = load_study(sweep_dir).trials
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 6  # the total, not 6 each
    assert len({t.user_attrs["worker"] for t in trials}) == 2  # both workers ran trials
    folders = sorted(Path(t.user_attrs["job_dir"]).name for t in trials)
    assert len(set(folders)) == 6
    assert [int(f.split("_")[0]) for f in folders] == list(range(6))
    assert len(set(map(str, (t.params for t in trials)))) == 6  # no parameters drawn twice
    # Whichever worker finished last wrote the summary and best parameters of all six.
    assert [r["status"] for r in read_summary(sweep_dir)] == ["completed"] * 6
    assert OmegaConf.load(sweep_dir / "best_params.yaml").trials.complete == 6


@pytest.mark.slow
def test_a_killed_workers_trial_is_run_again_once(tmp_path):
    sweep_dir = tmp_path / "killed"
    search = [
        "hparams_search=bilstm_optuna",
        *QUIET,
        "trainer.max_steps=400",
        "trainer.val_check_interval=100",
        "hydra.sweeper.n_trials=2",
        "hydra.sweeper.heartbeat_interval=1",
        "hydra.sweeper.grace_period=3",
    ]
    first = worker(sweep_dir, *search)
    deadline = time.monotonic() + 300
    while not list(sweep_dir.glob("0_*/tensorboard/events.out.tfevents.*")):
        assert time.monotonic() < deadline and first.poll() is None
        time.sleep(0.2)
    os.killpg(first.pid, signal.SIGKILL)  # a worker dies mid-trial, as on a preempted node
    first.wait()
    assert load_study(sweep_dir).trials[0].state == TrialState.RUNNING

    multirun(sweep_dir, *search)
    trials = load_study(sweep_dir).trials
    assert trials[0].state == TrialState.FAIL
    retry = next(t for t in trials if t.system_attrs.get("failed_trial") == 0)
    assert retry.state == TrialState.COMPLETE and retry.params == trials[0].params
    assert sum(t.state == TrialState.COMPLETE for t in trials) == 2


# -- multi-objective -------------------------------------------------------------------------


@pytest.mark.e2e
def test_multi_objective_search_keeps_the_pareto_front(tmp_path):
    sweep_dir = tmp_path / "pareto"
    result = multirun(
        sweep_dir,
        "hparams_search=bilstm_pareto",
        "callbacks.progress_bar.refresh_rate=0",
        "hydra.sweeper.n_trials=5",
        "trainer.max_steps=choice(20,40,80)",
        "trainer.val_check_interval=10",
    )
    study = load_study(sweep_dir, "bilstm_pareto")
    assert [d.name for d in study.directions] == ["MAXIMIZE", "MAXIMIZE", "MINIMIZE"]
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 5
    front = sorted(t.number for t in study.best_trials)
    for trial in study.trials:  # each trial's values are its job's metrics
        metrics = json.loads((Path(trial.user_attrs["job_dir"]) / "metrics.json").read_text())
        assert trial.values == [
            pytest.approx(metrics[m]) for m in ("test/acc", "test/seq_acc", "time/fit_seconds")
        ]
    best = OmegaConf.load(sweep_dir / "best_params.yaml")
    assert [e.trial for e in best.pareto_front] == front
    assert set(best.pareto_front[0]["values"]) == {"test/acc", "test/seq_acc", "time/fit_seconds"}
    assert "best" not in best
    text = (sweep_dir / "summary.md").read_text()
    table = text.split(f"## Pareto front: {len(front)} of 5 completed trials")[1]
    assert sorted(int(line.split("|")[1]) for line in table.splitlines()[6:] if line) == front
    assert "Pareto front of 5 completed trials" in result.stdout
    assert (sweep_dir / "pareto.png").stat().st_size > 20_000


@pytest.mark.e2e
def test_one_direction_for_two_metrics_stops_with_one_sentence(tmp_path):
    result = run_cli(
        "-m",
        "hparams_search=bilstm_pareto",
        "hydra.sweeper.direction=minimize",
        f"hydra.sweep.dir={tmp_path / 'x'}",
    )
    assert result.returncode != 0
    assert "optimized_metric names 3 metric(s) but hydra.sweeper.direction has 1" in result.stderr


# -- hydra-optuna-sweeper configs --------------------------------------------------------------


@pytest.mark.parametrize(
    ("group", "sampler"),
    [
        ("tpe", optuna.samplers.TPESampler),
        ("motpe", optuna.samplers.TPESampler),
        ("random", optuna.samplers.RandomSampler),
        ("cmaes", optuna.samplers.CmaEsSampler),
        ("nsgaii", optuna.samplers.NSGAIISampler),
        ("qmc", optuna.samplers.QMCSampler),
        ("grid", optuna.samplers.GridSampler),
        ("gp", optuna.samplers.GPSampler),
    ],
)
def test_every_sampler_of_the_sampler_group_draws_trials(make_cfg, tmp_path, group, sampler):
    cfg = make_cfg(
        "experiment=lstm",
        "hydra/sweeper=optuna",
        f"hydra/sweeper/sampler={group}",
        "hydra.sweeper.sampler.seed=123",
        "hydra.sweeper.storage=null",
    )
    sweeper = hydra.utils.instantiate(cfg.hydra.sweeper)
    space, _ = search_space({"model.hidden_size": "choice(4, 8)", "seed": "range(0, 3)"}, [])
    study = optuna.create_study(directions=sweeper.directions)
    built = sweeper._sampler(study, space)
    assert isinstance(built, sampler)
    for _ in range(3):
        study.sampler = sweeper._sampler(study, space)
        trial = study.ask(space)
        study.tell(trial, trial.params["model.hidden_size"] + trial.params["seed"])
    assert len(study.trials) == 3


def write_search(folder: Path, name: str, text: str) -> Path:
    (folder / "hparams_search").mkdir(parents=True, exist_ok=True)
    (folder / "hparams_search" / f"{name}.yaml").write_text(text)
    return folder


@pytest.mark.e2e
def test_lightning_hydra_template_search_config_runs_unchanged(tmp_path):
    # configs/hparams_search/mnist_optuna.yaml of lightning-hydra-template, on our model.
    configs = write_search(
        tmp_path / "configs",
        "lht_optuna",
        """# @package _global_
defaults:
  - override /hydra/sweeper: optuna

optimized_metric: "val/best"

hydra:
  mode: "MULTIRUN"
  sweeper:
    _target_: hydra_plugins.hydra_optuna_sweeper.optuna_sweeper.OptunaSweeper
    storage: null
    study_name: null
    n_jobs: 1
    direction: minimize
    n_trials: 3
    sampler:
      _target_: optuna.samplers.TPESampler
      seed: 1234
      n_startup_trials: 10
    params:
      model.optimizer.lr: interval(0.0001, 0.1)
      data.batch_size: choice(32, 64, 128, 256)
""",
    )
    sweep_dir = tmp_path / "lht"
    result = run_cli(
        "--config-dir", str(configs), "hparams_search=lht_optuna", "experiment=lstm", *QUIET,
        f"hydra.sweep.dir={sweep_dir}",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    best = OmegaConf.load(sweep_dir / "best_params.yaml")
    assert best.trials.complete == 3 and best.storage is None
    assert set(best.best.params) == {"model.optimizer.lr", "data.batch_size"}


@pytest.mark.e2e
def test_hydra_optuna_sweeper_grid_config_visits_every_point_once(tmp_path):
    # The plugin's sphere example: the sampler group, `sampler.seed`, a float range.
    configs = write_search(
        tmp_path / "configs",
        "sphere_form",
        """# @package _global_
defaults:
  - override /hydra/sweeper: optuna
  - override /hydra/sweeper/sampler: grid

optimized_metric: val/best
hydra:
  sweeper:
    sampler:
      seed: 123
    direction: minimize
    study_name: sphere
    storage: null
    n_trials: 4
    n_jobs: 1
    params:
      model.hidden_size: choice(4, 8)
      model.optimizer.lr: range(0.01, 0.03, step=0.01)
""",
    )
    sweep_dir = tmp_path / "grid"
    result = run_cli(
        "-m", "--config-dir", str(configs), "hparams_search=sphere_form", "experiment=lstm",
        *QUIET, f"hydra.sweep.dir={sweep_dir}",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    rows = read_summary(sweep_dir)
    assert all(r["status"] == "completed" for r in rows)
    pairs = sorted((r["model.hidden_size"], r["model.optimizer.lr"]) for r in rows)
    assert pairs == [("4", "0.01"), ("4", "0.02"), ("8", "0.01"), ("8", "0.02")]


@pytest.mark.e2e
def test_custom_search_space_adds_dependent_parameters(tmp_path):
    # The plugin's custom-search-space example: a function gets the config and the trial.
    configs = write_search(
        tmp_path / "configs",
        "custom_form",
        """# @package _global_
defaults:
  - override /hydra/sweeper: optuna

optimized_metric: val/best
hydra:
  sweeper:
    sampler:
      seed: 123
    direction: minimize
    study_name: custom-search-space
    storage: null
    n_trials: 3
    n_jobs: 1
    params:
      model.hidden_size: choice(4, 8)
    custom_search_space: search_space_extension.configure
""",
    )
    (tmp_path / "search_space_extension.py").write_text(
        "def configure(cfg, trial):\n"
        "    size = trial.params['model.hidden_size']\n"
        "    trial.suggest_int('data.batch_size', 8 * size, 16 * size, step=8 * size)\n"
    )
    path = os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))
    sweep_dir = tmp_path / "custom"
    result = run_cli(
        "-m", "--config-dir", str(configs), "hparams_search=custom_form", "experiment=lstm",
        *QUIET, f"hydra.sweep.dir={sweep_dir}",
        env={"PYTHONPATH": path},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    rows = read_summary(sweep_dir)
    assert len(rows) == 3 and all(r["status"] == "completed" for r in rows)
    for row in rows:
        size = int(row["model.hidden_size"])
        assert int(row["data.batch_size"]) in (8 * size, 16 * size)


@pytest.mark.e2e
def test_the_dict_form_of_hydra_optuna_sweeper_1_1_says_what_to_write_instead(tmp_path):
    configs = write_search(
        tmp_path / "configs",
        "old_form",
        """# @package _global_
defaults:
  - override /hydra/sweeper: optuna
hydra:
  sweeper:
    search_space:
      model.optimizer.lr:
        type: float
        low: 0.001
        high: 0.1
""",
    )
    result = run_cli(
        "-m", "--config-dir", str(configs), "hparams_search=old_form", "experiment=lstm",
        f"hydra.sweep.dir={tmp_path / 'x'}",
    )  # fmt: skip
    assert result.returncode != 0
    assert "write each dimension in hydra.sweeper.params" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("name", "pruner"),
    [
        ("none", optuna.pruners.NopPruner),
        ("median", optuna.pruners.MedianPruner),
        ("hyperband", optuna.pruners.HyperbandPruner),
        ("successive_halving", optuna.pruners.SuccessiveHalvingPruner),
    ],
)
def test_every_pruner_name_builds_optunas_pruner(make_cfg, name, pruner):
    cfg = make_cfg("hparams_search=bilstm_optuna", f"hydra.sweeper.pruner={name}")
    assert type(pruner_of(cfg.hydra.sweeper, cfg.trainer.max_steps)) is pruner


@pytest.mark.e2e
def test_an_unknown_pruner_is_named_with_the_choices(tmp_path):
    result = run_cli(
        "-m", "hparams_search=bilstm_optuna", "hydra.sweeper.pruner=mediam",
        f"hydra.sweep.dir={tmp_path / 'x'}",
    )  # fmt: skip
    assert result.returncode != 0
    assert (
        "hydra.sweeper.pruner=mediam is not one of none, median, hyperband, successive_halving"
        in result.stderr
    )
    assert "Traceback" not in result.stderr


@pytest.mark.e2e
def test_an_app_written_for_hydra_optuna_sweeper_returning_two_values_runs(tmp_path):
    # The plugin's multi-objective example: no optimized_metric; the objectives are the task
    # function's return value, one per direction.
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "config.yaml").write_text(
        """defaults:
  - override hydra/sweeper: optuna
  - override hydra/sweeper/sampler: nsgaii

hydra:
  sweeper:
    sampler:
      seed: 123
    direction: [minimize, minimize]
    study_name: multi-objective
    storage: null
    n_trials: 8
    n_jobs: 1
    params:
      x: range(0, 5, step=0.5)
      y: range(0, 3, step=0.5)

x: 1
y: 1
"""
    )
    (tmp_path / "multi_objective.py").write_text(
        """import hydra


@hydra.main(version_base=None, config_path="conf", config_name="config")
def binh_and_korn(cfg):
    x, y = cfg.x, cfg.y
    return 4 * x**2 + 4 * y**2, (x - 5) ** 2 + (y - 5) ** 2


if __name__ == "__main__":
    binh_and_korn()
"""
    )
    sweep_dir = tmp_path / "sweep"
    result = subprocess.run(
        [sys.executable, "multi_objective.py", "-m", f"hydra.sweep.dir={sweep_dir}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        # This checkout's sweeper, from whatever folder the app runs in.
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT / "src")},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    best = OmegaConf.load(sweep_dir / "best_params.yaml")
    assert best.trials.complete == 8 and best.trials.failed == 0
    for entry in best.pareto_front:
        x, y = entry.params.x, entry.params.y
        values = list(entry["values"].values())
        assert values == pytest.approx([4 * x**2 + 4 * y**2, (x - 5) ** 2 + (y - 5) ** 2])
    assert "Pareto front of 8 completed trials" in result.stdout


@pytest.mark.e2e
def test_n_trials_0_ends_in_one_sentence_before_any_folder(tmp_path):
    sweep_dir = tmp_path / "never"
    result = run_cli(
        "-m", "hparams_search=bilstm_optuna", "hydra.sweeper.n_trials=0",
        f"hydra.sweep.dir={sweep_dir}",
    )  # fmt: skip
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.strip() == (
        "error: hydra.sweeper.n_trials=0 runs no trial: set it to the study's total number of "
        "trials, e.g. hydra.sweeper.n_trials=20 (a stored study runs only the trials it lacks)."
    )
    assert not sweep_dir.exists()


def test_retraining_a_pareto_front_needs_a_trial_number(tmp_path):
    from lstm_lab.errors import ConfigError
    from lstm_lab.sweep.best import retrain_overrides

    front = [
        {"trial": 2, "overrides": ["hparams_search=bilstm_pareto", "model.hidden_size=8"]},
        {"trial": 5, "overrides": ["hparams_search=bilstm_pareto", "model.hidden_size=32"]},
    ]
    OmegaConf.save(
        OmegaConf.create({"study_name": "bilstm_pareto", "pareto_front": front}),
        tmp_path / "best_params.yaml",
    )
    with pytest.raises(ConfigError, match=r"Pareto front: trials 2, 5\): choose one with trial="):
        retrain_overrides(tmp_path)
    assert retrain_overrides(tmp_path, 5) == ["model.hidden_size=32", "name=bilstm_pareto_trial5"]
