"""Tests for logtool.analyze.summary: counts by kind and level, span, tiers, disk, skipped."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from logtool import queries
from logtool.analyze.load import open_tree
from logtool.analyze.summary import summarize


def test_summary_by_hand(ctree: Path) -> None:
    """Containers, kinds, levels, span and tiers of the main fixture tree."""
    with open_tree(ctree) as tree:
        s = summarize(tree)
    assert sorted(s.containers) == ["exec_1", "gone_1", "log_manager", "quiet_1", "risk_1",
                                    "strat_1"]
    assert s.records_by_kind == {"logs": 12, "master": 1, "system": 1, "flows": 8,
                                 "correlations": 1, "metrics": 1, "events": 13}
    assert s.records_by_level == {"INFO": 10, "WARNING": 1, "ERROR": 2, "CRITICAL": 1}
    assert list(s.records_by_level) == ["INFO", "WARNING", "ERROR", "CRITICAL"]  # by severity
    assert s.events_by_type == {"operation_executions": 3, "system_errors": 3, "positions": 3,
                                "tight_loop": 2, "reconciliation": 2}
    assert s.first == dt.datetime(2026, 11, 21, 9, 50)
    assert s.last == dt.datetime(2026, 11, 21, 10, 0, 3)
    assert s.tiers == ["fast", "standard"]
    live = [p for p in ctree.rglob("*") if p.is_file() and "archived" not in p.parts
            and p.suffix in (".log", ".jsonl", ".gz")]
    assert s.bytes == sum(p.stat().st_size for p in live)
    assert s.skipped.total == 0


def test_summary_counts_skipped(btree: Path) -> None:
    """The bad tree's skipped lines show in the summary with their files."""
    with open_tree(btree) as tree:
        s = summarize(tree)
    assert s.skipped.total == 8
    assert s.to_json()["skipped"]["files"]["containers/bad_1/missing.log"]["count"] == 3


def test_summary_order_is_stable(ctree: Path) -> None:
    """Two runs print the same JSON text, key order included (the counts query is ordered)."""
    texts = []
    for _ in range(2):
        with open_tree(ctree) as tree:
            texts.append(json.dumps(summarize(tree).to_json(), default=str))
    assert texts[0] == texts[1]
    with open_tree(ctree) as tree:
        rows = tree.con.execute(
            "SELECT kind FROM (" + queries.load("summary_counts") + ")").fetchall()
    kinds = [r[0] for r in rows]
    assert kinds == sorted(kinds)
