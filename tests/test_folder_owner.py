"""A folder from anyone is data, and each folder has one owner: what a resume replays from a run
or sweep folder, one writer per folder, and a resumed sweep that must be the same experiment."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

import pytest
import torch
import yaml
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf

from lstm_lab.cli import prepare_argv
from lstm_lab.config import CONFIG_DIR
from lstm_lab.errors import ConfigError
from lstm_lab.replay import read_yaml
from lstm_lab.run_dirs import LOCK_FILE, lock, unlock
from lstm_lab.status import Status
from lstm_lab.sweep.resume import check_same_experiment, sweep_argv
from tests.conftest import run_cli

CONFIGS = Path(CONFIG_DIR)


def run_folder(path: Path, overrides: list[str]) -> Path:
    """A folder shaped like one train.py leaves: its overrides and a readable last.ckpt."""
    (path / ".hydra").mkdir(parents=True)
    (path / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    (path / "checkpoints").mkdir()
    torch.save({"state_dict": {}, "global_step": 3}, path / "checkpoints" / "last.ckpt")
    return path


def value_of(argv: list[str], key: str) -> str:
    """What Hydra's parser reads for `key` in an argument list."""
    (override,) = [
        o
        for o in OverridesParser.create().parse_overrides([a for a in argv if "=" in a])
        if o.key_or_group == key
    ]
    return override.value()


@pytest.mark.parametrize(
    "crafted",
    [
        "--config-dir=/tmp",
        "+callbacks.x._target_=os.makedirs",
        "++trainer.max_steps=3",
        "~callbacks",
        "hydra.callbacks.x._target_=os.makedirs",
        "hydra/job_logging=disabled",
        "model.optimizer.lr=${oc.env:HOME}",
        "model@data=classifier",
    ],
)
def test_resume_refuses_a_recorded_override_that_could_run_code(tmp_path, crafted):
    run = run_folder(tmp_path / "run", ["experiment=lstm", crafted, "seed=2"])
    with pytest.raises(ConfigError, match="a folder is data") as refusal:
        prepare_argv(["train.py", f"resume={run}"], CONFIGS)
    assert repr(crafted) in str(refusal.value)


def test_resume_replays_values_but_never_paths_or_tracking_destinations(tmp_path):
    run = run_folder(
        tmp_path / "run",
        [
            "experiment=lstm",
            "model.hidden_size=8",
            f"paths.output_dir={tmp_path / 'elsewhere'}",
            f"paths.log_dir={tmp_path / 'elsewhere'}",
            "logger=mlflow",
            "logger.mlflow.tracking_uri=http://203.0.113.1:5000",
            f"callbacks.model_checkpoint.dirpath={tmp_path / 'elsewhere'}",
        ],
    )
    argv = prepare_argv(["train.py", f"resume={run}"], CONFIGS)
    assert {"experiment=lstm", "model.hidden_size=8", "logger=mlflow"} <= set(argv)
    assert not [a for a in argv if "elsewhere" in a or "203.0.113.1" in a]
    assert value_of(argv, "hydra.run.dir") == str(run)


@pytest.mark.parametrize("name", ["run with spaces", "3_model.hidden_size=8,seed=0", "it's"])
def test_a_run_whose_path_has_spaces_equals_commas_or_quotes_resumes_in_place(tmp_path, name):
    run = run_folder(tmp_path / name, ["experiment=lstm", "seed=0"])
    argv = prepare_argv(["train.py", f"resume={run}"], CONFIGS)
    assert value_of(argv, "hydra.run.dir") == str(run)
    assert value_of(argv, "ckpt_path") == str(run / "checkpoints" / "last.ckpt")


def test_resume_of_a_run_folder_as_a_sweep_or_into_another_folder_is_one_sentence(tmp_path):
    run = run_folder(tmp_path / "run", ["experiment=lstm"])
    with pytest.raises(ConfigError, match="not a sweep folder.*without -m"):
        prepare_argv(["train.py", "-m", f"resume={run}"], CONFIGS)
    with pytest.raises(ConfigError, match="hydra.run.dir= cannot choose another"):
        prepare_argv(["train.py", f"resume={run}", f"hydra.run.dir={tmp_path}/x"], CONFIGS)


def sweep_folder(path: Path, task: list[str], hydra: list[str], jobs: list[list[str]]) -> Path:
    """A sweep folder as train.py -m leaves it: multirun.yaml and each job's .hydra record."""
    path.mkdir(parents=True)
    record = {"hydra": {"overrides": {"task": task, "hydra": hydra}}}
    (path / "multirun.yaml").write_text(yaml.safe_dump(record))
    GlobalHydra.instance().clear()
    with initialize_config_dir(CONFIG_DIR, version_base="1.3"):
        for num, overrides in enumerate(jobs):
            job = path / f"{num}_job" / ".hydra"
            job.mkdir(parents=True)
            (job / "overrides.yaml").write_text(yaml.safe_dump(overrides))
            config = OmegaConf.to_container(compose("train", overrides=overrides))
            (job / "config.yaml").write_text(yaml.safe_dump(config))
    GlobalHydra.instance().clear()
    return path


def test_a_sweep_folder_replays_no_hydra_callback(tmp_path):
    sweep = sweep_folder(
        tmp_path / "sweep",
        ["experiment=lstm", "seed=0,1"],
        ["hydra.mode=MULTIRUN", "+hydra.callbacks.x._target_=os.makedirs"],
        [],
    )
    with pytest.raises(ConfigError, match="a folder is data"):
        sweep_argv([f"resume={sweep}"])


def test_a_sweep_replays_its_launcher_but_not_its_recorded_folder(tmp_path):
    sweep = sweep_folder(
        tmp_path / "a sweep, 2",
        ["experiment=lstm", "seed=0"],
        ["hydra.mode=MULTIRUN", "hydra/launcher=joblib", "hydra.sweep.dir=/somewhere/else"],
        [["experiment=lstm", "seed=0"]],
    )
    argv = sweep_argv([f"resume={sweep}"])
    assert "hydra/launcher=joblib" in argv and "/somewhere/else" not in " ".join(argv)
    assert value_of(argv, "hydra.sweep.dir") == str(sweep)


def test_a_resumed_sweep_whose_experiment_changed_is_refused_naming_the_key(tmp_path):
    jobs = [["experiment=lstm", "seed=0"], ["experiment=lstm", "seed=1"]]
    sweep = sweep_folder(tmp_path / "sweep", ["experiment=lstm", "seed=0,1"], [], jobs)
    check_same_experiment(sweep, [])  # composed today as it was: the same experiment
    check_same_experiment(sweep, ["compare_to=1"])  # summary settings may change
    stored = sweep / "1_job" / ".hydra" / "config.yaml"
    config = yaml.safe_load(stored.read_text())
    config["data"]["batch_size"] += 1  # as if configs/experiment/lstm.yaml had been edited since
    stored.write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError, match=r"ran data\.batch_size = \d+ in 1_job"):
        check_same_experiment(sweep, [])


def test_an_alias_bomb_is_refused_without_expanding_it(tmp_path):
    bomb = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    bomb += [
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    ]
    path = tmp_path / "config.yaml"
    path.write_text("\n".join(bomb) + "\n")
    start = time.process_time()
    assert read_yaml(path) is None
    assert time.process_time() - start < 1  # refused at the first alias, not expanded (9^9)


def test_a_second_writer_is_refused_and_a_dead_writers_lock_does_not_block(tmp_path):
    holder = os.open(tmp_path / LOCK_FILE, os.O_RDWR | os.O_CREAT)
    fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another process writing there
    with pytest.raises(ConfigError, match="is in use: a run is writing there now"):
        lock(tmp_path, "a run")
    os.close(holder)  # that process ended (or was killed: the kernel drops its lock)
    lock(tmp_path, "a run")
    unlock(tmp_path)


def test_a_lock_file_that_is_a_link_is_refused(tmp_path):
    (tmp_path / LOCK_FILE).symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ConfigError, match="no .lock link"):
        lock(tmp_path, "a run")
    assert not (tmp_path / "elsewhere").exists()


def test_every_status_maps_to_one_mlflow_and_one_optuna_state():
    from optuna.trial import TrialState

    assert [s.mlflow for s in Status] == ["FINISHED", "FINISHED", "KILLED", "FAILED", "FAILED"]
    assert Status.PRUNED.optuna() is TrialState.PRUNED and Status.FAILED.optuna() is TrialState.FAIL
    assert Status.ending(KeyboardInterrupt()) is Status.INTERRUPTED
    assert Status.of("no such word") is Status.FAILED


@pytest.mark.e2e
def test_an_mlflow_sweep_keeps_one_folder_and_one_parent_with_every_child(tmp_path):
    from mlflow import MlflowClient

    result = run_cli(
        "-m",
        "experiment=lstm",
        "debug=fast",
        "logger=mlflow",
        "model.hidden_size=4,8",
        "plot=false",
        f"paths.log_dir={tmp_path}",
    )
    assert result.returncode == 0, result.stderr
    (sweep,) = (tmp_path / "train" / "multiruns").iterdir()
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    (experiment,) = [e for e in client.search_experiments() if e.name == "lstm"]
    runs = client.search_runs([experiment.experiment_id])
    (parent,) = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert parent.info.status == "FINISHED" and parent.data.tags["sweep"] == sweep.name
    assert len(children) == 2 == len(runs) - 1
    assert {c.data.tags["status"] for c in children} == {"completed"}
    assert {Path(c.data.tags["run_dir"]).parent for c in children} == {sweep}


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("name=../escape", r"name='../escape' is not a folder name.*name=escape"),
        ("name=a/b", "is not a folder name"),
        ("paths.log_dir=", "paths.log_dir is empty"),
    ],
)
def test_folder_names_and_empty_folders_are_refused_before_any_folder(override, message):
    from lstm_lab.validation import check_folder_settings

    GlobalHydra.instance().clear()
    with initialize_config_dir(CONFIG_DIR, version_base="1.3"):
        cfg = compose("train", overrides=["experiment=lstm", override], return_hydra_config=True)
    with pytest.raises(ConfigError, match=message):
        check_folder_settings(cfg)


def test_a_trainer_lightning_refuses_is_one_sentence_naming_its_group(make_cfg):
    from lstm_lab.config import instantiate
    from lstm_lab.validation import check_run_config

    with pytest.raises(ConfigError, match=r"trainer.devices=0 is invalid"):
        check_run_config(make_cfg("experiment=lstm", "debug=fast", "trainer.devices=0"))
    cfg = make_cfg("experiment=lstm", "+trainer.strategy=nonsense")
    with pytest.raises(ConfigError, match=r"^trainer cannot be built from its settings \("):
        instantiate(cfg.trainer)


def test_a_checkpoint_folder_below_a_file_is_refused_before_training(make_cfg, tmp_path):
    from lstm_lab.validation import check_run_config

    (tmp_path / "a_file").write_text("")
    cfg = make_cfg("experiment=lstm", f"callbacks.model_checkpoint.dirpath={tmp_path}/a_file/x")
    with pytest.raises(
        ConfigError, match="cannot write under callbacks.model_checkpoint.dirpath=.*not a directory"
    ):
        check_run_config(cfg)
    assert not (tmp_path / "a_file" / "x").exists()
