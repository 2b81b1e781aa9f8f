"""Tests for logtool.analyze.tiers: percentiles computed by hand (linear interpolation)."""

from __future__ import annotations

from pathlib import Path

import pytest

from logtool.analyze.load import open_tree
from logtool.analyze.tiers import tier_latencies


def linear_quantile(values: list[float], q: float) -> float:
    """quantile_cont by hand: position (n-1)q, interpolate between the neighbours."""
    xs = sorted(values)
    pos = (len(xs) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def test_per_tier_percentiles(ctree: Path) -> None:
    """fast: 1,2,3,4,10 ms given; standard: 20 ms derived (30 → 50 ms) and 30 ms given."""
    with open_tree(ctree) as tree:
        rows = {r.tier: r for r in tier_latencies(tree).rows}
    assert list(rows) == ["fast", "standard"]  # internal flows (tier null) are not a tier
    fast = rows["fast"]
    assert (fast.count, fast.measured) == (5, 5)
    # By hand: p50 = 3; p90 = 4 + 0.6 * (10 - 4) = 7.6; p99 = 4 + 0.96 * 6 = 9.76.
    assert fast.p50_ms == pytest.approx(3.0)
    assert fast.p90_ms == pytest.approx(7.6)
    assert fast.p99_ms == pytest.approx(9.76)
    assert fast.max_ms == 10.0
    assert fast.p90_ms == pytest.approx(linear_quantile([1, 2, 3, 4, 10], 0.9))
    std = rows["standard"]
    assert (std.count, std.measured) == (2, 2)
    assert std.p50_ms == pytest.approx(25.0)
    assert std.p90_ms == pytest.approx(29.0)
    assert std.p99_ms == pytest.approx(29.9)
    assert std.max_ms == pytest.approx(30.0)


def test_by_route(ctree: Path) -> None:
    """Per route: risk_1 → exec_1 is the derived 20 ms; strat_1 → exec_1 fast is 4 and 10."""
    with open_tree(ctree) as tree:
        rows = {(r.tier, r.source, r.target): r
                for r in tier_latencies(tree, by_route=True).rows}
    assert rows[("standard", "risk_1", "exec_1")].p50_ms == pytest.approx(20.0)
    fast_exec = rows[("fast", "strat_1", "exec_1")]
    assert (fast_exec.count, fast_exec.p50_ms, fast_exec.max_ms) == (2, 7.0, 10.0)
    assert fast_exec.p90_ms == pytest.approx(4 + 0.9 * 6)
    assert rows[("fast", "strat_1", "risk_1")].p50_ms == pytest.approx(2.0)


def test_unmeasurable_flow_counts_but_has_no_latency(tmp_path: Path) -> None:
    """A flow without latency_ms and no later record in its target is counted, not measured."""
    from fixtures import flow, put

    root = tmp_path / "t"
    put(root / "flows/c_event_flows.log", [flow("10:00:00", "zz", "a", "b", "reliable")])
    with open_tree(root) as tree:
        (row,) = tier_latencies(tree).rows
    assert (row.tier, row.count, row.measured, row.p50_ms, row.max_ms) == (
        "reliable", 1, 0, None, None)
