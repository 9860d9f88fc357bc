"""Small summaries of timing samples: medians and percentiles, nothing clever."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def percentile(values: Sequence[float], fraction: float) -> float:
    """Linear-interpolated percentile (``fraction`` in 0..1); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = math.floor(position)
    high = math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary(values: Sequence[float], digits: int = 3) -> dict[str, float | int]:
    """n, median, p10, p90, mean and total of ``values``."""
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "median": round(statistics.median(values), digits),
        "p10": round(percentile(values, 0.10), digits),
        "p90": round(percentile(values, 0.90), digits),
        "mean": round(statistics.fmean(values), digits),
        "total": round(math.fsum(values), digits),
    }


def ratio(numerator: float, denominator: float, digits: int = 3) -> float | None:
    return round(numerator / denominator, digits) if denominator else None


def median_of_ratios(pairs: Sequence[tuple[float, float]], digits: int = 3) -> float | None:
    """Median of per-item ratios a/b: robust when a few items dominate the totals."""
    ratios = [a / b for a, b in pairs if b > 0]
    return round(statistics.median(ratios), digits) if ratios else None
