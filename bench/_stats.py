"""The one median / p95 summary every benchmark prints, so that a p95 means the same in each.

A percentile is the nearest rank: the p-th percentile of n values is the smallest value with at
least p·n of them at or below it (p95 of 20 values: the 19th smallest). Each script keeps its
own JSON keys: `unit` is their suffix ("_s": median_s, p95_s), `scale` turns seconds into ms.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence


def percentile(ordered: Sequence[float], p: float) -> float:
    """Nearest rank of `ordered` (sorted, not empty); p in (0, 1]."""
    # The tolerance keeps a product like 0.95 * 20 from landing a hair above the whole rank.
    return ordered[max(0, math.ceil(p * len(ordered) - 1e-9) - 1)]


def summary(
    values: Iterable[float | None],
    *,
    unit: str = "",
    digits: int = 1,
    scale: float = 1.0,
    tails: Sequence[float] = (0.95,),
    count: bool = True,
) -> dict:
    """n, median and tails (p95; p99 with tails=(0.95, 0.99)) of the values that are not None,
    times `scale`, rounded to `digits` (0: whole numbers). Keys end in `unit`; `count=False`
    leaves n out. No values: {"n": 0}, or each key with None when `count` is False."""
    ordered = sorted(v * scale for v in values if v is not None)
    keys = ["median", *(f"p{round(p * 100)}" for p in tails)]
    if not ordered:
        return {"n": 0} if count else {f"{key}{unit}": None for key in keys}

    def rounded(value: float) -> float:
        return round(value) if digits == 0 else round(value, digits)

    figures = [statistics.median(ordered), *(percentile(ordered, p) for p in tails)]
    out: dict = {"n": len(ordered)} if count else {}
    out.update({f"{key}{unit}": rounded(v) for key, v in zip(keys, figures, strict=True)})
    return out
