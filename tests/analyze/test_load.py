"""Tests for logtool.analyze.load: views, columns, dedup, layouts and skipped-line accounting."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from fixtures import (
    EXEC,
    GOOD_LINE,
    build_bad_tree,
    complete_lines_of_truncated_gzip,
    log,
    put,
    snapshot,
)

from logtool import contract
from logtool.analyze.load import open_tree
from logtool.errors import BadInputError, FormatVersionError


def _count(tree, sql: str) -> int:
    return tree.con.execute(sql).fetchone()[0]


def test_views_and_contract_columns(ctree: Path) -> None:
    """Every view exists with the contract columns plus ts, file, line, record."""
    with open_tree(ctree) as tree:
        views = set(tree.views())
        assert {"logs", "flows", "correlations", "metrics", "events"} <= views
        assert {f"events_{t}" for t in contract.EVENT_TYPES} <= views
        for view, columns in (("logs", contract.LOG_COLUMNS), ("flows", contract.FLOW_COLUMNS),
                              ("correlations", contract.CORRELATION_COLUMNS),
                              ("metrics", contract.METRIC_COLUMNS)):
            described = {r[0]: r[1] for r in tree.con.execute(f"DESCRIBE {view}").fetchall()}
            for name, duck_type in columns.items():
                assert described[name] == duck_type, (view, name)
            assert described["ts"] == "TIMESTAMP"
            assert described["line"] == "BIGINT"
            assert described["record"] == "JSON"


def test_record_counts_and_master_dedup(ctree: Path) -> None:
    """master.log adds only gone_1's record; strat_1 counts live + rotated, not archived."""
    with open_tree(ctree) as tree:
        rows = dict(tree.con.execute(
            "SELECT container_id, count(*) FROM logs GROUP BY 1").fetchall())
        assert rows == {"strat_1": 5, "risk_1": 2, "exec_1": 4, "quiet_1": 1, "gone_1": 1,
                        "log_manager": 1}
        kinds = dict(tree.con.execute(
            "SELECT source_kind, count(*) FROM logs GROUP BY 1").fetchall())
        assert kinds == {"logs": 12, "master": 1, "system": 1}
        assert _count(tree, "SELECT count(*) FROM flows") == 8
        assert _count(tree, "SELECT count(*) FROM events") == 13
        assert _count(tree, "SELECT count(*) FROM events_positions") == 3
        assert tree.skipped.total == 0


def test_archived_only_when_asked(ctree: Path) -> None:
    """The archived strat_1 record appears only with archived=True."""
    with open_tree(ctree, archived=True) as tree:
        assert _count(tree, "SELECT count(*) FROM logs WHERE container_id = 'strat_1'") == 6
        assert _count(tree, "SELECT count(*) FROM logs WHERE message = 'old day'") == 1


def test_typed_values_file_line_and_extra_fields(ctree: Path) -> None:
    """ts is a UTC TIMESTAMP, file/line point at the source, unknown fields stay in record."""
    with open_tree(ctree) as tree:
        ts, file, line, code = tree.con.execute(
            "SELECT ts, file, line, context->>'error_code' FROM logs "
            "WHERE message = 'venue down'").fetchone()
        assert ts == dt.datetime(2026, 11, 21, 10, 0, 0, 100000)
        assert (file, line, code) == ("containers/exec_1/order.log", 2, "EXEC-005")
        desk = tree.con.execute(
            "SELECT record->>'desk', topic FROM correlations").fetchone()
        assert desk == ("eu", "trade")
        latency, tier = tree.con.execute(
            "SELECT latency_ms, tier FROM flows WHERE correlation_id = 'tD'").fetchone()
        assert (latency, tier) == (10.0, "fast")
        ok = tree.con.execute(
            "SELECT reconciliation_success, retry_count FROM events_tight_loop "
            "WHERE operation_id = 'op_2'").fetchone()
        assert ok == (False, 2)


def test_timestamps_with_offset_or_without_zone(tmp_path: Path) -> None:
    """An offset converts to UTC; a timestamp without zone (seed engine time) is taken as UTC."""
    root = tmp_path / "t"
    put(root / "containers/c/a.log", [
        {**log("10:00:00", "INFO", "c", "a", "offset"), "timestamp": "2026-11-21T12:00:00+02:00"},
        {**log("10:00:00", "INFO", "c", "a", "naive"), "timestamp": "2025-01-15T10:30:00"},
    ])
    with open_tree(root) as tree:
        got = dict(tree.con.execute("SELECT message, ts FROM logs").fetchall())
    assert got == {"offset": dt.datetime(2026, 11, 21, 10, 0),
                   "naive": dt.datetime(2025, 1, 15, 10, 30)}


def test_run_scoped_layout_falls_back_to_path(rtree: Path) -> None:
    """Records without container/component take them from <run_id>/<pid>/<component>.log."""
    with open_tree(rtree) as tree:
        rows = tree.con.execute(
            "SELECT container_id, component_name, level FROM logs ORDER BY line").fetchall()
        assert rows == [("run_a.777", "position_monitor", "INFO"),
                        ("run_a.777", "position_monitor", "ERROR")]
        assert tree.con.execute(
            "SELECT container_id, operation_id FROM events_operation_executions").fetchall() == [
            ("run_a.777", "op_9")]


def test_opening_a_subdirectory(ctree: Path) -> None:
    """A directory below the root is a tree of its own files."""
    with open_tree(ctree / "containers" / "exec_1") as tree:
        assert _count(tree, "SELECT count(*) FROM logs") == len(EXEC)
        assert _count(tree, "SELECT count(*) FROM flows") == 0


def test_every_bad_input_case_is_skipped_and_counted(btree: Path, tmp_path: Path) -> None:
    """Malformed, non-UTF-8, missing fields, partial last line, truncated gzip: exact counts."""
    expected = build_bad_tree(tmp_path / "again")
    cut = btree / "containers/bad_1/cut.20261121T000001.log.gz"
    salvaged = complete_lines_of_truncated_gzip(cut)
    assert salvaged > 0
    with open_tree(btree) as tree:
        skipped = tree.skipped
        got = {rel: (s.count, s.first_line) for rel, s in skipped.files.items()}
        expected["containers/bad_1/cut.20261121T000001.log.gz"] = (1, salvaged + 1)
        assert got == expected
        assert skipped.total == 2 + 1 + 3 + 1 + 1
        per_file = dict(tree.con.execute(
            "SELECT file, count(*) FROM logs GROUP BY 1").fetchall())
    assert per_file == {
        "containers/bad_1/malformed.log": 2,
        "containers/bad_1/badutf.log": 2,
        "containers/bad_1/missing.log": 1,
        "containers/bad_1/partial.log": 2,
        "containers/bad_1/blank.log": 1,
        "containers/bad_1/cut.20261121T000001.log.gz": salvaged,
    }


def test_non_utf8_neighbours_keep_valid_text_and_line_numbers(btree: Path) -> None:
    """The line after invalid bytes still decodes its valid UTF-8 (é) and keeps its number."""
    with open_tree(btree) as tree:
        rows = tree.con.execute(
            "SELECT line, message FROM logs WHERE file = 'containers/bad_1/badutf.log' "
            "ORDER BY line").fetchall()
        malformed = tree.con.execute(
            "SELECT line FROM logs WHERE file = 'containers/bad_1/malformed.log' "
            "ORDER BY line").fetchall()
    assert rows == [(1, "good"), (3, "café")]
    assert malformed == [(1,), (3,)]


def test_complete_last_line_without_newline_is_partial(tmp_path: Path) -> None:
    """A last line with no newline is a record still being written: skipped even if valid."""
    root = tmp_path / "t"
    put(root / "containers/c/a.log", GOOD_LINE + b"\n" + GOOD_LINE)
    with open_tree(root) as tree:
        assert _count(tree, "SELECT count(*) FROM logs") == 1
        assert {r: (s.count, s.first_line) for r, s in tree.skipped.files.items()} == {
            "containers/c/a.log": (1, 2)}


def test_newer_format_version_is_refused(ctree: Path) -> None:
    """A tree marker with a newer format_version raises FormatVersionError naming the file."""
    (ctree / contract.TREE_MARKER).write_text(
        json.dumps({"format_version": contract.FORMAT_VERSION + 1}))
    with pytest.raises(FormatVersionError, match=r"logtool\.json"):
        open_tree(ctree / "containers")


def test_missing_path(tmp_path: Path) -> None:
    """A missing path is BadInputError naming it."""
    with pytest.raises(BadInputError, match="no such file"):
        open_tree(tmp_path / "missing")


def test_loading_never_writes_inside_the_tree(ctree: Path, btree: Path) -> None:
    """Opening and querying leaves every file, size, mtime and hash as it was."""
    for root in (ctree, btree):
        before = snapshot(root)
        with open_tree(root, archived=True) as tree:
            tree.con.execute("SELECT count(*) FROM logs").fetchall()
            tree.con.execute("SELECT count(*) FROM events").fetchall()
            assert tree.skipped.total >= 0
        assert snapshot(root) == before


def test_empty_tree_has_empty_views(tmp_path: Path) -> None:
    """A directory without tree files opens with empty views rather than failing."""
    (tmp_path / "empty").mkdir()
    with open_tree(tmp_path / "empty") as tree:
        assert _count(tree, "SELECT count(*) FROM logs") == 0
        assert _count(tree, "SELECT count(*) FROM events") == 0
        assert tree.skipped.total == 0


def test_unknown_event_type_and_rotated_events(tmp_path: Path) -> None:
    """events/<new type>.jsonl gets its own view; a rotated .jsonl.gz joins its type's view."""
    from fixtures import event

    root = tmp_path / "t"
    put(root / "events/hedge_rolls.jsonl", [event("10:00:00", "h1", roll_id="r1")])
    put(root / "events/positions.20261121T000000.jsonl.gz",
        [event("09:00:00", "p0", total_value_usd=1.0)], gz=True)
    put(root / "events/positions.jsonl", [event("10:00:00", "p1", total_value_usd=2.0)])
    with open_tree(root) as tree:
        assert tree.con.execute(
            "SELECT correlation_id, record->>'roll_id' FROM events_hedge_rolls").fetchall() == [
            ("h1", "r1")]
        assert tree.con.execute(
            "SELECT total_value_usd FROM events_positions ORDER BY ts").fetchall() == [
            (1.0,), (2.0,)]
        assert dict(tree.con.execute(
            "SELECT event_type, count(*) FROM events GROUP BY 1").fetchall()) == {
            "hedge_rolls": 1, "positions": 2}


def test_views_read_under_a_small_memory_limit(tmp_path: Path) -> None:
    """Scans ask DuckDB for modest buffers: twenty files read within a 256 MB memory limit."""
    root = tmp_path / "t"
    for n in range(20):
        put(root / f"containers/c_{n}/main.log",
            [log(f"10:00:{s:02d}", "INFO", f"c_{n}", "main", "m") for s in range(3)])
    with open_tree(root) as tree:
        tree.con.execute("SET memory_limit = '256MB'")
        assert _count(tree, "SELECT count(*) FROM logs") == 60
        assert _count(tree, "SELECT sum(records) FROM _health") == 60


def test_a_line_longer_than_the_object_size_still_reads(tmp_path: Path) -> None:
    """A record of 17 MiB (over the reader's 16 MiB object size) is a record, not skipped."""
    root = tmp_path / "t"
    big = log("10:00:00", "INFO", "c", "main", "x" * (17 << 20))
    put(root / "containers/c/main.log", [big, log("10:00:01", "INFO", "c", "main", "m")])
    with open_tree(root) as tree:
        assert _count(tree, "SELECT count(*) FROM logs") == 2
        assert _count(tree, "SELECT max(length(message)) FROM logs") == 17 << 20
        assert tree.skipped.total == 0
