"""Tests for logtool.analyze.export: round trips through pyarrow, filters, partitions, refusals."""

from __future__ import annotations

from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from fixtures import snapshot

from logtool.analyze.export import export
from logtool.analyze.load import open_tree
from logtool.errors import BadInputError, NotFoundError


def test_parquet_round_trip_has_the_same_rows(ctree: Path, tmp_path: Path) -> None:
    """All 14 log records come back from the Parquet file with their values."""
    out = tmp_path / "out" / "logs.parquet"
    out.parent.mkdir()
    seen: list[int] = []
    with open_tree(ctree) as tree:
        result = export(tree, "logs", "parquet", out, progress=seen.append)
        expected = sorted(tree.con.execute("SELECT file, line, message FROM logs").fetchall())
    table = pq.read_table(out)
    assert result.rows == table.num_rows == 14
    assert seen and seen[-1] == 14
    got = sorted(zip(table["file"].to_pylist(), table["line"].to_pylist(),
                     table["message"].to_pylist(), strict=True))
    assert got == expected
    assert sorted(p.name for p in out.parent.iterdir()) == ["logs.parquet"]  # no temp left


def test_csv_with_filters(ctree: Path, tmp_path: Path) -> None:
    """--level error (case-insensitive) --container exec_1 → exactly the retry failed record."""
    out = tmp_path / "errors.csv"
    with open_tree(ctree) as tree:
        result = export(tree, "logs", "csv", out, level="error", container="exec_1")
    table = pacsv.read_csv(out)
    assert result.rows == table.num_rows == 1
    assert table["message"].to_pylist() == ["retry failed"]


def test_event_type_and_named_query(ctree: Path, tmp_path: Path) -> None:
    """An event type name and a named query are tables too; a directory --out gets <table>.ext."""
    with open_tree(ctree) as tree:
        pos = export(tree, "positions", "parquet", tmp_path / "p.parquet", correlation="t1")
        failed = export(tree, "failed_operations", "csv", tmp_path)
    assert pq.read_table(tmp_path / "p.parquet").num_rows == pos.rows == 3
    assert failed.path == tmp_path / "failed_operations.csv"
    assert pacsv.read_csv(failed.path)["operation_id"].to_pylist() == ["op_2", "op_2"]


def test_partitioned_dataset(ctree: Path, tmp_path: Path) -> None:
    """--partition-by container,date writes hive directories that read back with every row."""
    out = tmp_path / "dataset"
    with open_tree(ctree) as tree:
        result = export(tree, "logs", "parquet", out, partition_by=["container", "date"])
    assert sorted(p.name for p in out.iterdir()) == [
        "container_id=exec_1", "container_id=gone_1", "container_id=log_manager",
        "container_id=quiet_1", "container_id=risk_1", "container_id=strat_1"]
    assert (out / "container_id=strat_1" / "date=2026-11-21").is_dir()
    table = ds.dataset(out, partitioning="hive").to_table()
    assert table.num_rows == result.rows == 14
    assert sorted(set(table["container_id"].to_pylist())) == [
        "exec_1", "gone_1", "log_manager", "quiet_1", "risk_1", "strat_1"]


def test_refusals_leave_nothing(ctree: Path, tmp_path: Path) -> None:
    """Out inside the tree, unknown table, missing filter column, existing out: exit-2 errors."""
    before = snapshot(ctree)
    with open_tree(ctree / "containers") as tree:
        with pytest.raises(BadInputError, match="inside the tree"):
            export(tree, "logs", "csv", ctree / "flows" / "x.csv")
        with pytest.raises(BadInputError, match="unknown table"):
            export(tree, "nope", "csv", tmp_path / "x.csv")
        with pytest.raises(BadInputError, match="no column 'level'"):
            export(tree, "flows", "csv", tmp_path / "x.csv", level="INFO")
        (tmp_path / "exists.csv").write_text("keep")
        with pytest.raises(BadInputError, match="already exists"):
            export(tree, "logs", "csv", tmp_path / "exists.csv")
        with pytest.raises(NotFoundError):
            export(tree, "logs", "csv", tmp_path / "none.csv", container="nobody")
    assert snapshot(ctree) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "logs") == ["exists.csv"]
    assert (tmp_path / "exists.csv").read_text() == "keep"


def test_overwrite_replaces(ctree: Path, tmp_path: Path) -> None:
    """--overwrite replaces an existing file atomically."""
    out = tmp_path / "x.parquet"
    out.write_text("old")
    with open_tree(ctree) as tree:
        export(tree, "flows", "parquet", out, overwrite=True)
    assert pq.read_table(out).num_rows == 8
