"""The overrides that train an Optuna search's best trial again, at its recipe's full budget.

A search trains each trial on a shorter budget than its recipe (configs/hparams_search/ set
`trainer.max_steps`); `python retrain.py <search dir>` trains the best trial's parameters
with the recipe's own budget, into a run folder named after the search and the trial.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from lstm_lab.errors import ConfigError

# Overrides of the search that set its budget, not the trial: the retrain drops them.
BUDGET = re.compile(r"^(hparams_search|debug|trainer\.max_steps|trainer\.val_check_interval)=")
# A plain `key=value` of a project setting: no Hydra key, addition, deletion or target.
PLAIN = re.compile(r"^[A-Za-z][\w.]*=")
UNSAFE = re.compile(r"(^|\.)_(target|args|partial|recursive|convert)_($|\.)|^hydra[./]|\$\{")


def _load(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        data = None
    return data if isinstance(data, dict) else {}


def retrain_overrides(search_dir: Path, trial: int | None = None) -> list[str]:
    """`experiment=<the search's>`, its fixed settings and the trial's parameters, without
    the search's budget, and `name=<study>_trial<N>`."""
    summary = _load(search_dir / "best_params.yaml")
    if not summary:
        raise ConfigError(
            f"{search_dir} holds no best_params.yaml: pass the folder of an Optuna search "
            "(python train.py -m hparams_search=... prints it as Sweep dir)."
        )
    entries = [summary["best"]] if isinstance(summary.get("best"), dict) else []
    entries += [e for e in summary.get("pareto_front") or [] if isinstance(e, dict)]
    numbers = [e.get("trial") for e in entries]
    if trial is None and len(entries) != 1:
        raise ConfigError(
            f"{search_dir} has no single best trial (Pareto front: trials "
            f"{', '.join(map(str, numbers)) or 'none'}): choose one with trial=<number>."
        )
    if trial is not None and trial not in numbers:
        raise ConfigError(
            f"trial={trial} is not a best trial of {search_dir}: choose one of "
            f"{', '.join(map(str, numbers)) or '(none completed)'}."
        )
    entry = entries[numbers.index(trial) if trial is not None else 0]
    overrides = [str(o) for o in entry.get("overrides") or []]
    for override in overrides:
        if not PLAIN.match(override) or UNSAFE.search(override):
            raise ConfigError(
                f"{search_dir}/best_params.yaml lists {override!r}, which is not a plain "
                "setting the search wrote; a search folder is data, so it is refused."
            )
    choices = (_load(search_dir / "multirun.yaml").get("hydra") or {}).get("runtime") or {}
    experiment = (choices.get("choices") or {}).get("experiment")
    study = re.sub(r"\W", "_", str(summary.get("study_name") or search_dir.name))
    kept = [o for o in overrides if not BUDGET.match(o) and not o.startswith("name=")]
    head = [f"experiment={experiment}"] if isinstance(experiment, str) else []
    return [*head, *kept, f"name={study}_trial{entry['trial']}"]
