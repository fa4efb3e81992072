"""The search space: Hydra sweep overrides as Optuna distributions, and values as overrides."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import optuna
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import (
    ChoiceSweep,
    IntervalSweep,
    Override,
    RangeSweep,
    Transformer,
)
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from lstm_lab.errors import ConfigError


def distribution(override: Override) -> BaseDistribution:
    """The Optuna distribution of a sweep override: choice, range or interval (log/int tags)."""
    sweep = override.value()
    if isinstance(sweep, ChoiceSweep):
        return CategoricalDistribution(list(override.sweep_iterator(Transformer.identity)))
    if isinstance(sweep, RangeSweep):
        if all(isinstance(v, int) for v in (sweep.start, sweep.stop, sweep.step)):
            return IntDistribution(sweep.start, sweep.stop - sweep.step, step=sweep.step)
        return CategoricalDistribution(list(override.sweep_iterator(Transformer.identity)))
    if isinstance(sweep, IntervalSweep):
        log_scale = "log" in sweep.tags
        if "int" in sweep.tags:
            return IntDistribution(int(sweep.start), int(sweep.end), log=log_scale)
        return FloatDistribution(sweep.start, sweep.end, log=log_scale)
    raise ConfigError(
        f"{override.input_line!r} is not a search dimension; use choice(...), range(...) or "
        "interval(...), e.g. model.hidden_size=choice(16,32,64)."
    )


def search_space(
    params: dict[str, str], arguments: Sequence[str]
) -> tuple[dict[str, BaseDistribution], list[str]]:
    """Search dimensions (config `params`, then command-line sweeps) and the fixed overrides."""
    lines = [f"{key}={value}" for key, value in params.items()] + list(arguments)
    space: dict[str, BaseDistribution] = {}
    fixed: list[str] = []
    for override in OverridesParser.create().parse_overrides(lines):
        name = override.get_key_element()
        if override.is_sweep_override():
            space[name] = distribution(override)
        else:
            space.pop(name, None)  # a fixed value on the command line wins over the search
            fixed.append(override.input_line)
    return space, fixed


def grid(space: dict[str, BaseDistribution]) -> dict[str, list[Any]]:
    """GridSampler's search space: every value of each choice(...) or range(...)."""
    values: dict[str, list[Any]] = {}
    for name, dist in space.items():
        if isinstance(dist, CategoricalDistribution):
            values[name] = list(dist.choices)
        elif isinstance(dist, IntDistribution) and not dist.log:
            values[name] = list(range(dist.low, dist.high + 1, dist.step))
        else:
            raise ConfigError(
                f"hydra/sweeper/sampler=grid needs a finite list for {name}: write "
                f"{name}=choice(...) or range(...), not an interval."
            )
    return values


class AskTellGridSampler(optuna.samplers.GridSampler):
    """Optuna's GridSampler for ask/tell; the sweeper stops when every point has run."""

    def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
        # GridSampler calls study.stop() after the last point, which raises outside
        # study.optimize; the sweeper caps n_trials at the grid's size instead.
        pass


def format_value(value: Any) -> str:
    """A sampled value as an override; floats keep 6 significant digits for readable folders."""
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "null"
    if isinstance(value, float):
        return format(value, ".6g")
    return str(value)


def as_run(value: Any) -> Any:
    """The value the job ran with (floats rounded as in its override)."""
    return float(format_value(value)) if isinstance(value, float) else value
