"""Tests for logtool.analyze.query: named queries, parameters, read-only free SQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtures import snapshot

from logtool.analyze.load import open_tree
from logtool.analyze.query import list_named, parse_param, run_query
from logtool.errors import BadInputError

REQUIRED = {"failed_operations", "operation_trail", "position_history",
            "reconciliation_failures", "slow_operations"}


def test_required_named_queries_exist() -> None:
    """The seed's jq workflows are all named queries with a description."""
    named = {q["name"]: q["description"] for q in list_named()}
    assert set(named) >= REQUIRED
    assert all(named[n] for n in REQUIRED)


def test_named_queries_answer_by_hand(ctree: Path) -> None:
    """Each seed workflow returns the fixture rows it should."""
    with open_tree(ctree) as tree:
        failed = run_query(tree, "failed_operations").records()
        assert [(r["operation_id"], r["line"]) for r in failed] == [("op_2", 2), ("op_2", 3)]
        trail = run_query(tree, "operation_trail", {"operation_id": "op_2"}).records()
        assert [(r["event_type"], r["line"]) for r in trail] == [
            ("operation_executions", 2), ("tight_loop", 2), ("operation_executions", 3)]
        history = run_query(tree, "position_history",
                            {"position_key": "aave:aToken:aUSDT"}).records()
        assert [r["value"] for r in history] == [100.0, 90.0]
        recon = run_query(tree, "reconciliation_failures").records()
        assert [(r["event_type"], r["operation_id"]) for r in recon] == [
            ("tight_loop", "op_2"), ("reconciliation", None)]
        slow = run_query(tree, "slow_operations", {"threshold_ms": 800}).records()
        assert [r["execution_duration_ms"] for r in slow] == [1500.0, 900.0]


def test_named_query_over_absent_event_type_is_empty(rtree: Path) -> None:
    """A tree without positions gives an empty position_history, not an error."""
    with open_tree(rtree) as tree:
        assert run_query(tree, "position_history", {"position_key": "x"}).rows == []
        assert run_query(tree, "failed_operations").records()[0]["operation_id"] == "op_9"


def test_free_sql_and_errors(ctree: Path) -> None:
    """SELECT works; bad SQL, writes, several statements and missing params are BadInputError."""
    before = snapshot(ctree)
    with open_tree(ctree) as tree:
        result = run_query(tree, "SELECT count(*) AS n FROM logs WHERE level = 'ERROR'")
        assert (result.columns, result.rows) == (["n"], [(2,)])
        with pytest.raises(BadInputError, match="Binder Error"):
            run_query(tree, "SELECT nope FROM logs")
        with pytest.raises(BadInputError, match="COPY"):
            run_query(tree, f"COPY logs TO '{ctree}/stolen.csv'")
        with pytest.raises(BadInputError, match="ATTACH"):
            run_query(tree, f"ATTACH '{ctree}/x.db' AS x")
        with pytest.raises(BadInputError, match="one SQL statement"):
            run_query(tree, "SELECT 1; SELECT 2")
        with pytest.raises(BadInputError, match="slow_operations"):
            run_query(tree, "slow_operations")  # $threshold_ms not given
    assert snapshot(ctree) == before


def test_skipped_lines_of_the_views_read(btree: Path) -> None:
    """A query over logs reports the bad tree's 8 skipped lines."""
    with open_tree(btree) as tree:
        assert run_query(tree, "SELECT count(*) FROM logs").skipped.total == 8
        assert run_query(tree, "SELECT count(*) FROM flows").skipped.total == 0


def test_parse_param_types() -> None:
    """Ints, then floats, else strings; a missing '=' is bad input."""
    assert parse_param("a=3") == ("a", 3)
    assert parse_param("a=2.5") == ("a", 2.5)
    assert parse_param("a=op_1") == ("a", "op_1")
    assert parse_param("key=a=b") == ("key", "a=b")
    with pytest.raises(BadInputError, match="--param"):
        parse_param("novalue")
