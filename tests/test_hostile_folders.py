"""A folder from someone else is data on every route: writes never follow a link out of it,
reads are bounded, checkpoints are checked before a tensor is read, and are never half-written.

Most cases craft a folder in tmp_path and call the route's own function; two start the
real entry point where the process is the point (Hydra writing .hydra/, a full disk).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import shutil
import time
import zipfile
from pathlib import Path

import pytest
import torch
from conftest import compose_config, run_cli
from omegaconf import OmegaConf, open_dict

from lstm_lab.checkpoints import RunCheckpointIO, check_fits, read_checkpoint
from lstm_lab.cli import resume_overrides
from lstm_lab.config import instantiate
from lstm_lab.errors import ConfigError
from lstm_lab.evaluate import evaluate
from lstm_lab.export import export
from lstm_lab.finished_run import load_run
from lstm_lab.io import atomic_write, load_yaml, refuse_symlinks, safe_dir, write_json
from lstm_lab.logs import RunLogFile
from lstm_lab.sweep.jobs import read_jobs
from lstm_lab.sweep.resume import sweep_argv
from lstm_lab.tracking import logged_curve

ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)
)  # 9 levels of 10: 10^9 strings once walked, from 413 bytes


def one_sentence(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert "\n" not in message and message.endswith("."), message
    return message


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A run folder as train.py leaves it, for eval and export: .hydra/ and checkpoints."""
    run = tmp_path_factory.mktemp("finished") / "run"
    cfg = compose_config(["experiment=lstm", "data.n_test=200"], run)
    model = instantiate(cfg.model)
    saved = cfg.copy()
    with open_dict(saved):
        del saved["hydra"]
    (run / ".hydra").mkdir()
    (run / ".hydra" / "config.yaml").write_text(OmegaConf.to_yaml(saved))
    (run / ".hydra" / "overrides.yaml").write_text("- experiment=lstm\n")
    hparams = OmegaConf.to_container(OmegaConf.create(dict(model.hparams)))
    checkpoint = {"state_dict": model.state_dict(), "hyper_parameters": hparams, "global_step": 0}
    (run / "checkpoints").mkdir()
    for name in ("best.ckpt", "last.ckpt"):
        torch.save(checkpoint, run / "checkpoints" / name)
    return run


@pytest.fixture
def shared(finished, tmp_path) -> Path:
    """A fresh copy of the finished run, as received from a colleague."""
    return Path(shutil.copytree(finished, tmp_path / "shared", symlinks=True))


@pytest.fixture
def outside(tmp_path) -> Path:
    """A folder outside the run, with one file a link may point at."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "victim.txt").write_text("untouched\n")
    return folder


def untouched(outside: Path) -> bool:
    return sorted(p.name for p in outside.iterdir()) == ["victim.txt"] and (
        (outside / "victim.txt").read_text() == "untouched\n"
    )


# Writes never follow a link.


def test_a_record_written_over_a_link_replaces_the_link_not_its_target(tmp_path, outside):
    (tmp_path / "metrics.json").symlink_to(outside / "victim.txt")
    write_json(tmp_path / "metrics.json", {"status": "completed"})
    assert untouched(outside)
    assert not (tmp_path / "metrics.json").is_symlink()
    assert json.loads((tmp_path / "metrics.json").read_text()) == {"status": "completed"}


def test_a_temporary_name_planted_as_a_link_is_never_written(tmp_path, outside):
    (tmp_path / "metrics.json.tmp").symlink_to(outside / "victim.txt")
    write_json(tmp_path / "metrics.json", {"status": "completed"})
    assert untouched(outside)
    assert (tmp_path / "metrics.json.tmp").is_symlink()  # left as it was, not used


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "best.ckpt"
    path.write_bytes(b"good")

    def fails(file):
        file.write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        atomic_write(path, fails)
    assert path.read_bytes() == b"good"
    assert [p.name for p in tmp_path.iterdir()] == ["best.ckpt"]


@pytest.mark.parametrize("kind", ["link", "file"])
def test_an_output_folder_that_is_a_link_or_a_file_is_refused(tmp_path, outside, kind):
    if kind == "link":
        (tmp_path / "eval").symlink_to(outside)
    else:
        (tmp_path / "eval").write_text("")
    with pytest.raises(ConfigError) as error:
        safe_dir(tmp_path, "eval")
    assert f"{tmp_path / 'eval'} is" in one_sentence(error)
    assert untouched(outside)


@pytest.mark.parametrize(
    "inside", [".hydra/hydra.yaml", "train.log", "metrics.json.tmp", "checkpoints", "tensorboard"]
)
def test_a_run_to_be_resumed_with_a_link_inside_is_refused_naming_it(shared, outside, inside):
    target = shared / inside
    if target.is_dir():
        shutil.rmtree(target)
    else:
        target.unlink(missing_ok=True)
    target.symlink_to(outside if inside in ("checkpoints", "tensorboard") else outside / "x")
    with pytest.raises(ConfigError) as error:
        resume_overrides(shared, [])
    assert f"resume={shared}: {inside} is a symbolic link" in one_sentence(error)
    assert untouched(outside)


def test_a_run_to_be_resumed_with_a_fifo_inside_is_refused(shared):
    os.mkfifo(shared / "train.log")
    with pytest.raises(ConfigError) as error:
        refuse_symlinks(shared)
    assert "train.log is a special file" in one_sentence(error)


def test_a_sweep_to_be_resumed_with_a_link_inside_is_refused(tmp_path, outside):
    sweep = tmp_path / "sweep"
    (sweep / "0_seed=1" / ".hydra").mkdir(parents=True)
    (sweep / "multirun.yaml").write_text("hydra:\n  overrides:\n    task: []\n    hydra: []\n")
    (sweep / "0_seed=1" / "train.log").symlink_to(outside / "victim.txt")
    with pytest.raises(ConfigError) as error:
        sweep_argv([f"resume={sweep}"])
    assert "0_seed=1/train.log is a symbolic link" in one_sentence(error)
    with pytest.raises(ConfigError):
        sweep_argv(["-m", f"hydra.sweep.dir={sweep}"])
    assert untouched(outside)


def test_train_log_is_never_appended_through_a_link(tmp_path, outside):
    (tmp_path / "train.log").symlink_to(outside / "victim.txt")
    with pytest.raises(OSError):
        RunLogFile(str(tmp_path / "train.log"))
    handler = RunLogFile(str(tmp_path / "real.log"))
    handler.emit(logging.makeLogRecord({"msg": "a line"}))
    handler.close()
    assert (tmp_path / "real.log").read_text() == "a line\n"
    assert untouched(outside)


def test_eval_refuses_an_eval_folder_that_links_outside(shared, outside):
    (shared / "eval").symlink_to(outside)
    cfg = OmegaConf.create({"run_dir": str(shared), "n_sequences": 1, "plot": False})
    with pytest.raises(ConfigError) as error:
        evaluate(cfg)
    assert "eval is a symbolic link" in one_sentence(error)
    assert untouched(outside)


def test_eval_replaces_links_inside_its_folder_instead_of_writing_through_them(shared, outside):
    evals = shared / "eval" / "best"  # run_dir= evaluates best.ckpt, into its own folder
    evals.mkdir(parents=True)
    for name in ("metrics.json", "predictions.txt", "metrics.json.tmp"):
        (evals / name).symlink_to(outside / "victim.txt")
    cfg = OmegaConf.create({"run_dir": str(shared), "n_sequences": 1, "plot": False})
    evaluate(cfg)
    assert untouched(outside)
    assert json.loads((evals / "metrics.json").read_text())["checkpoint"]
    assert not (evals / "predictions.txt").is_symlink()


def test_export_refuses_an_export_folder_that_links_outside(shared, outside):
    (shared / "export").symlink_to(outside)
    cfg = OmegaConf.create({"run_dir": str(shared), "check": False, "output": None})
    with pytest.raises(ConfigError) as error:
        export(cfg)
    assert "export is a symbolic link" in one_sentence(error)
    assert untouched(outside)


# Reads are bounded.


def test_a_yaml_alias_bomb_is_refused_at_once_without_expanding(shared):
    (shared / ".hydra" / "config.yaml").write_text(ALIAS_BOMB)
    start = time.perf_counter()
    with pytest.raises(ConfigError) as error:
        load_run(run_dir=str(shared))
    assert time.perf_counter() - start < 1
    assert "YAML alias at line 2" in one_sentence(error)


@pytest.mark.parametrize("route", ["resume: overrides.yaml", "summary: hydra.yaml"])
def test_an_alias_bomb_is_refused_on_resume_and_in_summaries(shared, route):
    if route.startswith("resume"):
        (shared / ".hydra" / "overrides.yaml").write_text(ALIAS_BOMB)
        call = lambda: resume_overrides(shared, [])  # noqa: E731
    else:
        (shared / ".hydra" / "hydra.yaml").write_text(ALIAS_BOMB)
        call = lambda: read_jobs(shared.parent)  # noqa: E731
    start = time.perf_counter()
    with pytest.raises(ConfigError) as error:
        call()
    assert time.perf_counter() - start < 1
    message = one_sentence(error)
    assert "YAML alias" in message or "does not hold the list of overrides" in message


def test_an_oversized_yaml_or_a_fifo_in_its_place_is_refused(tmp_path):
    (tmp_path / "big.yaml").write_text("a: " + "x" * (2 << 20))
    with pytest.raises(ConfigError, match="larger than 1,048,576 bytes"):
        load_yaml(tmp_path / "big.yaml")
    os.mkfifo(tmp_path / "fifo.yaml")
    with pytest.raises(ConfigError, match="not a regular file"):
        load_yaml(tmp_path / "fifo.yaml")


def test_what_hydra_writes_reads_back_the_same(finished):
    path = finished / ".hydra" / "config.yaml"
    assert load_yaml(path) == OmegaConf.to_container(OmegaConf.load(path))


def deflated(source: Path, target: Path) -> Path:
    """`source`'s zip with every record deflated (torch.load would inflate them)."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
    return target


def test_a_compressed_checkpoint_is_refused_from_its_zip_directory(tmp_path):
    big = tmp_path / "big.ckpt"
    torch.save({"state_dict": {"w": torch.zeros(1 << 24)}}, big)  # 64 MiB of zeros
    bomb = deflated(big, tmp_path / "bomb.ckpt")
    assert bomb.stat().st_size < 1 << 20
    start = time.perf_counter()
    with pytest.raises(ConfigError) as error:
        read_checkpoint(bomb)
    assert time.perf_counter() - start < 0.5
    assert "is compressed, which torch.save never does" in one_sentence(error)


def test_a_weight_larger_than_the_model_is_refused_before_it_is_read(tmp_path):
    model = torch.nn.LSTM(1, 8)
    state = dict(model.state_dict())
    state["weight_ih_l0"] = torch.zeros(1 << 22)
    torch.save({"state_dict": state}, tmp_path / "big.ckpt")
    with pytest.raises(ConfigError) as error:
        check_fits(model, tmp_path / "big.ckpt")
    assert "weight_ih_l0" in one_sentence(error)
    # Peak memory of the same with 1 GiB: benchmarks/hostile_checkpoint.py.


def test_tensors_beside_the_weights_beyond_an_optimizers_share_are_refused(tmp_path):
    weights = torch.nn.LSTM(1, 8).state_dict()
    padded = {"state_dict": weights, "optimizer_states": [{"x": torch.zeros(1 << 21)}]}
    torch.save(padded, tmp_path / "padded.ckpt")
    with pytest.raises(ConfigError, match="values beside"):
        read_checkpoint(tmp_path / "padded.ckpt")


def test_hyperparameters_asking_for_a_huge_model_are_refused_without_building_it(shared):
    path = shared / "checkpoints" / "best.ckpt"
    checkpoint = torch.load(path, weights_only=True)
    checkpoint["hyper_parameters"]["hidden_size"] = 1 << 20  # 16 TiB of weights
    torch.save(checkpoint, path)
    start = time.perf_counter()
    with pytest.raises(ConfigError) as error:
        load_run(run_dir=str(shared))
    assert time.perf_counter() - start < 5
    assert "weights differ from its settings" in one_sentence(error)


def test_resume_reads_its_checkpoint_once(finished):
    last = finished / "checkpoints" / "last.ckpt"
    first = read_checkpoint(last)
    assert read_checkpoint(last) is first  # the pre-checks' read is reused ...
    assert RunCheckpointIO().load_checkpoint(last) is first  # ... by Lightning, once
    assert read_checkpoint(last) is not first  # which then owns it


# Checkpoints are never half-written.


@contextlib.contextmanager
def small_disk(tmp_path: Path, kib: int):
    """A folder on a filesystem of `kib` KiB (a tmpfs, mounted by mount(2): needs root)."""
    folder = tmp_path / "disk"
    folder.mkdir()
    libc = ctypes.CDLL(None, use_errno=True)
    options = f"size={kib}k".encode()
    if libc.mount(b"tmpfs", str(folder).encode(), b"tmpfs", 0, options) != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({os.strerror(ctypes.get_errno())})")
    try:
        yield folder
    finally:
        libc.umount2(str(folder).encode(), 2)  # MNT_DETACH


def test_a_full_disk_keeps_the_good_best_ckpt_and_names_the_file(tmp_path):
    good = {"state_dict": {"w": torch.zeros(20_000)}}  # 80 KB
    with small_disk(tmp_path, 128) as disk:
        path = disk / "checkpoints" / "best.ckpt"
        RunCheckpointIO().save_checkpoint(good, path)
        with pytest.raises(ConfigError) as error:
            RunCheckpointIO().save_checkpoint({"state_dict": {"w": torch.ones(20_000)}}, path)
        message = one_sentence(error)
        assert f"cannot write the checkpoint {path} (no space left on device" in message
        assert "the earlier best.ckpt is kept" in message
        assert [p.name for p in path.parent.iterdir()] == ["best.ckpt"]
        assert torch.equal(read_checkpoint(path)["state_dict"]["w"], good["state_dict"]["w"])


@pytest.mark.parametrize("trainer", ["default", "ddp"])
def test_every_trainer_writes_checkpoints_through_run_checkpoint_io(tmp_path, trainer):
    cfg = compose_config(["experiment=lstm", f"trainer={trainer}"], tmp_path / "run")
    built = instantiate(cfg.trainer, logger=False, enable_progress_bar=False)
    assert isinstance(built.strategy.checkpoint_io, RunCheckpointIO)


# Paths a user gives: one sentence.


@pytest.mark.parametrize(
    "value, words",
    [
        ("{run}", "is not a file"),
        ("~no_such_user_here/best.ckpt", "cannot read ckpt_path=~no_such_user_here"),
        ("{run}/checkpoints/missing.ckpt", "does not exist"),
    ],
)
def test_a_checkpoint_path_that_cannot_be_read_is_one_sentence(shared, value, words):
    with pytest.raises(ConfigError) as error:
        load_run(ckpt_path=value.format(run=shared))
    assert words in one_sentence(error)


def test_export_to_a_folder_named_like_a_file_is_one_sentence(shared, tmp_path):
    (tmp_path / "model.onnx").mkdir()
    cfg = OmegaConf.create(
        {"run_dir": str(shared), "check": False, "output": f"{tmp_path}/model.onnx"}
    )
    with pytest.raises(ConfigError) as error:
        export(cfg)
    assert "is a folder" in one_sentence(error)


# Through the real entry point.


@pytest.mark.e2e
def test_resume_of_a_folder_whose_hydra_yaml_links_outside_is_refused(shared, outside):
    (shared / ".hydra" / "hydra.yaml").symlink_to(outside / "victim.txt")
    result = run_cli(f"resume={shared}")
    assert result.returncode == 2, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and ".hydra/hydra.yaml is a symbolic link" in errors[0]
    assert "Traceback" not in result.stderr
    assert untouched(outside)


@pytest.mark.e2e
def test_a_full_disk_during_training_ends_in_one_sentence_with_status_failed(tmp_path):
    with small_disk(tmp_path, 400) as disk:
        (disk / "filler").write_bytes(os.urandom(200_000))  # room for one checkpoint, not two
        run = disk / "run"
        result = run_cli(
            "experiment=lstm", "debug=fast", "plot=false", f"hydra.run.dir={run}",
            "callbacks.progress_bar.refresh_rate=0",
        )  # fmt: skip
        assert result.returncode == 2, result.stderr[-2000:]
        errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1 and "cannot write the checkpoint" in errors[0], result.stderr
        assert "no space left on device" in errors[0]
        record = json.loads((run / "metrics.json").read_text())
        assert record["status"] == "failed" and "cannot write the checkpoint" in record["error"]
        for name in os.listdir(run / "checkpoints"):  # what is there is whole
            read_checkpoint(run / "checkpoints" / name)
        assert not [p for p in run.rglob("*.tmp")]


def test_a_summary_never_contacts_an_mlflow_server_a_folder_names(tmp_path):
    run_file = tmp_path / "mlflow_run.json"
    run_file.write_text(json.dumps({"tracking_uri": "http://192.0.2.1:5000", "run_id": "x"}))
    start = time.perf_counter()
    assert logged_curve(run_file, "val/loss") == []
    assert time.perf_counter() - start < 1


def test_eval_on_a_full_disk_ends_in_one_sentence_and_leaves_no_eval_folder(finished, tmp_path):
    with small_disk(tmp_path, 512) as disk:
        run = Path(shutil.copytree(finished, disk / "run"))
        with contextlib.suppress(OSError), (disk / "filler").open("wb") as filler:
            while True:  # fill the disk to its last page
                filler.write(b"\0" * 4096)
                filler.flush()
        cfg = OmegaConf.create({"run_dir": str(run), "n_sequences": 1, "plot": False})
        with pytest.raises(ConfigError) as error:
            evaluate(cfg)
        message = one_sentence(error)
        assert f"cannot write the evaluation into {run / 'eval'} (no space left on device)" in (
            message
        )
        assert not (run / "eval").exists()
