"""The paired comparison of a sweep over one key and seeds: each value against a reference.

`python train.py -m experiment=compare_directions compare_to=forward` compares every
direction with `forward` on the same seeds; without `compare_to`, the first value swept is
the reference.
"""

from __future__ import annotations

from dataclasses import dataclass

from omegaconf import DictConfig

from lstm_lab.errors import ConfigError
from lstm_lab.status import Status
from lstm_lab.sweep.jobs import Job, varying_keys
from lstm_lab.sweep.stats import Paired, compare

SEED_KEY = "seed"
BASIC_SWEEPER = "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"


def pick_reference(key: str, values: list[str], compare_to: object) -> str:
    """`compare_to` if it is one of the swept `values`, else the first value (when unset)."""
    if compare_to is None:
        return values[0]
    if str(compare_to) not in values:
        raise ConfigError(
            f"compare_to={compare_to} is not a value of the swept {key}: "
            f"choose one of {', '.join(values)}."
        )
    return str(compare_to)


def _needs_one_key(compare_to: object, keys: list[str]) -> ConfigError:
    return ConfigError(
        f"compare_to={compare_to} needs a sweep over seed and exactly one other key, but this "
        f"one sweeps {', '.join(keys) or 'no other key'}: remove compare_to or sweep one key."
    )


def swept_values(config: DictConfig) -> dict[str, list[str]] | None:
    """Each key of a basic-sweeper multirun with its values, as the sweeper will expand them.

    None for other sweepers (an Optuna search draws its values as it goes) or values that
    need the config loader to expand (glob over a config group).
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser

    if config.hydra.sweeper.get("_target_") != BASIC_SWEEPER:
        return None
    params = config.hydra.sweeper.get("params") or {}
    # The basic sweeper reads its params first, then the command line, the last one winning.
    lines = [f"{k}={v}" for k, v in params.items()] + list(config.hydra.overrides.task)
    swept: dict[str, list[str]] = {}
    try:
        for override in OverridesParser.create().parse_overrides(lines):
            key = override.get_key_element()
            if override.is_sweep_override():
                swept[key] = list(override.sweep_string_iterator())
            else:
                swept.pop(key, None)
    except Exception:
        return None  # the sweep's end checks the jobs it ran instead
    return swept


def check_compare_to(config: DictConfig) -> None:
    """Before the first job: `compare_to` must name a value of the one key swept beside seed."""
    compare_to = config.get("compare_to")
    swept = swept_values(config) if compare_to is not None else None
    if swept is None:
        return
    keys = [k for k, values in swept.items() if k != SEED_KEY and len(values) > 1]
    if len(keys) != 1 or len(swept.get(SEED_KEY, [])) < 2:
        raise _needs_one_key(compare_to, keys)
    pick_reference(keys[0], swept[keys[0]], compare_to)


@dataclass
class Comparison:
    """Every value of the swept key against the reference value, metric by metric."""

    key: str
    reference: str
    results: list[Paired]


def compare_variants(
    jobs: list[Job], metrics: list[str], compare_to: object = None
) -> Comparison | None:
    """Paired comparisons when seed and exactly one other key vary, else None."""
    keys = varying_keys(jobs)
    others = [k for k in keys if k != SEED_KEY]
    if SEED_KEY not in keys or len(others) != 1:
        if compare_to is not None:
            raise _needs_one_key(compare_to, others)
        return None
    (key,) = others
    values = list(dict.fromkeys(job.overrides[key] for job in jobs if key in job.overrides))
    reference = pick_reference(key, values, compare_to)

    def by_seed(value: str, metric: str) -> dict[str, float]:
        return {
            job.overrides[SEED_KEY]: job.metrics[metric]
            for job in jobs
            if job.overrides.get(key) == value
            and job.status is Status.COMPLETED
            and metric in job.metrics
        }

    results = []
    for metric in metrics:
        theirs = by_seed(reference, metric)
        for value in values:
            if value == reference:
                continue
            ours = by_seed(value, metric)
            pairs = [(ours[seed], theirs[seed]) for seed in ours if seed in theirs]
            results.append(compare(value, reference, metric, pairs))
    return Comparison(key, reference, results)
