"""Statistics over seeds: Student-t intervals of a mean and paired tests between variants."""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
# Seeds a group needs before the summary shows its interval: with 2 the t factor is 12.7,
# and the interval of a time or an accuracy reaches values it cannot take.
MIN_SEEDS = 3
ALPHA = 1 - CONFIDENCE
# Metrics whose larger values are better; every other metric (loss, mse, seconds) is minimised.
HIGHER_IS_BETTER = re.compile(r"(^|_)(acc|accuracy|f1|auc|r2|precision|recall)$")


# Interval coverage has no better direction: the nominal level is its target (docs/intervals.md).
NO_DIRECTION = re.compile(r"(^|_)coverage_[0-9.]+$")


def has_direction(metric: str) -> bool:
    """False for metrics neither higher nor lower is better for (coverage_<L>)."""
    return not NO_DIRECTION.search(metric.rsplit("/", 1)[-1])


def direction_words(metric: str) -> str:
    """`higher is better`, `lower is better`, or `closest to <L>% is best` for a coverage."""
    if not has_direction(metric):
        return f"closest to {metric.rsplit('_', 1)[-1]}% is best"
    return "higher is better" if higher_is_better(metric) else "lower is better"


def higher_is_better(metric: str) -> bool:
    """True for accuracies and other scores, False for losses, errors and times."""
    return bool(HIGHER_IS_BETTER.search(metric.rsplit("/", 1)[-1]))


@dataclass
class SeedStats:
    """n, mean, sample std and the 95% Student-t confidence interval of the mean."""

    n: int
    mean: float
    std: float
    low: float
    high: float


def describe(values: list[float]) -> SeedStats:
    """The mean of `values` with its 95% t-interval (NaN where n < 2 gives no interval)."""
    n = len(values)
    if n == 0:
        return SeedStats(0, math.nan, math.nan, math.nan, math.nan)
    data = np.asarray(values, dtype=float)
    mean = float(data.mean())
    if n == 1:
        return SeedStats(1, mean, math.nan, math.nan, math.nan)
    std = float(data.std(ddof=1))
    if std == 0:
        return SeedStats(n, mean, 0.0, mean, mean)
    interval = stats.ttest_1samp(data, 0.0).confidence_interval(CONFIDENCE)
    return SeedStats(n, mean, std, float(interval.low), float(interval.high))


@dataclass
class Paired:
    """One variant against the reference on the same seeds: difference, its CI, two p-values."""

    variant: str
    reference: str
    metric: str
    n: int
    difference: float  # mean of variant - reference over the paired seeds
    low: float
    high: float
    p_ttest: float
    p_wilcoxon: float

    @property
    def significant(self) -> bool:
        # The paired t-test's p < 0.05 exactly when its 95% interval excludes 0.
        return self.p_ttest < ALPHA

    @property
    def winner(self) -> str | None:
        """The better of the two when the difference is significant, else None."""
        if not self.significant or self.difference == 0 or not has_direction(self.metric):
            return None
        variant_higher = self.difference > 0
        return self.variant if variant_higher == higher_is_better(self.metric) else self.reference

    @property
    def verdict(self) -> str:
        if self.n < 2:
            return "too few seeds"
        if self.low == self.high == 0:
            return "identical"
        if self.significant and not has_direction(self.metric):
            return "differs"
        if self.winner is None:
            return "no significant difference"
        return "better" if self.winner == self.variant else "worse"

    def interval_text(self) -> str:
        """`+0.030 [0.011, 0.049]`: the difference and its interval, to two significant digits
        of the interval's half-width."""
        half = (self.high - self.low) / 2
        decimals = 3 if not half > 0 else max(0, 1 - math.floor(math.log10(half)))
        return (
            f"{self.difference:+.{decimals}f} [{self.low:.{decimals}f}, {self.high:.{decimals}f}]"
        )

    def sentence(self) -> str:
        """The comparison in plain words, e.g. `sum beats forward on test/seq_acc by ...`."""
        seeds = f"{self.n} seed{'s' if self.n != 1 else ''}"
        if self.n < 2:
            return (
                f"{self.variant} vs {self.reference} on {self.metric}: {seeds} in common, "
                "too few to compare."
            )
        if self.verdict == "identical":
            return f"{self.variant} and {self.reference} are identical on {self.metric} ({seeds})."
        p = format_p(self.p_ttest)
        p = f"p {p}, {seeds}" if p.startswith("<") else f"p = {p}, {seeds}"
        direction = "" if higher_is_better(self.metric) else f", {direction_words(self.metric)}"
        if self.verdict == "differs":
            return (
                f"{self.variant} vs {self.reference} on {self.metric}: differs by "
                f"{self.interval_text()}{direction}, {p}."
            )
        if self.winner is None:
            return (
                f"{self.variant} vs {self.reference} on {self.metric}: no significant difference, "
                f"{self.interval_text()}{direction}, {p}."
            )
        verb = "beats" if self.winner == self.variant else "is worse than"
        return (
            f"{self.variant} {verb} {self.reference} on {self.metric} by "
            f"{self.interval_text()}{direction}, {p}."
        )


def format_p(p: float) -> str:
    if math.isnan(p):
        return "n/a"
    return "< 0.001" if p < 0.001 else f"{p:.2g}"


def compare(variant: str, reference: str, metric: str, pairs: list[tuple[float, float]]) -> Paired:
    """Paired t-test and Wilcoxon signed-rank test of (variant, reference) values per seed."""
    n = len(pairs)
    if n < 2:
        diff = pairs[0][0] - pairs[0][1] if pairs else math.nan
        return Paired(variant, reference, metric, n, diff, *(math.nan,) * 4)
    ours, theirs = (np.asarray(side, dtype=float) for side in zip(*pairs, strict=True))
    differences = ours - theirs
    if not differences.any():
        # Both tests divide by the spread of the differences: no spread, no evidence either way.
        return Paired(variant, reference, metric, n, 0.0, 0.0, 0.0, 1.0, 1.0)
    with warnings.catch_warnings():
        # Equal nonzero differences on every seed make scipy warn about precision; its
        # answer (a zero-width interval, p near 0) is still the right one.
        warnings.simplefilter("ignore", RuntimeWarning)
        ttest = stats.ttest_rel(ours, theirs)
        interval = ttest.confidence_interval(CONFIDENCE)
        wilcoxon = stats.wilcoxon(ours, theirs)
    return Paired(
        variant,
        reference,
        metric,
        n,
        float(differences.mean()),
        float(interval.low),
        float(interval.high),
        float(ttest.pvalue),
        float(wilcoxon.pvalue),
    )
