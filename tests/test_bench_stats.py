"""bench/_stats.py: the one median / p95 summary the benchmarks print (nearest rank)."""

from __future__ import annotations

import sys

from tests.corpus import REPO

sys.path.insert(0, str(REPO / "bench"))

from _stats import percentile, summary


def test_the_p95_is_the_nearest_rank() -> None:
    values = [float(v) for v in range(1, 21)]  # 20 values: p95 is the 19th smallest
    assert percentile(values, 0.95) == 19.0
    assert percentile(values[:6], 0.95) == 6.0
    assert percentile(values[:1], 0.95) == 1.0
    assert percentile([float(v) for v in range(1, 101)], 0.99) == 99.0


def test_each_script_keeps_its_keys() -> None:
    values = [0.25, 0.1, None, 0.4, 0.3]  # unsorted, with a missing value
    assert summary(values, unit="_s", digits=3) == {"n": 4, "median_s": 0.275, "p95_s": 0.4}
    assert summary(values, unit="_ms", digits=0, scale=1000) == {
        "n": 4,
        "median_ms": 275,
        "p95_ms": 400,
    }
    assert summary(values, tails=(0.95, 0.99)) == {"n": 4, "median": 0.3, "p95": 0.4, "p99": 0.4}
    assert summary(values, count=False) == {"median": 0.3, "p95": 0.4}


def test_no_values() -> None:
    assert summary([], unit="_s") == {"n": 0}
    assert summary([None], count=False) == {"median": None, "p95": None}
