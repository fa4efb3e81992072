"""RunCheckpoint: a run folder's checkpoints keep working after the folder is moved or copied."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytorch_lightning.callbacks import ModelCheckpoint


class RunCheckpoint(ModelCheckpoint):
    """ModelCheckpoint that reads the paths it saved relative to the folder it now lives in.

    Lightning stores best_model_path and dirpath absolute; from a moved folder it would drop
    best_model_score (val/best) and test a best.ckpt that is no longer there.
    """

    @property
    def state_key(self) -> str:
        # ModelCheckpoint's own key, so checkpoints written before this class still resume.
        return super().state_key.replace(type(self).__qualname__, ModelCheckpoint.__qualname__, 1)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        old, new = state_dict.get("dirpath"), self.dirpath
        if old and new and old != new:

            def moved(path: Any) -> Any:
                # The folder's own copy when it has one (a moved or copied run); a checkpoint
                # of a run still in place (`ckpt_path=` into a new folder) keeps its own.
                if isinstance(path, str) and path and Path(path).parent == Path(old):
                    here = Path(new) / Path(path).name
                    if here.exists() or not Path(path).exists():
                        return str(here)
                return path

            state_dict = {key: moved(value) for key, value in state_dict.items()}
            state_dict["dirpath"] = new
            state_dict["best_k_models"] = {
                moved(k): v for k, v in (state_dict.get("best_k_models") or {}).items()
            }
        super().load_state_dict(state_dict)
