"""Tests for logtool.analyze.health: counts, bytes and statuses computed by hand."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from fixtures import lines, put

from logtool.analyze.health import Thresholds, container_health
from logtool.analyze.load import open_tree
from logtool.errors import BadInputError


def test_rows_and_statuses_match_hand_counts(ctree: Path) -> None:
    """strat_1 1/5 errors → failing; exec_1 2/4 failing; quiet_1 silent; gone_1 from master."""
    with open_tree(ctree) as tree:
        report = container_health(tree)
    rows = {r.container_id: r for r in report.containers}
    assert set(rows) == {"strat_1", "risk_1", "exec_1", "quiet_1", "gone_1", "log_manager"}
    s = rows["strat_1"]
    assert (s.records, s.warnings, s.errors, s.components) == (5, 1, 1, 1)
    assert s.error_rate == pytest.approx(0.2)
    assert rows["exec_1"].errors == 2  # one ERROR + one CRITICAL
    bytes_strat = sum(p.stat().st_size for p in (ctree / "containers/strat_1").iterdir()) + (
        ctree / "metrics/strat_1.log").stat().st_size  # its metrics file counts too
    assert s.bytes == bytes_strat
    assert rows["gone_1"].bytes == 0
    status = {cid: r.status for cid, r in rows.items()}
    assert status == {"strat_1": "failing", "exec_1": "failing", "risk_1": "ok",
                      "quiet_1": "silent", "gone_1": "ok", "log_manager": "ok"}
    assert report.skipped_lines == 0


def test_thresholds_change_statuses(ctree: Path) -> None:
    """With failing at 60% and degraded at 15%, strat_1 (20%) and exec_1 (50%) are degraded."""
    with open_tree(ctree) as tree:
        report = container_health(
            tree, Thresholds(degraded_rate=0.15, failing_rate=0.6, warning_rate=0.5,
                             silent_after_s=700))
    status = {r.container_id: r.status for r in report.containers}
    assert status["strat_1"] == "degraded"
    assert status["exec_1"] == "degraded"
    assert status["quiet_1"] == "ok"  # 603 s before the newest record, under 700


def test_warning_rate_alone_degrades(tmp_path: Path) -> None:
    """One warning in four records (25%) with no errors is degraded at the 10% default."""
    from fixtures import log

    root = tmp_path / "t"
    put(root / "containers/w/a.log", [
        log("10:00:00", "INFO", "w", "a", "m"), log("10:00:01", "WARNING", "w", "a", "m"),
        log("10:00:02", "INFO", "w", "a", "m"), log("10:00:03", "INFO", "w", "a", "m")])
    with open_tree(root) as tree:
        (row,) = container_health(tree).containers
    assert (row.records, row.warnings, row.status) == (4, 1, "degraded")


def test_skipped_lines_counted_in_the_same_scan(btree: Path) -> None:
    """The bad tree's 7 unreadable lines plus the truncated gzip's rest make 8."""
    with open_tree(btree) as tree:
        report = container_health(tree)
    assert report.skipped_lines == 8
    (row,) = report.containers
    assert row.container_id == "bad_1"


def test_bad_thresholds_are_refused() -> None:
    """Rates outside 0..1 or failing below degraded are bad input."""
    with pytest.raises(BadInputError, match="failing-rate"):
        Thresholds(degraded_rate=0.5, failing_rate=0.1).check()
    with pytest.raises(BadInputError, match=r"0\.\.1"):
        Thresholds(degraded_rate=2).check()


def test_valid_unfinished_last_line_is_skipped_cold_and_cached(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unfinished last line, valid JSON or cut, is skipped alike cold and with --cache."""
    from fixtures import log, snapshot

    monkeypatch.setenv("LOGTOOL_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "t"
    whole = [log("10:00:00", "INFO", "a", "x", "m"), log("10:00:01", "ERROR", "a", "x", "m")]
    put(root / "containers/a/x.log", whole)
    tail = log("10:00:05", "WARNING", "b", "y", "m")
    body = [log("10:00:02", "INFO", "b", "y", "m"), log("10:00:03", "INFO", "b", "y", "m")]
    put(root / "containers/b/y.log", lines(body) + orjson.dumps(tail))
    cut = [log("10:00:04", "INFO", "c", "z", "m")]
    put(root / "containers/c/z.log", lines(cut) + orjson.dumps(tail)[:25])
    # Whitespace after the last newline is no line at all, cold or cached, plain or gzipped.
    spaced = [log("10:00:02", "INFO", "d", "w", "m")]
    put(root / "containers/d/w.log", lines(spaced) + b" \t ")
    put(root / "containers/d/w.20261121T000000.log.gz", lines(spaced) + b"  ", gz=True)
    before = snapshot(root)
    answers = []
    for cache in (False, True, True):
        with open_tree(root, cache=cache, light=True) as tree:
            report = container_health(tree)
        answers.append(([c.to_json() for c in report.containers], report.skipped_lines))
    assert answers[0] == answers[1] == answers[2]
    rows, skipped = answers[0]
    assert skipped == 2
    assert [(r["container_id"], r["records"], r["warnings"], r["errors"]) for r in rows] == [
        ("a", 2, 0, 1), ("b", 2, 0, 0), ("c", 1, 0, 0), ("d", 2, 0, 0)]
    assert rows[1]["last_activity"].endswith("10:00:03.000000Z")
    assert snapshot(root) == before
