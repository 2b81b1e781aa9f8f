"""Tests for logtool.analyze.hotspots: top lists, codes from logs and events, histogram."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from logtool.analyze.hotspots import error_hotspots, histogram
from logtool.analyze.load import open_tree
from logtool.errors import BadInputError


def test_top_lists_and_codes(ctree: Path) -> None:
    """3 error records; EXEC-005 = 2 in log context + 2 system_errors events."""
    with open_tree(ctree) as tree:
        spots = error_hotspots(tree)
    assert spots.total == 3
    assert spots.containers == [("exec_1", 2), ("strat_1", 1)]
    assert spots.components == [("exec_1/order", 2), ("strat_1/signal", 1)]
    assert spots.messages == [("feed failed", 1), ("retry failed", 1), ("venue down", 1)]
    assert spots.codes == [("EXEC-005", 4), ("RISK-001", 1), ("STRAT-001", 1)]
    assert spots.bucket_seconds == 1
    assert [(b.start.second, b.count) for b in spots.histogram] == [(0, 2), (1, 0), (2, 1)]


def test_since_until_and_top(ctree: Path) -> None:
    """[10:00:00.150, 10:00:03) holds only retry failed and feed failed; top 1 keeps one."""
    with open_tree(ctree) as tree:
        spots = error_hotspots(tree, since=dt.datetime(2026, 11, 21, 10, 0, 0, 150000),
                               until=dt.datetime(2026, 11, 21, 10, 0, 3), top=1)
    assert spots.total == 2
    assert spots.containers == [("exec_1", 1)]  # tie broken by name
    # Codes: EXEC-005 once in logs + once in events (10:00:00.210), RISK-001 at .220.
    assert spots.codes == [("EXEC-005", 2)]


def test_histogram_width_grows_with_span() -> None:
    """A 2-hour span uses 5-minute buckets (≤ 40 buckets)."""
    t0 = dt.datetime(2026, 11, 21, 10, 0)
    per_second = {t0: 3, t0 + dt.timedelta(hours=2): 1}
    buckets, width = histogram(per_second)
    assert width == 300
    assert len(buckets) == 25
    assert (buckets[0].count, buckets[-1].count, sum(b.count for b in buckets)) == (3, 1, 4)


def test_bad_options() -> None:
    """--top below 1 and an empty window are bad input."""
    with pytest.raises(BadInputError, match="--top"):
        error_hotspots(None, top=0)  # type: ignore[arg-type]
    t = dt.datetime(2026, 1, 1)
    with pytest.raises(BadInputError, match="--until"):
        error_hotspots(None, since=t, until=t)  # type: ignore[arg-type]
