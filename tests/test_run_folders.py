"""Run folders you can trust: each its own, none left by a mistake, movable, and read as data."""

from __future__ import annotations

import datetime
import json
import shutil
import threading
from pathlib import Path

import pytest
import torch
import yaml
from conftest import run_cli

from lstm_lab.config import CONFIG_DIR
from lstm_lab.finished_run import ALLOWED_TARGETS
from lstm_lab.run_dirs import claim

QUIET = ["debug=fast", "plot=false", "callbacks.progress_bar.refresh_rate=0"]
RUN = ["experiment=lstm", *QUIET]


def one_sentence(result) -> str:
    """The one `error:` line of a refused command (exit 2, no traceback)."""
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    return lines[0]


def metrics(run_dir: Path) -> dict:
    record = json.loads((run_dir / "metrics.json").read_text())
    return {k: v for k, v in record.items() if not k.startswith("time/")}


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """One finished 20-step run; tests copy it before changing anything."""
    run_dir = tmp_path_factory.mktemp("trained") / "run"
    result = run_cli(*RUN, f"hydra.run.dir={run_dir}")
    assert result.returncode == 0, result.stderr[-2000:]
    return run_dir


def copy_of(run_dir: Path, where: Path) -> Path:
    shutil.copytree(run_dir, where)
    return where


# 1. A folder is never shared by accident.


def test_many_claims_of_one_name_get_distinct_folders(tmp_path):
    base = tmp_path / "lstm_2026-01-01_00-00-00"
    claimed: list[Path] = []
    threads = [threading.Thread(target=lambda: claimed.append(claim(base))) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(claimed)) == 16
    assert {p.name for p in claimed} == {base.name} | {f"{base.name}_{n}" for n in range(2, 17)}


@pytest.mark.e2e
@pytest.mark.parametrize("mode", ["run", "sweep"])
def test_a_run_or_sweep_started_in_a_taken_second_gets_a_folder_of_its_own(tmp_path, mode):
    # Another run holds every folder name this command could pick in the next two minutes.
    kind = "runs" if mode == "run" else "multiruns"
    now = datetime.datetime.now()
    taken = []
    for second in range(-1, 120):
        stamp = (now + datetime.timedelta(seconds=second)).strftime("%Y-%m-%d_%H-%M-%S")
        folder = tmp_path / "train" / kind / f"lstm_{stamp}"
        folder.mkdir(parents=True)
        (folder / "metrics.json").write_text('{"status": "completed"}')
        taken.append(folder)
    args = (["-m", "seed=1"] if mode == "sweep" else []) + [*RUN, f"paths.log_dir={tmp_path}"]
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr[-2000:]
    new = sorted(set((tmp_path / "train" / kind).iterdir()) - set(taken))
    assert len(new) == 1 and new[0].name.endswith("_2")
    assert all(sorted(p.name for p in f.iterdir()) == ["metrics.json"] for f in taken)
    record = new[0] / "metrics.json" if mode == "run" else next(new[0].glob("0_*/metrics.json"))
    assert json.loads(record.read_text())["status"] == "completed"


@pytest.mark.e2e
@pytest.mark.slow
def test_ddp_in_a_multirun_keeps_every_rank_in_one_sweep_folder(tmp_path):
    result = run_cli(
        "-m", *RUN, "trainer=ddp", "seed=1,2", f"paths.log_dir={tmp_path}", timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (sweep,) = (tmp_path / "train" / "multiruns").iterdir()
    jobs = sorted(p for p in sweep.iterdir() if p.is_dir())
    assert [p.name[:2] for p in jobs] == ["0_", "1_"]
    for job in jobs:
        assert metrics(job)["status"] == "completed"
        assert (job / "train_ddp_process_1.log").is_file()  # rank 1 logged into this job
    assert result.stdout.count("Sweep dir:") == 1  # rank 0 alone sums the sweep up


@pytest.mark.e2e
def test_hydra_run_dir_that_holds_a_run_is_refused(trained, tmp_path):
    run_dir = copy_of(trained, tmp_path / "run")
    before = (run_dir / "metrics.json").read_text()
    message = one_sentence(run_cli(*RUN, "seed=2", f"hydra.run.dir={run_dir}"))
    assert f"hydra.run.dir={run_dir} already holds a run" in message
    assert f"resume={run_dir}" in message
    assert (run_dir / "metrics.json").read_text() == before


# 2. A mistake leaves nothing behind.

SLOW = pytest.mark.slow  # the same check on more inputs: `make test-all` runs them
REFUSED = [
    ["data.batch_size=0"],
    ["-m", "model.hiden_size=3", "seed=1,2"],
    pytest.param(["seed=1.5"], marks=SLOW),
    pytest.param(["model.hiden_size=3"], marks=SLOW),
    pytest.param(["experiment=lstm", "model=regressor"], marks=SLOW),
]
if not torch.cuda.is_available():
    REFUSED.append(pytest.param(["trainer=gpu"], marks=SLOW))


@pytest.mark.e2e
@pytest.mark.parametrize(
    "overrides", REFUSED, ids=lambda o: " ".join(o) if isinstance(o, list) else None
)
def test_a_refused_command_leaves_no_folder(tmp_path, overrides):
    one_sentence(run_cli(*overrides, f"paths.log_dir={tmp_path / 'outputs'}"))
    assert not (tmp_path / "outputs").exists()


@pytest.mark.e2e
def test_a_refused_command_with_its_own_run_dir_leaves_no_folder(tmp_path):
    one_sentence(run_cli("data.batch_size=0", f"hydra.run.dir={tmp_path / 'a' / 'b' / 'run'}"))
    assert list(tmp_path.iterdir()) == []


# 3. One sentence for every mistake, on every entry point.

# (entry point, arguments, words the one sentence must hold); {tmp} is a scratch folder.
BAD_INPUTS = [
    ("train.py", ["model.hiden_size=3"], ["model.hiden_size=3", "model.hidden_size"]),
    pytest.param(
        "train.py", ["-m", "model.hiden_size=3", "seed=1,2"], ["model.hidden_size"], marks=SLOW
    ),
    pytest.param(
        "train.py", ["+model.hiden_size=3"], ["model.hiden_size", "model.hidden_size"], marks=SLOW
    ),
    ("train.py", ["experiment=lstm", "model=regressor"], ["LSTMRegressor", "model=classifier"]),
    pytest.param(
        "train.py",
        ["experiment=stacked_lstm", "model=classifier"],
        ["LSTMSequenceClassifier", "model=forecaster or model=regressor"],
        marks=SLOW,
    ),
    pytest.param(
        "train.py",
        ["experiment=stacked_lstm", "data.lookback=1000"],
        ["data.lookback=1000"],
        marks=SLOW,
    ),
    pytest.param(
        "train.py", ["ckpt_path={tmp}/missing.ckpt"], ["missing.ckpt does not exist"], marks=SLOW
    ),
    pytest.param(
        "train.py", ["ckpt_path={tmp}/empty.ckpt"], ["empty.ckpt is an empty file"], marks=SLOW
    ),
    pytest.param(
        "train.py",
        ["ckpt_path={tmp}/junk.ckpt"],
        ["junk.ckpt is not a readable checkpoint"],
        marks=SLOW,
    ),
    pytest.param(
        "train.py",
        ["paths.output_dir=/proc/lstm-lab/run"],
        ["paths.output_dir=/proc/lstm-lab/run"],
        marks=SLOW,
    ),
    pytest.param(
        "train.py",
        ["model.hidden_size=100000000"],
        ["model.hidden_size=100000000", "needs about"],
        marks=SLOW,
    ),
    pytest.param(
        "train.py",
        ["data.batch_size=1000000000"],
        ["data.batch_size=1000000000", "needs about"],
        marks=SLOW,
    ),
    ("eval.py", ["rundir={tmp}"], ["rundir=", "run_dir"]),
    pytest.param("eval.py", ["run_dir={tmp}"], ["holds no checkpoints/best.ckpt"], marks=SLOW),
    pytest.param(
        "eval.py", ["ckpt_path={tmp}/empty.ckpt"], ["empty.ckpt is an empty file"], marks=SLOW
    ),
    pytest.param(
        "eval.py",
        ["ckpt_path={tmp}/junk.ckpt", "n_sequences=abc"],
        ["n_sequences='abc'"],
        marks=SLOW,
    ),
    pytest.param(
        "eval.py",
        ["ckpt_path={tmp}/junk.ckpt", "plot=maybe"],
        ["plot='maybe'", "true or false"],
        marks=SLOW,
    ),
    pytest.param(
        "export.py", ["ckpt_path={tmp}/junk.ckpt", "check=maybe"], ["check='maybe'"], marks=SLOW
    ),
    pytest.param(
        "export.py",
        ["ckpt_path={tmp}/junk.ckpt", "output=model.txt"],
        ["ending in .onnx"],
        marks=SLOW,
    ),
    pytest.param("export.py", ["chekc=false"], ["chekc=false", "check"], marks=SLOW),
]


@pytest.mark.e2e
@pytest.mark.parametrize(
    "script,arguments,words",
    BAD_INPUTS,
    ids=[f"{s} {' '.join(a)}" for s, a, _ in (getattr(p, "values", p) for p in BAD_INPUTS)],
)
def test_a_bad_input_ends_in_one_sentence_and_exit_2(tmp_path, script, arguments, words):
    (tmp_path / "empty.ckpt").touch()
    (tmp_path / "junk.ckpt").write_bytes(b"not a checkpoint")
    arguments = [a.format(tmp=tmp_path) for a in arguments]
    if script == "train.py":
        arguments.append(f"paths.log_dir={tmp_path / 'outputs'}")
    message = one_sentence(run_cli(*arguments, script=script))
    for word in words:
        assert word in message
    assert not (tmp_path / "outputs").exists()


@pytest.mark.e2e
def test_export_to_an_unwritable_place_ends_in_one_sentence(trained):
    message = one_sentence(
        run_cli(f"run_dir={trained}", "output=/proc/lstm-lab/m.onnx", script="export.py")
    )
    assert "/proc/lstm-lab" in message


@pytest.mark.e2e
def test_resume_from_a_damaged_last_ckpt_names_the_intact_best_ckpt(trained, tmp_path):
    run_dir = copy_of(trained, tmp_path / "run")
    last, best = run_dir / "checkpoints" / "last.ckpt", run_dir / "checkpoints" / "best.ckpt"
    last.write_bytes(last.read_bytes()[:1000])  # truncated mid-write
    message = one_sentence(run_cli(f"resume={run_dir}"))
    assert "last.ckpt is damaged" in message and f"ckpt_path={best}" in message
    # The sentence's fix works: the run continues from best.ckpt in its own folder.
    result = run_cli(f"resume={run_dir}", f"ckpt_path={best}")
    assert result.returncode == 0, result.stderr[-2000:]
    assert metrics(run_dir)["status"] == "completed"


@pytest.mark.e2e
def test_resume_from_a_folder_without_a_good_checkpoint_says_so(trained, tmp_path):
    run_dir = copy_of(trained, tmp_path / "run")
    for name in ("last.ckpt", "best.ckpt"):
        (run_dir / "checkpoints" / name).write_text("<html>not a checkpoint</html>")
    message = one_sentence(run_cli(f"resume={run_dir}"))
    assert "last.ckpt is not a readable checkpoint" in message


@pytest.mark.e2e
def test_a_checkpoint_of_another_experiment_is_refused(trained, tmp_path):
    ckpt = trained / "checkpoints" / "last.ckpt"
    result = run_cli("experiment=bilstm", *QUIET, f"ckpt_path={ckpt}", f"paths.log_dir={tmp_path}")
    message = one_sentence(result)
    assert "model.bidirectional=False there, True here" in message
    assert not tmp_path.joinpath("train").exists()
    assert "run dir" not in result.stdout.lower()  # no folder named that is then removed


@pytest.mark.e2e
def test_max_steps_alone_validates_at_the_end_and_says_so(tmp_path):
    run_dir = tmp_path / "run"
    result = run_cli(
        "experiment=lstm", "trainer.max_steps=30", "plot=false", f"hydra.run.dir={run_dir}"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "validating every 30 steps instead" in (run_dir / "train.log").read_text()
    assert "val/best" in metrics(run_dir)


@pytest.mark.e2e
def test_an_optuna_study_rerun_with_other_fixed_overrides_is_refused(tmp_path):
    # The search's own folder (no hydra.sweep.dir): found again from the study's name.
    search = ["-m", "hparams_search=bilstm_optuna", *QUIET, f"paths.log_dir={tmp_path}"]
    first = run_cli(*search, "hydra.sweeper.n_trials=1")
    assert first.returncode == 0, first.stderr[-2000:]
    sweep_dir = tmp_path / "train" / "hparams_search" / "bilstm_optuna"
    message = one_sentence(run_cli(*search, "trainer.max_steps=40", "hydra.sweeper.n_trials=2"))
    assert "trainer.max_steps=40" in message and "hydra.sweeper.study_name=" in message
    assert len(list(sweep_dir.glob("*/metrics.json"))) == 1  # no trial ran on the new budget
    # The same search with another sweeper setting: the study is complete and says what to do.
    again = run_cli(*search, "hydra.sweeper.n_trials=1", "hydra.sweeper.pruner=median")
    assert again.returncode == 0, again.stderr[-2000:]
    output = again.stdout + again.stderr
    assert "is complete (1 of 1 trials), so this command trains nothing" in output
    assert "hydra.sweeper.n_trials=2" in output and "hydra.sweeper.study_name=<new name>" in output
    assert "Using an existing study" not in output  # Optuna's own notice: ours says more
    assert len(list(sweep_dir.glob("*/metrics.json"))) == 1


# 4. A run folder is self-contained and relocatable.


@pytest.mark.e2e
def test_a_moved_run_folder_resumes_evaluates_exports_and_opens_in_tensorboard(trained, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    original = copy_of(trained, tmp_path / "here" / "run")  # a copy is a moved folder too
    before = metrics(original)
    moved = tmp_path / "another disk" / "run"
    moved.parent.mkdir()
    shutil.move(original, moved)

    resumed = run_cli(f"resume={moved}")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "dirpath has changed" not in resumed.stderr
    assert metrics(moved) == before  # val/best and the test of best.ckpt survive the move

    evaluated = run_cli(f"run_dir={moved}", "plot=false", script="eval.py")
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    assert (moved / "eval" / "best" / "metrics.json").is_file()
    exported = run_cli(f"run_dir={moved}", script="export.py")
    assert exported.returncode == 0, exported.stderr[-2000:]
    assert (moved / "export" / "best.onnx").is_file()
    events = EventAccumulator(str(moved / "tensorboard"))
    events.Reload()
    assert "val/loss" in events.Tags()["scalars"]
    assert not original.parent.exists() or not any(original.parent.iterdir())


# 7. A run folder from someone else is data, not code.


class WritesMarker:
    """Unpickling this creates the file `marker`: what a hostile pickle could do instead."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def craft(trained: Path, tmp_path: Path, route: str) -> tuple[Path, Path]:
    """A copy of a real run folder made hostile through one route; returns (folder, marker)."""
    run_dir = copy_of(trained, tmp_path / "shared-run")
    marker = tmp_path / "code-ran"
    evil = run_dir / "evil.pkl"
    torch.save(WritesMarker(marker), evil)  # what torch.load(weights_only=False) would run
    config_path = run_dir / ".hydra" / "config.yaml"
    config = yaml.safe_load(config_path.read_text())
    torch_load = {"_target_": "torch.load", "f": str(evil), "weights_only": False}
    if route == "config: data is torch.load":
        config["data"] = torch_load
    elif route == "config: nested target in the data":
        config["data"]["n_val"] = torch_load
    elif route == "config: model is not lstm-lab's":
        config["model"]["_target_"] = "torch.load"
    elif route == "config: a resolver in a value":
        config["data"]["n_val"] = "${oc.env:HOME}"
    elif route in ("checkpoint: best.ckpt is a pickle", "resume: last.ckpt is a pickle"):
        name = "best.ckpt" if route.startswith("checkpoint") else "last.ckpt"
        torch.save(WritesMarker(marker), run_dir / "checkpoints" / name)
    elif route == "resume: overrides build torch.load":
        overrides = ["data._target_=torch.load", f"+data.f={evil}", "+data.weights_only=false"]
        (run_dir / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    elif route == "resume: overrides add a Hydra callback":
        overrides = [
            "experiment=lstm",
            "+hydra.callbacks.evil._target_=torch.load",
            f"+hydra.callbacks.evil.f={evil}",
            "+hydra.callbacks.evil.weights_only=false",
        ]
        (run_dir / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    config_path.write_text(yaml.safe_dump(config))
    return run_dir, marker


ROUTES = [
    "config: data is torch.load",
    pytest.param("config: nested target in the data", marks=SLOW),
    pytest.param("config: model is not lstm-lab's", marks=SLOW),
    pytest.param("config: a resolver in a value", marks=SLOW),
    pytest.param("checkpoint: best.ckpt is a pickle", marks=SLOW),
    "resume: last.ckpt is a pickle",
    pytest.param("resume: overrides build torch.load", marks=SLOW),
    "resume: overrides add a Hydra callback",
]


@pytest.mark.e2e
@pytest.mark.parametrize("route", ROUTES)
def test_a_crafted_run_folder_runs_no_code(trained, tmp_path, route):
    run_dir, marker = craft(trained, tmp_path, route)
    if route.startswith("resume"):
        result = run_cli(f"resume={run_dir}")
    else:
        result = run_cli(f"run_dir={run_dir}", "plot=false", script="eval.py")
    message = one_sentence(result)
    assert not marker.exists(), "the folder's code ran"
    assert "refused" in message or "not a readable checkpoint" in message or "damaged" in message


def test_the_allowlist_names_every_datamodule_and_model_the_configs_offer():
    for group, allowed in ALLOWED_TARGETS.items():
        for path in (Path(CONFIG_DIR) / group).glob("[!_]*.yaml"):
            assert yaml.safe_load(path.read_text())["_target_"] in allowed, path
