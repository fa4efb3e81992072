"""The functions a forecasting run can learn (`data.fn=`), sampled on the seed's grid."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from lstm_lab.errors import ConfigError


@dataclass(frozen=True)
class SeriesFunction:
    """A named f(x) with the formula its plots show."""

    formula: str
    f: Callable[[Tensor], Tensor]


FUNCTIONS: dict[str, SeriesFunction] = {
    # The seed's function. A sinusoid times a line: it obeys an exact linear recurrence.
    "x_sin_x": SeriesFunction("x·sin(x)", lambda x: x * torch.sin(x)),
    "sin": SeriesFunction("sin(x)", torch.sin),
    # Amplitude shrinks from e² to e⁻² over the grid: the test part is quieter than training.
    "damped_sine": SeriesFunction("exp(-x/10)·sin(x)", lambda x: torch.exp(-x / 10) * torch.sin(x)),
    # Frequency rises along the grid, so the test part is faster than anything seen in
    # training and no fixed linear recurrence fits it.
    "chirp": SeriesFunction("sin((x+20)²/20)", lambda x: torch.sin((x + 20) ** 2 / 20)),
    # Piecewise linear with a jump every 2π: the jumps are what a window cannot see coming.
    "sawtooth": SeriesFunction(
        "(x mod 2π)/π − 1", lambda x: torch.remainder(x, 2 * torch.pi) / torch.pi - 1
    ),
}


def seed_grid() -> Tensor:
    """The seed's x values: [-20, 20) every 0.1, in float64."""
    return torch.arange(-2000, 2000, 10, dtype=torch.float64) * 0.01


def get_function(name: str) -> SeriesFunction:
    """The function called `name`, or a ConfigError listing the choices."""
    if name not in FUNCTIONS:
        raise ConfigError(f"data.fn={name!r} is not one of {', '.join(FUNCTIONS)}.")
    return FUNCTIONS[name]


def make_series(name: str, noise_std: float = 0.0, noise_seed: int = 0) -> tuple[Tensor, Tensor]:
    """(xs, ys) in float64 on the seed's grid; ys carries Gaussian observation noise if asked.

    The noise depends on `noise_seed` only, so runs with different training seeds see the
    same noisy series and are scored on the same test values.
    """
    if noise_std < 0:
        raise ConfigError(f"data.noise_std={noise_std} must be zero or positive.")
    xs = seed_grid()
    ys = get_function(name).f(xs)
    if noise_std > 0:
        generator = torch.Generator().manual_seed(noise_seed)
        ys = ys + noise_std * torch.randn(len(ys), generator=generator, dtype=torch.float64)
    return xs, ys
