"""Runs named queries (queries/*.sql) and free read-only SQL over an opened tree's views."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import duckdb

from logtool import queries
from logtool.analyze.load import Skipped, Tree
from logtool.errors import BadInputError

# Free SQL may read the views but never run statements that write, attach or reconfigure.
_ALLOWED = {"SELECT", "EXPLAIN"}


@dataclass
class QueryResult:
    """Column names and rows of a query, plus the lines skipped by the views it read."""

    columns: list[str]
    rows: list[tuple[Any, ...]]
    skipped: Skipped

    def records(self) -> list[dict[str, Any]]:
        """Rows as dicts keyed by column name."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def parse_param(text: str) -> tuple[str, Any]:
    """'k=v' → (k, v) with v an int, else a float, else the string; BadInputError if no '='."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key.isidentifier():
        raise BadInputError(f"bad --param {text!r}", hint="Use --param name=value.")
    for cast in (int, float):
        try:
            return key, cast(value)
        except ValueError:
            pass
    return key, value


def execute(tree: Tree, sql: str, params: Mapping[str, Any] | None = None,
            *, where: str = "query") -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run one statement; DuckDB errors become BadInputError carrying DuckDB's message."""
    try:
        cur = tree.con.execute(sql, dict(params) if params else None)
        columns = [d[0] for d in cur.description or []]
        return columns, cur.fetchall()
    except duckdb.Error as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BadInputError(f"{where}: {message}") from None


def run_named(tree: Tree, name: str, params: Mapping[str, Any] | None = None) -> QueryResult:
    """Run queries/<name>.sql with $named parameters."""
    sql = queries.load(name)
    columns, rows = execute(tree, sql, params, where=f"query {name!r}")
    return QueryResult(columns, rows, Skipped())


def named_rows(tree: Tree, name: str, params: Mapping[str, Any] | None = None
               ) -> list[dict[str, Any]]:
    """Rows of a named query as dicts."""
    return run_named(tree, name, params).records()


def check_read_only(tree: Tree, sql: str) -> None:
    """BadInputError unless sql is exactly one SELECT (or EXPLAIN) statement."""
    try:
        statements = tree.con.extract_statements(sql)
    except duckdb.Error as exc:
        raise BadInputError(f"query: {str(exc).strip().splitlines()[0]}") from None
    if len(statements) != 1:
        raise BadInputError(f"query: expected one SQL statement, got {len(statements)}")
    kind = statements[0].type.name
    if kind not in _ALLOWED:
        raise BadInputError(
            f"query: {kind} statements are not allowed",
            hint="Queries are read-only: use SELECT over the views (logs, flows, events, ...).",
        )


def lock_down(tree: Tree) -> None:
    """Stop user SQL from loading extensions or changing settings once the views exist."""
    locked = tree.con.execute("SELECT current_setting('lock_configuration')").fetchone()
    if locked and locked[0]:
        return
    tree.con.execute("SET autoinstall_known_extensions = false")
    tree.con.execute("SET autoload_known_extensions = false")
    tree.con.execute("SET lock_configuration = true")


def run_query(tree: Tree, sql_or_name: str, params: Mapping[str, Any] | None = None
              ) -> QueryResult:
    """A named query when sql_or_name names one, else free read-only SQL over the views.

    Skipped lines are counted over every view, since free SQL may read any of them.
    """
    text = sql_or_name.strip()
    if not text:
        raise BadInputError("query: empty SQL")
    if text in queries.available():
        result = run_named(tree, text, params)
    else:
        if params:
            raise BadInputError(f"--param is only for named queries; {text[:40]!r} is not one",
                                hint=f"Named queries: {', '.join(queries.available())}")
        check_read_only(tree, text)
        lock_down(tree)
        columns, rows = execute(tree, text)
        result = QueryResult(columns, rows, Skipped())
    result.skipped = tree.skipped_in(_views_used(tree, text))
    return result


def _views_used(tree: Tree, sql: str) -> list[str]:
    """The file-reading views a query names (by word match), to count their skipped lines."""
    words = {w.strip('"').lower() for w in _words(sql)}
    used = [v for v in tree.line_views() if v in words]
    if "events" in words:
        used.append("events")
    return used


def _words(sql: str) -> list[str]:
    return re.findall(r'"?[A-Za-z_][A-Za-z0-9_]*"?', sql)


def list_named() -> list[dict[str, str]]:
    """Every named query with its description."""
    return [{"name": k, "description": v} for k, v in queries.available().items()]
