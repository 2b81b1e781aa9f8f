"""The persistent DuckDB catalog: parsed view tables kept outside the tree, reused when unchanged.

`catalog.duckdb` (in the tree's cache directory, see cache.cache_dir) holds, per file of the
tree, the rows load.py's views produce: logs (before the master.log rule, which depends on the
whole file set and is applied when the catalog is opened), flows, correlations, metrics,
events_<type>, the grouped _health rows, and the skipped-line counts. Files are checked like the
trace index does (size, mtime_ns, inode, device, fingerprints): unchanged files cost nothing,
files that only grew are parsed from the stored offset (their complete new lines, copied to a
temporary file outside the tree), anything else is parsed again. After the refresh the
catalog is attached read-only to an in-memory connection whose temp views carry the same
names and columns as load.open_tree's, so every command and query works on either.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import duckdb

from logtool import contract
from logtool.analyze import load
from logtool.analyze.cache import _fingerprints, _stat, cache_dir
from logtool.analyze.tree import TreeFile, discover
from logtool.errors import LogtoolError

CATALOG_VERSION = "2"
_BRIEF = "_health"
BATCH_BYTES = 128 * 1024 * 1024
LOCK_WAIT_SECONDS = 120.0
_HIDDEN = "ts, source_kind, file, line, record"
# The file kinds feeding each catalog table (t_events_<type> is fed by its own type).
_LOGS_KINDS = set(load.VIEW_KINDS["logs"])
_BASE_TABLES = {"t_logs", "t_health", "t_flows", "t_correlations", "t_metrics"}
_TABLE_KINDS: dict[str, set[str]] = {
    "t_logs": _LOGS_KINDS, "t_health": _LOGS_KINDS, "t_flows": {"flows"},
    "t_correlations": {"correlations"}, "t_metrics": {"metrics"},
}


def _sql_fingerprint() -> str:
    """A hash of the SQL that turns lines into rows: a catalog made by other SQL is rebuilt."""
    parts = [load.normalize_sql(k, "src") for k in ("logs", "flows", "correlations", "metrics")]
    parts += [load.normalize_sql("events", "src", t) for t in contract.EVENT_TYPES]
    parts.append(load.health_groups_sql())
    parts.append(CATALOG_VERSION)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _table_sources(tree: load.Tree) -> dict[str, str]:
    """Catalog table name -> SELECT over a freshly opened (partial) tree producing its rows."""
    log_cols = ", ".join(_q(c) for c in contract.LOG_COLUMNS)
    sources = {
        "t_logs": f"SELECT {log_cols}, {_HIDDEN} FROM ({load.normalize_sql('logs', '_src_logs')})",
        "t_flows": "SELECT * FROM flows",
        "t_correlations": "SELECT * FROM correlations",
        "t_metrics": "SELECT * FROM metrics",
        "t_health": f"SELECT * FROM {_BRIEF}",
    }
    for etype in tree.event_types:
        sources[f"t_events_{etype}"] = f"SELECT * FROM {_q('events_' + etype)}"
    return sources


Work = tuple[TreeFile, TreeFile, int, int, int, Any]  # file, source, start, end, base, stat


class Catalog:
    """One tree's catalog file: refresh it against the files, then open it as views."""

    def __init__(self, tree_path: Path, *, archived: bool = False) -> None:
        self.tree_path = Path(tree_path)
        self.dir = cache_dir(tree_path)
        # Trees read with and without archived/ are different file sets: one catalog each.
        self.path = self.dir / ("catalog-archived.duckdb" if archived else "catalog.duckdb")

    def attach(self, con: duckdb.DuckDBPyConnection, *, read_only: bool = False) -> None:
        """Attach the catalog to con as `cat` (creating or, if corrupt or stale, rebuilding it)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        fingerprint = _sql_fingerprint()
        mode = " (READ_ONLY)" if read_only else ""
        for attempt in range(2):
            try:
                _attach_waiting(con, f"ATTACH {_sql_str(str(self.path))} AS cat{mode}")
                if read_only:
                    return
                con.execute("CREATE TABLE IF NOT EXISTS cat.meta (key VARCHAR, value VARCHAR)")
                row = con.execute("SELECT value FROM cat.meta WHERE key = 'sql'").fetchone()
                if row is not None and row[0] != fingerprint:
                    raise duckdb.Error("catalog made by different SQL")
                if row is None:
                    con.execute("INSERT INTO cat.meta VALUES ('sql', $v)", {"v": fingerprint})
                con.execute(
                    "CREATE TABLE IF NOT EXISTS cat.files (rel VARCHAR, size BIGINT, "
                    "mtime_ns BIGINT, inode BIGINT, dev BIGINT, ingested BIGINT, lines BIGINT, "
                    "head BLOB, tailsig BLOB, compressed BOOLEAN)")
                con.execute(
                    "CREATE TABLE IF NOT EXISTS cat.skips (rel VARCHAR, view VARCHAR, "
                    "count BIGINT, first_line BIGINT, reasons VARCHAR[])")
                return
            except CatalogBusyError:
                raise
            except duckdb.Error:
                with contextlib.suppress(duckdb.Error):
                    con.execute("DETACH cat")
                if attempt or read_only:
                    raise
                for suffix in ("", ".wal"):
                    Path(str(self.path) + suffix).unlink(missing_ok=True)

    def unchanged(self, con: duckdb.DuckDBPyConnection, files: Sequence[TreeFile]) -> bool:
        """Attach the catalog read-only to con; True when it is current for files.

        The common repeated run needs no write lock and no second connection: when every
        file's size, mtime, inode and device match and no file was added or removed, the
        catalog stays attached and refresh() is skipped. Anything else detaches it.
        """
        if not self.path.exists():
            return False
        try:
            _attach_waiting(con, f"ATTACH {_sql_str(str(self.path))} AS cat (READ_ONLY)")
        except CatalogBusyError:
            raise
        except duckdb.Error:
            return False
        try:
            meta = con.execute("SELECT value FROM cat.meta WHERE key = 'sql'").fetchone()
            # Tables are written with their files' records: when every file has one, they
            # exist (an empty tree has none to vouch for them, so look).
            current = meta is not None and meta[0] == _sql_fingerprint() and (
                bool(files) or "t_logs" in _tables(con))
            if current:
                stored = {r[0]: r[1:] for r in con.execute(
                    "SELECT rel, size, mtime_ns, inode, dev FROM cat.files").fetchall()}
                current = len(stored) == len(files)
                for tf in files if current else ():
                    st = _stat(tf)
                    if st is None or stored.get(tf.rel) != (
                            st.size, st.mtime_ns, st.inode, st.dev):
                        current = False
                        break
        except duckdb.Error:
            current = False
        if not current:
            con.execute("DETACH cat")
        return current

    def refresh(self, files: Sequence[TreeFile], tmpdir: Path) -> dict[str, Any]:
        """Parse what changed since the last run; returns what was done."""
        con = duckdb.connect(":memory:")
        try:
            con.execute("SET enable_progress_bar = false")
            self.attach(con)
            stored = {r[0]: r for r in con.execute(
                "SELECT rel, size, mtime_ns, inode, dev, ingested, lines, head, tailsig "
                "FROM cat.files").fetchall()}
            stats, work = self._plan(files, stored, tmpdir)
            complete = set(_tables(con)) >= _BASE_TABLES
            wanted = {tf.rel for tf in files}
            gone = [rel for rel in stored if rel not in wanted]
            stats["dropped"] = len(gone)
            if not work and not gone and "t_logs" in _tables(con):
                return stats
            if not work and "t_logs" in _tables(con):
                con.execute("BEGIN TRANSACTION")
                for rel in gone:
                    _forget(con, rel)
                con.execute("COMMIT")
                return stats
        finally:
            con.close()
        # One transaction per batch of files: memory stays bounded, and a batch's rows, file
        # records and skip counts land together (an interrupted build loses only that batch).
        for n, batch in enumerate(_batches(work) or [[]]):
            # Once the tables exist (after a first batch), a batch binds only its own views.
            sub = load._open(self.tree_path, [w[1] for w in batch],
                             Path(tempfile.mkdtemp(prefix="sub-", dir=tmpdir)), None,
                             multi=True, only_present=complete or n > 0)
            try:
                sub.con.execute("SET enable_progress_bar = false")
                self.attach(sub.con)
                sub.con.execute("BEGIN TRANSACTION")
                for rel in gone if n == 0 else []:
                    _forget(sub.con, rel)
                _write_rows(sub, batch, set(stored))
                sub.con.execute("COMMIT")
                sub.con.execute("DETACH cat")
            finally:
                sub.close()
        stats["bytes_parsed"] = sum(max(0, w[3] - w[2]) for w in work)
        return stats

    @staticmethod
    def _plan(files: Sequence[TreeFile], stored: dict[str, Any], tmpdir: Path
              ) -> tuple[dict[str, Any], list[Work]]:
        stats: dict[str, Any] = {"reused": 0, "appended": 0, "reparsed": 0, "new": 0,
                                 "dropped": 0, "bytes_parsed": 0}
        work: list[Work] = []
        for tf in files:
            st = _stat(tf)
            if st is None:
                continue
            row = stored.get(tf.rel)
            start, base = 0, 0
            if row is not None:
                _, size, mtime_ns, inode, dev, ingested, lines, head, tailsig = row
                same = (inode, dev) == (st.inode, st.dev)
                if same and (size, mtime_ns) == (st.size, st.mtime_ns):
                    stats["reused"] += 1
                    continue
                if (not tf.compressed and same and st.size >= ingested
                        and _fingerprints(tf.path, ingested) == (bytes(head), bytes(tailsig))):
                    stats["appended"] += 1
                    start, base = ingested, lines
                else:
                    stats["reparsed"] += 1
            else:
                stats["new"] += 1
            source, end = _slice(tf, start, st.size, tmpdir, len(work))
            work.append((tf, source, start, end, base, st))
        return stats, work


class CatalogBusyError(LogtoolError):
    """Another logtool process kept the catalog locked for too long."""


def _attach_waiting(con: duckdb.DuckDBPyConnection, statement: str) -> None:
    """Run an ATTACH, waiting while another process holds the catalog's file lock.

    A lock conflict is not corruption: the catalog must not be deleted under its writer.
    """
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            con.execute(statement)
            return
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            if time.monotonic() > deadline:
                raise CatalogBusyError(
                    "the --cache catalog is locked by another logtool process",
                    hint="Try again when it finishes, or run without --cache.",
                ) from None
            time.sleep(0.2)


def _batches(work: list[Work]) -> list[list[Work]]:
    """Work split into runs of about BATCH_BYTES of source (a larger file goes alone)."""
    out: list[list[Work]] = []
    size = 0
    for item in work:
        cost = item[1].size
        if not out or size + cost > BATCH_BYTES:
            out.append([])
            size = 0
        out[-1].append(item)
        size += cost
    return out


def _slice(tf: TreeFile, start: int, size: int, tmpdir: Path, n: int) -> tuple[TreeFile, int]:
    """The file to parse for tf (itself, or its complete lines from start copied out)."""
    if tf.compressed:
        return tf, size
    with tf.path.open("rb") as fh:
        fh.seek(max(0, size - 1))
        ends_clean = size == 0 or fh.read(1) == b"\n"
        if start == 0 and ends_clean:
            return tf, size
        fh.seek(start)
        data = fh.read(max(0, size - start))
    end = start + data.rfind(b"\n") + 1
    part = tmpdir / f"slice_{n}.log"
    part.write_bytes(data[: end - start])
    return dataclasses.replace(tf, path=part, size=end - start), end


def _tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = 'cat' "
        "AND starts_with(table_name, 't_')").fetchall()]


def _forget(con: duckdb.DuckDBPyConnection, rel: str) -> None:
    """Remove every row of one file from the catalog."""
    for table in _tables(con):
        con.execute(f"DELETE FROM cat.{_q(table)} WHERE file = $rel", {"rel": rel})
    con.execute("DELETE FROM cat.skips WHERE rel = $rel", {"rel": rel})
    con.execute("DELETE FROM cat.files WHERE rel = $rel", {"rel": rel})


def _write_rows(sub: load.Tree, work: list[Work], known: set[str]) -> None:
    """Append the rows of the parsed sources (line numbers shifted past what was stored)."""
    for tf, _source, start, _end, _base, _st in work:
        if start == 0 and tf.rel in known:
            _forget(sub.con, tf.rel)
    bases = {tf.rel: base for tf, _s, _a, _e, base, _st in work}
    sub.con.execute("CREATE TEMP TABLE _bases (rel VARCHAR, base BIGINT)")
    _insert_columns(sub.con, "_bases", list(bases.items()), 2)
    existing = set(_tables(sub.con))
    present = {f"t_events_{tf.event_type}" if tf.kind == "events" else tf.kind
               for tf, *_rest in work}
    for table, select in _table_sources(sub).items():
        if table not in existing:
            sub.con.execute(f"CREATE TABLE cat.{_q(table)} AS SELECT * FROM ({select}) LIMIT 0")
        elif not present & _TABLE_KINDS.get(table, {table}):
            continue  # no file of this batch feeds it: skip binding an empty insert
        cols = [r[0] for r in sub.con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = 'cat' "
            "AND table_name = $t ORDER BY column_index", {"t": table}).fetchall()]
        shifted = ", ".join(
            "v.line + coalesce(b.base, 0)" if c == "line" and table != "t_health" else f"v.{_q(c)}"
            for c in cols)
        sub.con.execute(
            f"INSERT INTO cat.{_q(table)} SELECT {shifted} FROM ({select}) AS v "
            "LEFT JOIN _bases AS b ON b.rel = v.file")
    # Skipped lines per view (None: found while opening, e.g. a truncated gzip).
    per_view: list[tuple[str | None, load.Skipped]] = [(None, sub._pre_skipped)]
    per_view += [(view, sub._count_skipped(view)) for view in sub.line_views()]
    skip_rows = [
        (rel, view, skip.count,
         None if skip.first_line is None else skip.first_line + bases.get(rel, 0),
         sorted(skip.reasons))
        for view, skipped in per_view for rel, skip in skipped.files.items()
    ]
    _insert_columns(sub.con, "cat.skips", skip_rows, 5)
    file_rows = []
    for tf, _source, _start, end, base, st in work:
        # Line numbers count rows (blank lines are none), so the next append continues
        # from the rows read, not from the newlines.
        lines = base + sub.rows.get(tf.rel, 0) if not tf.compressed else 0
        head, tailsig = (b"", b"") if tf.compressed else _fingerprints(tf.path, end)
        file_rows.append((tf.rel, st.size, st.mtime_ns, st.inode, st.dev, end, lines, head,
                          tailsig, tf.compressed))
    sub.con.execute("DELETE FROM cat.files WHERE list_contains($rels, rel)",
                    {"rels": [r[0] for r in file_rows]})
    _insert_columns(sub.con, "cat.files", file_rows, 10)


def _insert_columns(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple[Any, ...]],
                    width: int) -> None:
    """Insert rows in one statement (one list parameter a column; executemany is slow)."""
    if not rows:
        return
    columns = {f"c{i}": [row[i] for row in rows] for i in range(width)}
    select = ", ".join(f"unnest(${name})" for name in columns)
    con.execute(f"INSERT INTO {table} SELECT {select}", columns)


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class CachedTree(load.Tree):
    """A Tree over the catalog: skipped lines come from the catalog, not from a re-scan."""

    cache_stats: dict[str, Any]
    _view_skips: dict[str, load.Skipped]

    def _count_skipped(self, view: str) -> load.Skipped:
        return self._view_skips.get(view, load.Skipped())


def open_cached(path: Path, *, archived: bool = False,
                progress: Callable[[int, int], None] | None = None,
                light: bool = False) -> load.Tree:
    """Refresh the tree's catalog and open it as load.open_tree's views (same names, columns).

    light=True (container-health) creates only _files and _health, as load.open_tree does.
    """
    path = Path(path)
    files = discover(path, archived=archived)
    tmpdir = Path(tempfile.mkdtemp(prefix="logtool-"))
    con: duckdb.DuckDBPyConnection | None = None
    try:
        catalog = Catalog(path, archived=archived)
        con = duckdb.connect(":memory:", config={"temp_directory": str(tmpdir / "duckdb")})
        con.execute("SET enable_progress_bar = false")
        if catalog.unchanged(con, files):
            stats: dict[str, Any] = {"reused": len(files), "appended": 0, "reparsed": 0,
                                     "new": 0, "dropped": 0, "bytes_parsed": 0}
        else:
            stats = catalog.refresh(files, tmpdir)
            catalog.attach(con, read_only=True)
        stats["dir"] = str(catalog.dir)
        if progress is not None:
            progress(len(files), len(files))
        con.execute("SET TimeZone = 'UTC'")
        for macro in load._MACROS:
            con.execute(macro)
        event_types = _create_views(con, files, light=light)
        pre, view_skips = _skips(con, files)
        tree = CachedTree(con, path, files, tmpdir, pre, event_types)
        tree._view_skips = view_skips
        tree.cache_stats = stats
        return tree
    except BaseException:
        if con is not None:
            con.close()
        shutil.rmtree(tmpdir, ignore_errors=True)
        raise


def _create_views(con: duckdb.DuckDBPyConnection, files: list[TreeFile], *,
                  light: bool = False) -> list[str]:
    """Temp views over the catalog's tables with load.open_tree's names and columns."""
    con.execute(
        "CREATE TEMP TABLE _files (fid BIGINT, rel VARCHAR, path VARCHAR, scan_path VARCHAR, "
        "kind VARCHAR, event_type VARCHAR, container_hint VARCHAR, component_hint VARCHAR, "
        "size BIGINT, mtime DOUBLE, archived BOOLEAN, compressed BOOLEAN, partial VARCHAR)")
    rows = load._file_rows(files, [f.path for f in files], [None] * len(files))
    _insert_columns(con, "_files", rows, 13)
    direct = sorted({f.container_hint for f in files if f.kind == "logs" and f.container_hint})
    con.execute("SET VARIABLE lt_direct = $d::VARCHAR[]", {"d": direct})
    con.execute(f"CREATE TEMP VIEW {_BRIEF} AS SELECT * FROM cat.t_health")
    if light:
        return []
    statements = [
        "CREATE TEMP VIEW logs AS SELECT * FROM cat.t_logs WHERE source_kind <> 'master' "
        "OR NOT list_contains(getvariable('lt_direct'), container_id)"]
    for view in ("flows", "correlations", "metrics"):
        statements.append(f"CREATE TEMP VIEW {view} AS SELECT * FROM cat.{_q('t_' + view)}")
    event_types = sorted(
        r[0].removeprefix("t_events_") for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'cat' "
            "AND starts_with(table_name, 't_events_')").fetchall())
    base = ", ".join(_q(c) for c in contract.EVENT_BASE_COLUMNS)
    unions = []
    for etype in event_types:
        view = _q("events_" + etype)
        statements.append(
            f"CREATE TEMP VIEW {view} AS SELECT * FROM cat.{_q('t_events_' + etype)}")
        unions.append(
            f"SELECT {base}, '{etype}' AS event_type, container_id, {_HIDDEN} FROM {view}")
    statements.append("CREATE TEMP VIEW events AS " + " UNION ALL ".join(unions))
    # One call for every view: each execute() is a round trip through the Python client.
    con.execute(";\n".join(statements))
    return event_types


def _skips(con: duckdb.DuckDBPyConnection, files: list[TreeFile]
           ) -> tuple[load.Skipped, dict[str, load.Skipped]]:
    """Stored skipped lines (opening, per view), plus unfinished last lines found now."""
    pre = load.Skipped()
    per_view: dict[str, load.Skipped] = {}
    for rel, view, count, first, reasons in con.execute(
            "SELECT rel, view, count, first_line, reasons FROM cat.skips").fetchall():
        target = pre if view is None else per_view.setdefault(view, load.Skipped())
        skip = target.files.setdefault(rel, load.FileSkip())
        skip.add(int(count), None if first is None else int(first), "")
        skip.reasons.discard("")
        skip.reasons.update(reasons or [])
    ingested = dict(con.execute("SELECT rel, lines FROM cat.files").fetchall())
    ends = dict(con.execute("SELECT rel, ingested FROM cat.files").fetchall())
    for tf in files:
        end = ends.get(tf.rel)
        if (not tf.compressed and end is not None and tf.size > end
                and load.has_content(tf.path, end, tf.size)):
            # Bytes after the last newline: a line still being written, not parsed yet
            # (whitespace alone is no line, as a cold read_json sees it).
            pre.add(tf.rel, 1, int(ingested[tf.rel]) + 1, "unfinished last line")
    return pre, per_view
