"""MLflow beside TensorBoard: every run and sweep in one local SQLite store.

Runs log with the light `mlflow-skinny` client; `make mlflow` installs the server and UI on
first use. Nothing here imports mlflow at module level, so a TensorBoard-only run never loads
it (importing mlflow costs about 2 s).
"""

from __future__ import annotations

import logging
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.callbacks import ModelCheckpoint
from pytorch_lightning.loggers import Logger, MLFlowLogger
from pytorch_lightning.utilities.rank_zero import rank_zero_only

from lstm_lab.errors import ConfigError
from lstm_lab.io import load_json, load_yaml, write_json
from lstm_lab.run_record import RunRecord
from lstm_lab.status import Status
from lstm_lab.validation import check_writable_dir

if TYPE_CHECKING:
    from mlflow import MlflowClient

log = logging.getLogger(__name__)

LOGGER_TARGET = "lstm_lab.tracking.MLflowLogger"
# Written by the sweep's Hydra callback into the sweep folder: how its jobs find their parent run.
PARENT_FILE = "mlflow_parent.json"
# Written into the run folder: which MLflow run holds its curves.
RUN_FILE = "mlflow_run.json"
SQLITE = "sqlite:///"
# How long a tracking server may take to answer the check made before training.
ANSWER_SECONDS = 5
# The run's files that become artifacts (config files go under config/).
RUN_FILES = ("metrics.json", "predictions.png", "train.log")
CONFIG_FILES = (".hydra/config.yaml", ".hydra/overrides.yaml")


def store_uri(tracking_uri: str) -> str:
    """`sqlite:///outputs/mlflow.db` made absolute: every process and the server find one store."""
    if tracking_uri.startswith(SQLITE):
        return SQLITE + os.path.abspath(tracking_uri[len(SQLITE) :])
    return tracking_uri


def mlflow_logger_config(config: DictConfig) -> DictConfig | None:
    """The config of the run's MLflow logger, or None when it logs to TensorBoard only."""
    for node in (config.get("logger") or {}).values():
        if isinstance(node, DictConfig) and node.get("_target_") == LOGGER_TARGET:
            return node
    return None


def open_experiment(tracking_uri: str, artifact_root: str, name: str) -> str:
    """The id of experiment `name`, creating the store and the experiment if needed."""
    uri = store_uri(tracking_uri)
    _check_reachable(uri, artifact_root)
    try:
        from mlflow import MlflowClient
    except ImportError:
        raise ConfigError(
            "logger=mlflow needs the mlflow-skinny package, which this environment lacks: "
            "run make install (or pip install -e .)."
        ) from None
    try:
        client = MlflowClient(uri)
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            location = _artifact_location(uri, artifact_root, name)
            return client.create_experiment(name, artifact_location=location)
        if experiment.lifecycle_stage == "deleted":
            log.warning("MLflow experiment %r was deleted; restoring it for this run", name)
            client.restore_experiment(experiment.experiment_id)
        return experiment.experiment_id
    except Exception as error:  # MlflowException, or the database's own (not a store, locked)
        raise ConfigError(
            f"the MLflow store {uri} cannot be used ({_first_line(error)}): choose another "
            "with logger.mlflow.tracking_uri=sqlite:///<file>."
        ) from None


def _check_reachable(uri: str, artifact_root: str) -> None:
    if uri.startswith(SQLITE):
        for folder, key in (
            (Path(uri[len(SQLITE) :]).parent, "logger.mlflow.tracking_uri=sqlite:///<file>"),
            (Path(artifact_root), "logger.mlflow.artifact_root=<folder>"),
        ):
            what, fix = f"the MLflow store under {folder}", f"choose a writable place with {key}"
            check_writable_dir(folder, what, fix)
    elif uri.startswith(("http://", "https://")):
        try:
            with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=ANSWER_SECONDS):
                pass
        except urllib.error.HTTPError as error:
            raise ConfigError(
                f"{uri} answers /health with HTTP {error.code}, so it is no MLflow server: "
                "set logger.mlflow.tracking_uri to the server's address."
            ) from None
        except (OSError, ValueError) as error:
            reason = getattr(error, "reason", error)
            reason = getattr(reason, "strerror", None) or reason
            raise ConfigError(
                f"the MLflow tracking server {uri} does not answer ({reason}): start it "
                "(make mlflow) or log to the local store by leaving out logger.mlflow.tracking_uri."
            ) from None


def _artifact_location(uri: str, artifact_root: str, name: str) -> str | None:
    # A server chooses where its artifacts go; a local store keeps them beside it.
    if not uri.startswith(SQLITE):
        return None
    return str(Path(artifact_root).absolute() / name)


def _first_line(error: Exception) -> str:
    error = getattr(error, "orig", None) or error  # the driver's error inside SQLAlchemy's
    lines = str(error).strip().splitlines()
    return lines[0].rstrip(".") if lines else type(error).__name__


def logged_curve(run_file: Path, tag: str) -> list[tuple[int, float]]:
    """(step, value) pairs of metric `tag` in the MLflow run that `run_file` names."""
    record = load_json(run_file)
    uri = str(record.get("tracking_uri", ""))
    if not is_local_store(uri) and uri != os.environ.get("MLFLOW_TRACKING_URI"):
        # A folder is data: it never makes this process contact a server it names.
        log.warning("%s names the MLflow server %s; its curve is not fetched.", run_file, uri)
        return []
    from mlflow import MlflowClient

    history = MlflowClient(uri).get_metric_history(record["run_id"], tag)
    return sorted((m.step, m.value) for m in history)


def is_local_store(uri: str) -> bool:
    """An MLflow store on this machine (a database or a folder), not a server."""
    return uri.startswith(("sqlite:", "file:")) or "://" not in uri


def read_parent(sweep_dir: Path) -> dict[str, str] | None:
    """The sweep's parent run, as its Hydra callback recorded it, or None."""
    path = sweep_dir / PARENT_FILE
    return load_json(path) if path.is_file() else None


class MLflowLogger(MLFlowLogger):
    """Lightning's MLFlowLogger on the shared store: a sweep job's run is a child of the sweep's."""

    def __init__(
        self, tracking_uri: str, artifact_root: str, experiment_name: str, run_dir: str
    ) -> None:
        self.run_dir = Path(run_dir).absolute()
        self.artifact_root = artifact_root
        super().__init__(
            experiment_name=experiment_name,
            run_name=self.run_dir.name,
            tracking_uri=store_uri(tracking_uri),
            tags={"status": "running", "run_dir": str(self.run_dir), "name": experiment_name},
        )
        self._checkpoints: ModelCheckpoint | None = None

    @property
    def experiment(self) -> MlflowClient:
        """The MLflow client, after the store, the experiment and the run are made."""
        if self._initialized or rank_zero_only.rank != 0:
            return MLFlowLogger.experiment.fget(self)
        self._join_store()
        client = MLFlowLogger.experiment.fget(self)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        write_json(
            self.run_dir / RUN_FILE, {"tracking_uri": self._tracking_uri, "run_id": self._run_id}
        )
        return client

    def _join_store(self) -> None:
        parent = None
        if HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN:
            parent = read_parent(Path(HydraConfig.get().sweep.dir))
        if parent and parent["tracking_uri"] == self._tracking_uri:
            # The sweep's experiment, so the UI shows the jobs under their parent.
            self._experiment_id = parent["experiment_id"]
            self.tags["mlflow.parentRunId"] = parent["run_id"]
            self.tags["sweep"] = parent["sweep"]
        else:
            self._experiment_id = open_experiment(
                self._tracking_uri, self.artifact_root, self._experiment_name
            )

    @rank_zero_only
    def log_hyperparams(self, params: Any) -> None:
        """The settings of the run's recorded config (as in TensorBoard's HPARAMS), or `params`."""
        config = self.run_dir / ".hydra" / "config.yaml"
        if config.is_file():
            from lstm_lab.tensorboard_hparams import run_hparams

            params = run_hparams(OmegaConf.create(load_yaml(config)))
        super().log_hyperparams(params)

    def after_save_checkpoint(self, checkpoint_callback: ModelCheckpoint) -> None:
        # Only the best checkpoint becomes an artifact, when the run is recorded.
        self._checkpoints = checkpoint_callback

    @rank_zero_only
    def finalize(self, status: str = "success") -> None:
        """Lightning's end of fit or test; a run stopped by an exception records why."""
        if not self._initialized:
            return
        if status == Status.FAILED.value:  # Lightning's word for an ending by exception
            recorded = Status.ending(sys.exc_info()[1])  # Lightning calls this while handling it
            record = RunRecord(self.run_dir)
            if record.status is recorded:  # RunStatus wrote it for this exception
                self.log_record(record.read())
                return
            self.experiment.set_tag(self.run_id, "status", recorded.value)
            status = recorded.mlflow
        super().finalize(status)

    @rank_zero_only
    def log_record(self, record: dict[str, Any]) -> None:
        """metrics.json's numbers as metrics, its status as a tag; the run's files as artifacts."""
        client = self.experiment
        logged = client.get_run(self.run_id).data.metrics
        numbers = {
            k: float(v)
            for k, v in record.items()
            if isinstance(v, int | float) and not isinstance(v, bool) and k not in logged
        }
        if numbers:
            self.log_metrics(numbers, step=int(record.get("train/steps", 0)))
        status = Status.of(record.get("status"))
        client.set_tag(self.run_id, "status", status.value)
        if record.get("error"):
            client.set_tag(self.run_id, "error", str(record["error"]))
        for name in RUN_FILES:
            if (self.run_dir / name).is_file():
                client.log_artifact(self.run_id, str(self.run_dir / name))
        for name in CONFIG_FILES:
            if (self.run_dir / name).is_file():
                client.log_artifact(self.run_id, str(self.run_dir / name), "config")
        best = self._checkpoints.best_model_path if self._checkpoints else ""
        if best and Path(best).is_file():
            # Copied, not linked: a few hundred kB that the server can then hand out, and
            # that outlive the run folder.
            client.log_artifact(self.run_id, best, "checkpoints")
            client.set_tag(self.run_id, "best_checkpoint", str(Path(best).absolute()))
        client.set_terminated(self.run_id, status.mlflow)


def log_record(loggers: list[Logger], record: dict[str, Any]) -> None:
    """Hand the run's final record (what metrics.json holds) to its MLflow logger, if any."""
    for logger in loggers:
        if isinstance(logger, MLflowLogger):
            logger.log_record(record)
