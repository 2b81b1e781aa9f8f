"""Exports a view, event type or named query to CSV or Parquet, atomically, outside the tree."""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from logtool import contract, queries
from logtool.analyze.load import Skipped, Tree
from logtool.analyze.query import execute
from logtool.analyze.tree import find_root
from logtool.errors import BadInputError, NotFoundError

FORMATS = ("csv", "parquet")
PARTITIONS = {"container": "container_id", "date": "date"}
_BATCH_ROWS = 100_000
# Filters: option name → column it applies to.
_FILTER_COLUMNS = {"container": "container_id", "correlation": "correlation_id",
                   "level": "level", "since": "ts", "until": "ts"}


@dataclass
class ExportResult:
    """What was written: rows, the final path, the source, and skipped input lines."""

    rows: int
    path: Path
    table: str
    format: str
    partitioned_by: list[str]
    skipped: Skipped

    def to_json(self) -> dict[str, Any]:
        """{"rows", "path", "table", "format", "partition_by", "skipped"}."""
        return {"rows": self.rows, "path": str(self.path), "table": self.table,
                "format": self.format, "partition_by": self.partitioned_by,
                "skipped": self.skipped.total}


def resolve_table(tree: Tree, table: str) -> tuple[str, list[str]]:
    """(SQL source relation, views it reads) for a view, an event type or a named query."""
    views = set(tree.views())
    if table in views:
        return f'"{table}"', [table]
    if f"events_{table}" in views:
        return f'"events_{table}"', [f"events_{table}"]
    if table in queries.available():
        return f"({queries.load(table)})", tree.line_views()
    choices = [*sorted(v for v in views if not v.startswith("events_")), "<event type>",
               "<named query>"]
    raise BadInputError(f"unknown table {table!r}", hint="Choose one of: " + ", ".join(choices))


def _tree_root(tree: Tree) -> Path:
    root = find_root(tree.path)
    if root is not None:
        return root
    base = tree.path.resolve()
    return base if base.is_dir() else base.parent


def check_out(tree: Tree, out: Path) -> Path:
    """The absolute output path; BadInputError when it lies inside the tree being read."""
    target = Path(out).absolute()
    root = _tree_root(tree)
    real_parent = target.parent.resolve() if target.parent.exists() else target.parent
    for candidate in (target, real_parent / target.name):
        if candidate == root or candidate.is_relative_to(root):
            raise BadInputError(
                f"--out {out} is inside the tree being read ({root})",
                hint="The analyzer never writes inside a tree; choose a path outside it.")
    if not target.parent.is_dir():
        raise BadInputError(f"--out {out}: directory {target.parent} does not exist")
    return target


def export(tree: Tree, table: str, fmt: str, out: Path, *, container: str | None = None,
           correlation: str | None = None, level: str | None = None,
           since: datetime | None = None, until: datetime | None = None,
           partition_by: list[str] | None = None, params: Mapping[str, Any] | None = None,
           overwrite: bool = False, progress: Callable[[int], None] | None = None
           ) -> ExportResult:
    """Write table (filtered) to out as CSV or Parquet; a temp name renamed at the end.

    partition_by (container, date) writes a hive-partitioned dataset directory instead of one
    file. Nothing is left behind when writing fails. progress, when given, is called with the
    number of rows written so far after each batch.
    """
    if fmt not in FORMATS:
        raise BadInputError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    parts = partition_by or []
    for part in parts:
        if part not in PARTITIONS:
            raise BadInputError(f"--partition-by: unknown part {part!r}",
                                hint="Use container, date or container,date.")
    if level is not None and level.upper() not in contract.LEVELS:
        raise BadInputError(f"--level must be one of {', '.join(contract.LEVELS)}")
    source, read_views = resolve_table(tree, table)
    if params and not source.startswith("("):
        raise BadInputError("--param is only for named queries")
    target = check_out(tree, out)
    if target.is_dir() and not parts:
        target = target / f"{table}.{fmt}"
    if target.exists() and not overwrite:
        raise BadInputError(f"--out {target} already exists",
                            hint="Pass --overwrite to replace it.")

    columns, _ = execute(tree, f"SELECT * FROM {source} LIMIT 0", params, where=f"table {table}")
    filters = {"container": container, "correlation": correlation,
               "level": level.upper() if level else None, "since": since, "until": until}
    where, bind = [], dict(params or {})
    for option, value in filters.items():
        if value is None:
            continue
        column = _FILTER_COLUMNS[option]
        if column not in columns:
            raise BadInputError(f"--{option}: table {table!r} has no column {column!r}")
        op = {"since": ">=", "until": "<"}.get(option, "=")
        where.append(f'"{column}" {op} $f_{option}')
        bind[f"f_{option}"] = value
    select = "*"
    if "date" in parts:
        if "ts" not in columns:
            raise BadInputError(f"--partition-by date: table {table!r} has no ts column")
        select = "*, CAST(ts AS DATE) AS date"
    if "container" in parts and "container_id" not in columns:
        raise BadInputError(f"--partition-by container: table {table!r} has no container_id")
    sql = f"SELECT {select} FROM {source} AS t"
    if where:
        sql += " WHERE " + " AND ".join(where)
    try:
        reader = tree.con.sql(sql, params=bind).to_arrow_reader(_BATCH_ROWS)
    except duckdb.Error as exc:
        raise BadInputError(f"table {table}: {str(exc).splitlines()[0]}") from None
    tmp = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        if parts:
            rows = _write_dataset(reader, tmp, fmt, [PARTITIONS[p] for p in parts], progress)
        else:
            rows = _write_file(reader, tmp, fmt, progress)
        if rows == 0:
            raise NotFoundError(f"no rows of {table} matched; nothing written")
        _replace(tmp, target)
    except BaseException:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        raise
    return ExportResult(rows, target, table, fmt, parts, tree.skipped_in(read_views))


def _arrow_safe(batch: Any) -> Any:
    """JSON columns arrive as an Arrow extension type; write them as plain strings."""
    import pyarrow as pa

    arrays, fields = [], []
    for col, fld in zip(batch.columns, batch.schema, strict=True):
        if isinstance(fld.type, pa.ExtensionType):
            col = col.storage
            fld = pa.field(fld.name, col.type)
        arrays.append(col)
        fields.append(fld)
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))


def _write_file(reader: Any, tmp: Path, fmt: str,
                progress: Callable[[int], None] | None) -> int:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    rows = 0
    writer: Any = None
    try:
        for raw in reader:
            batch = _arrow_safe(raw)
            if writer is None:
                writer = (pq.ParquetWriter(str(tmp), batch.schema) if fmt == "parquet"
                          else pacsv.CSVWriter(str(tmp), batch.schema))
            writer.write_batch(batch)
            rows += batch.num_rows
            if progress is not None:
                progress(rows)
        if writer is None:
            schema = _arrow_safe_schema(reader.schema)
            writer = (pq.ParquetWriter(str(tmp), schema) if fmt == "parquet"
                      else pacsv.CSVWriter(str(tmp), schema))
    finally:
        if writer is not None:
            writer.close()
    with tmp.open("rb+") as fh:
        os.fsync(fh.fileno())
    return rows


def _arrow_safe_schema(schema: Any) -> Any:
    import pyarrow as pa

    return pa.schema([
        pa.field(f.name, f.type.storage_type if isinstance(f.type, pa.ExtensionType) else f.type)
        for f in schema
    ])


def _write_dataset(reader: Any, tmp: Path, fmt: str, columns: list[str],
                   progress: Callable[[int], None] | None) -> int:
    import pyarrow as pa
    import pyarrow.dataset as ds

    schema = _arrow_safe_schema(reader.schema)
    counted = {"rows": 0}

    def batches() -> Any:
        for raw in reader:
            batch = _arrow_safe(raw)
            counted["rows"] += batch.num_rows
            if progress is not None:
                progress(counted["rows"])
            yield batch

    ds.write_dataset(
        pa.RecordBatchReader.from_batches(schema, batches()), str(tmp), format=fmt,
        partitioning=ds.partitioning(pa.schema([schema.field(c) for c in columns]),
                                     flavor="hive"),
        existing_data_behavior="error")
    if not tmp.exists():
        tmp.mkdir()
    return counted["rows"]


def _replace(tmp: Path, target: Path) -> None:
    """Move tmp over target; an old directory is moved aside first and removed after."""
    if target.is_dir():
        aside = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
        target.rename(aside)
        tmp.rename(target)
        shutil.rmtree(aside, ignore_errors=True)
    else:
        tmp.replace(target)
