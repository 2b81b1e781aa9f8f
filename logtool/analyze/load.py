"""Opens a log tree as read-only DuckDB views (logs, flows, correlations, metrics, events)."""

from __future__ import annotations

import contextlib
import importlib
import re
import shutil
import tempfile
import weakref
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb
import orjson

from logtool import contract
from logtool.analyze.tree import TreeFile, discover, find_root
from logtool.errors import BadInputError, FormatVersionError

# Kinds that feed each view; master.log joins `logs` only for records not already there.
VIEW_KINDS: dict[str, tuple[str, ...]] = {
    "logs": ("logs", "system", "master"),
    "flows": ("flows",),
    "correlations": ("correlations",),
    "metrics": ("metrics",),
}
# A record without these (or with an unparsable timestamp) is skipped and counted.
REQUIRED: dict[str, tuple[str, ...]] = {
    "logs": ("timestamp", "level", "message"),
    "flows": ("timestamp", "correlation_id", "source", "target"),
    "correlations": ("timestamp", "correlation_id"),
    "metrics": ("timestamp", "record_type", "name"),
    "events": ("timestamp",),
}
# Fields that fall back to what the file's path says when a record lacks them.
_HINTS = {"container_id": "container_hint", "component_name": "component_hint"}
_IDENT_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_TAIL_BYTES = 64 * 1024
# DuckDB's JSON reader allocates read buffers of twice this per open scan; at 64 MiB a scan asked
# for 128 MiB blocks and a tree of many files ran out of memory under a memory limit. 16 MiB
# (DuckDB's default) still reads longer lines (the buffer grows for them).
MAX_OBJECT = 16 * 1024 * 1024
# Each line is read as one JSON value (records=false): an unreadable line (malformed,
# invalid UTF-8) becomes a NULL row, so row numbers stay line numbers; blank lines are no rows.
_LINE_OPTIONS = (
    "format = 'newline_delimited', records = 'false', columns = {raw: 'JSON'}, "
    f"ignore_errors = true, maximum_object_size = {MAX_OBJECT}"
)


def _columns_for(kind: str, event_type: str | None = None) -> dict[str, str]:
    """The contract columns (name → DuckDB type) of a view kind."""
    if kind == "logs":
        return dict(contract.LOG_COLUMNS)
    if kind == "flows":
        return dict(contract.FLOW_COLUMNS)
    if kind == "correlations":
        return dict(contract.CORRELATION_COLUMNS)
    if kind == "metrics":
        return dict(contract.METRIC_COLUMNS)
    if kind == "events":
        own = contract.EVENT_SCHEMAS.get(event_type or "", {})
        return {**contract.EVENT_BASE_COLUMNS, **own}
    raise BadInputError(f"unknown record kind {kind!r}")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _typed(expr: str, duck_type: str) -> str:
    """SQL turning a JSON-extracted string into duck_type without ever failing."""
    if duck_type == "VARCHAR":
        return expr
    return f"try_cast({expr} AS {duck_type})"


def raw_lines_sql(path_expr: str) -> str:
    """SELECT line, raw over one file whose path is the SQL expression path_expr.

    path_expr is never user text: here it is getvariable('lt_files')[n], the paths having
    been bound as a parameter. Line numbers come from a streaming row_number() over the
    order-preserving scan; raw is the line's JSON value, NULL when unreadable.
    """
    return (
        "SELECT row_number() OVER () AS line, raw FROM "
        f"read_json({path_expr}, {_LINE_OPTIONS})"
    )


def _parts(kind: str, event_type: str | None) -> tuple[list[str], list[str], str, str]:
    """(view column SELECTs over `s.j`/`s.obj`, required-field checks on x, paths, ts index)."""
    columns = _columns_for(kind, event_type)
    strings = [c for c, t in columns.items() if t != "JSON"]
    jsons = [c for c, t in columns.items() if t == "JSON"]
    paths = "[" + ", ".join(f"'$.\"{c}\"'" for c in strings) + "]"
    selects = []
    for i, name in enumerate(strings, start=1):
        expr = f"s.j[{i}]"
        if name in _HINTS:
            expr = f"coalesce({expr}, s.{_HINTS[name]})"
        if name == "level":
            expr = f"_lt_level({expr})"
        selects.append(f"{_typed(expr, columns[name])} AS {_quote(name)}")
    for name in jsons:
        selects.append(f"json_extract(s.obj, '$.\"{name}\"') AS {_quote(name)}")
    if kind == "events":
        selects.append("s.container_hint AS container_id")
    ts_index = str(strings.index("timestamp") + 1)
    checks = [f"x[{strings.index(r) + 1}] IS NOT NULL" for r in REQUIRED[kind] if r in strings]
    checks.append(f"_lt_ts(x[{ts_index}]) IS NOT NULL")
    return selects, checks, paths, ts_index


def normalize_sql(kind: str, source: str, event_type: str | None = None) -> str:
    """SELECT of the good records of source as the view's columns (+ ts, file, line, record).

    source is a relation with columns fid, line, raw, file, source_kind, container_hint,
    component_hint and partial (the line is the unfinished tail of a growing file).
    Bad lines are dropped by an UNNEST of an empty list rather than a WHERE: a filter would
    be pushed below the projection and parse every line's JSON once per condition.
    """
    selects, checks, paths, ts_index = _parts(kind, event_type)
    good = " AND ".join(checks)
    return f"""
SELECT {", ".join(selects)},
       _lt_ts(s.j[{ts_index}]) AS ts, s.source_kind AS source_kind, s.file AS file,
       s.line AS line, s.obj::JSON AS record
FROM (
  SELECT o.*, unnest(list_filter(
           [CASE WHEN o.obj IS NOT NULL THEN json_extract_string(o.obj, {paths}) END],
           lambda x: x IS NOT NULL AND {good})) AS j
  FROM (
    SELECT src.*, CASE WHEN NOT src.partial THEN src.raw END AS obj
    FROM {source} AS src
  ) AS o
) AS s"""


def skipped_scan_sql(kind: str, files: list[tuple[int, bool]],
                     event_type: str | None = None, *, multi: bool = False) -> str:
    """SELECT file, count and first line of the bad lines, and rows, of files (fid, partial).

    DuckDB's read_json with the required fields as VARCHAR columns and ignore_errors gives
    an all-NULL row for an unreadable line (malformed, not an object, invalid UTF-8), about
    twice as fast as parsing text lines; the same required-field and timestamp rules as
    normalize_sql decide the rest. Blank lines are not rows, so a line number after a blank
    line is lower by the blank lines before it. Paths come from getvariable('lt_files').
    multi=True reads the files without an unfinished tail in one scan (see _multi_scan_sql).
    """
    required = REQUIRED[kind]
    cols = ", ".join(f"{_quote(r)}: 'VARCHAR'" for r in required)
    good = " AND ".join([*(f"{_quote(r)} IS NOT NULL" for r in required),
                         '_lt_ts("timestamp") IS NOT NULL'])
    branches = []
    whole = [fid for fid, partial in files if not partial] if multi else []
    if whole:
        options = ("format = 'newline_delimited', ignore_errors = true, "
                   f"maximum_object_size = {MAX_OBJECT}, columns = {{{cols}}}")
        branches.append(_multi_scan_sql(whole, options, "*"))
        files = [(fid, partial) for fid, partial in files if partial]
    for fid, partial in files:
        last = "line = max(line) OVER ()" if partial else "false"
        branches.append(f"""
SELECT {fid} AS fid, line, {last} AS partial, * EXCLUDE (line) FROM (
  SELECT row_number() OVER () AS line, * FROM read_json(
    getvariable('lt_files')[{fid + 1}], format = 'newline_delimited', ignore_errors = true,
    maximum_object_size = {MAX_OBJECT}, columns = {{{cols}}}))""")
    del event_type  # one file list per event type is chosen by the caller
    # rows: every line read (blank lines are no rows), what line numbers count up to.
    return f"""
SELECT f.rel AS file, count(*) FILTER (WHERE bad) AS skipped,
       min(b.line) FILTER (WHERE bad) AS first_line, count(*) AS rows
FROM (SELECT *, partial OR NOT coalesce({good}, false) AS bad
      FROM ({" UNION ALL ".join(branches)})) AS b JOIN _files AS f ON f.fid = b.fid
GROUP BY f.rel"""


_MACROS = (
    # Timestamps with Z, an offset or none (seed engine time) all become UTC TIMESTAMP.
    # The contract's ...Z form casts straight to TIMESTAMP; only an explicit offset pays for
    # the (several times slower) TIMESTAMPTZ conversion.
    "CREATE OR REPLACE TEMP MACRO _lt_ts(x) AS CASE "
    "WHEN ends_with(x, 'Z') THEN try_cast(x AS TIMESTAMP) "
    "WHEN x[-6] IN ('+', '-') OR x[-5] IN ('+', '-') OR x[-3] IN ('+', '-') "
    "THEN CAST(try_cast(x AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS TIMESTAMP) "
    "ELSE try_cast(x AS TIMESTAMP) END",
    "CREATE OR REPLACE TEMP MACRO _lt_level(x) AS "
    "CASE upper(x) WHEN 'WARN' THEN 'WARNING' WHEN 'FATAL' THEN 'CRITICAL' ELSE upper(x) END",
)


@dataclass
class FileSkip:
    """Lines skipped in one file: how many, the first one's number, and why."""

    count: int = 0
    first_line: int | None = None
    reasons: set[str] = field(default_factory=set)

    def add(self, count: int, line: int | None, reason: str) -> None:
        """Count more skipped lines, remembering the earliest line number."""
        self.count += count
        if line is not None and (self.first_line is None or line < self.first_line):
            self.first_line = line
        self.reasons.add(reason)


@dataclass
class Skipped:
    """Skipped lines over a tree: the total and per file (relative path)."""

    files: dict[str, FileSkip] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """All skipped lines."""
        return sum(f.count for f in self.files.values())

    def add(self, rel: str, count: int, line: int | None, reason: str) -> None:
        """Count skipped lines of one file."""
        if count:
            self.files.setdefault(rel, FileSkip()).add(count, line, reason)

    def merged(self, other: Skipped) -> Skipped:
        """A new Skipped holding both."""
        out = Skipped()
        for source in (self, other):
            for rel, skip in source.files.items():
                dst = out.files.setdefault(rel, FileSkip())
                dst.count += skip.count
                if skip.first_line is not None and (
                    dst.first_line is None or skip.first_line < dst.first_line
                ):
                    dst.first_line = skip.first_line
                dst.reasons |= skip.reasons
        return out

    def to_json(self) -> dict[str, Any]:
        """{"total": n, "files": {rel: {"count", "first_line", "reasons"}}}."""
        return {
            "total": self.total,
            "files": {
                rel: {"count": s.count, "first_line": s.first_line,
                      "reasons": sorted(s.reasons)}
                for rel, s in sorted(self.files.items())
            },
        }

    def detail(self) -> str:
        """A short ' (file:line, ...)' note for the user."""
        if not self.files:
            return ""
        parts = [
            f"{rel}:{s.first_line}" if s.first_line else rel
            for rel, s in sorted(self.files.items())[:3]
        ]
        more = "" if len(self.files) <= 3 else f", +{len(self.files) - 3} more file(s)"
        return " (first in " + ", ".join(parts) + more + ")"


class Tree:
    """An opened tree: a DuckDB connection with the views, the files, and skipped lines."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path, files: list[TreeFile],
                 tmpdir: Path, pre_skipped: Skipped, event_types: list[str]) -> None:
        self.con = con
        self.path = path
        self.files = files
        self.event_types = event_types
        self._tmpdir = tmpdir
        # An unclosed tree still removes its temporary directory when it is collected.
        self._cleanup = weakref.finalize(self, shutil.rmtree, tmpdir, True)
        self._pre_skipped = pre_skipped
        self._skipped: dict[str, Skipped] = {}
        self.multi = False  # skipped lines counted in one scan per view (see _open)
        # Rows (non-blank lines) per file, filled in as skipped lines are counted.
        self.rows: dict[str, int] = {}

    def line_views(self) -> list[str]:
        """Views that read files directly: logs, flows, correlations, metrics, events_<type>."""
        return [*VIEW_KINDS, *(f"events_{t}" for t in self.event_types)]

    def kinds_of(self, view: str) -> tuple[str, ...]:
        """The file kinds a view reads."""
        if view.startswith("events"):
            return ("events",)
        return VIEW_KINDS[view]

    def skipped_in(self, views: Iterable[str] | None = None) -> Skipped:
        """Skipped lines of the files behind views (default all), counted once per view."""
        names = list(views) if views is not None else self.line_views()
        if "events" in names:
            names = [n for n in names if n != "events"] + [
                f"events_{t}" for t in self.event_types]
        total = Skipped()
        for name in dict.fromkeys(names):
            if name not in self._skipped:
                self._skipped[name] = self._count_skipped(name)
            total = total.merged(self._skipped[name])
        kinds = {k for n in names for k in self.kinds_of(n)}
        event_types = {n.removeprefix("events_") for n in names if n.startswith("events_")}
        return total.merged(self.opening_skipped(tuple(kinds), event_types))

    def opening_skipped(self, kinds: tuple[str, ...],
                        event_types: set[str] | None = None) -> Skipped:
        """Lines found unreadable while opening (truncated gzip) in files of these kinds."""
        out = Skipped()
        by_rel = {f.rel: f for f in self.files}
        for rel, skip in self._pre_skipped.files.items():
            tf = by_rel.get(rel)
            if tf is None or tf.kind not in kinds:
                continue
            if tf.kind == "events" and event_types is not None and (
                    tf.event_type not in event_types):
                continue
            out.files[rel] = skip
        return out

    @property
    def skipped(self) -> Skipped:
        """Skipped lines over every file of the tree."""
        return self.skipped_in()

    def _count_skipped(self, view: str) -> Skipped:
        """Skipped lines of the files behind one view: one typed read_json scan per file."""
        out = Skipped()
        kind = "events" if view.startswith("events_") else view
        event_type = view.removeprefix("events_") if kind == "events" else None
        files = self.con.execute(
            "SELECT fid, partial IS NOT NULL FROM _files WHERE list_contains($kinds, kind) "
            "AND ($etype IS NULL OR event_type = $etype) ORDER BY fid",
            {"kinds": list(self.kinds_of(view)), "etype": event_type},
        ).fetchall()
        if not files:
            return out
        rows = self.con.execute(
            skipped_scan_sql(kind, [(int(f), bool(p)) for f, p in files], event_type,
                             multi=self.multi)
        ).fetchall()
        for rel, count, first, lines in rows:
            self.rows[rel] = int(lines)
            if count:
                out.add(rel, int(count), int(first), "malformed or incomplete record")
        return out

    def has_view(self, name: str) -> bool:
        """Whether a view of that name exists on the connection."""
        return bool(self.con.execute(
            "SELECT count(*) FROM duckdb_views() WHERE view_name = $n AND NOT internal",
            {"n": name},
        ).fetchone()[0])  # type: ignore[index]

    def views(self) -> list[str]:
        """Every user-facing view name."""
        rows = self.con.execute(
            "SELECT view_name FROM duckdb_views() WHERE NOT internal "
            "AND NOT starts_with(view_name, '_') ORDER BY view_name"
        ).fetchall()
        return [r[0] for r in rows]

    def bytes_on_disk(self) -> int:
        """Sum of the sizes of the files read."""
        return sum(f.size for f in self.files)

    def close(self) -> None:
        """Close the connection and remove the temporary directory (outside the tree)."""
        with contextlib.suppress(duckdb.Error):
            self.con.close()
        self._cleanup()

    def __enter__(self) -> Tree:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def check_format_version(path: Path) -> None:
    """FormatVersionError when the tree marker declares a newer format than this reader."""
    root = find_root(path)
    if root is None:
        return
    marker = root / contract.TREE_MARKER
    try:
        data = orjson.loads(marker.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise BadInputError(f"{marker}: unreadable tree marker ({exc})") from None
    version = data.get("format_version") if isinstance(data, dict) else None
    if isinstance(version, int) and version > contract.FORMAT_VERSION:
        raise FormatVersionError(
            f"{marker}: tree format version {version} is newer than the {contract.FORMAT_VERSION}"
            " this logtool reads",
            hint="Upgrade logtool to analyze this tree.",
        )


def _gunzip_chunks(path: Path) -> Iterator[bytes]:
    """Decompressed chunks of a gzip file (members concatenated); raises on a broken stream."""
    decomp = zlib.decompressobj(16 + zlib.MAX_WBITS)
    started = False
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            data = block
            while data:
                started = True
                yield decomp.decompress(data)
                if decomp.eof:
                    data = decomp.unused_data
                    decomp = zlib.decompressobj(16 + zlib.MAX_WBITS)
                    started = False
                else:
                    data = b""
    if started and not decomp.eof:
        raise EOFError("gzip stream ends before the end of its member")


def _gzip_scan_path(tf: TreeFile, tmpdir: Path, skipped: Skipped) -> Path:
    """The path DuckDB should scan for a .gz file: itself when intact, else a salvaged copy.

    A truncated or corrupt stream keeps every complete line that decompresses; the rest
    (the unfinished line and whatever followed) counts as one skipped line.
    """
    try:
        for _ in _gunzip_chunks(tf.path):
            pass
        if tf.size > 0:
            return tf.path
    except (OSError, zlib.error, EOFError):
        pass
    out = tmpdir / f"salvaged_{len(list(tmpdir.iterdir()))}.log"
    lines = 0
    tail = b""
    broken = False
    with out.open("wb") as dst:
        try:
            for chunk in _gunzip_chunks(tf.path):
                data = tail + chunk
                keep, sep, tail = data.rpartition(b"\n")
                if sep:
                    dst.write(keep + sep)
                    lines += keep.count(b"\n") + 1
        except (OSError, zlib.error, EOFError):
            broken = True
    if broken:
        skipped.add(tf.rel, 1, lines + 1, "truncated or corrupt gzip")
    elif tail.strip(_JSON_SPACE):
        skipped.add(tf.rel, 1, lines + 1, "unfinished last line")
    return out


_JSON_SPACE = b" \t\r\n"


def has_content(path: Path, start: int, end: int) -> bool:
    """Whether bytes start..end of path hold anything but JSON whitespace (read in blocks)."""
    with path.open("rb") as fh:
        fh.seek(start)
        left = end - start
        while left > 0:
            block = fh.read(min(left, 1 << 16))
            if not block:
                return False
            if block.strip(_JSON_SPACE):
                return True
            left -= len(block)
    return False


def _partial_tail(tf: TreeFile) -> str | None:
    """The unfinished last line of an uncompressed file (no trailing newline), else None.

    Only the last byte is read unless it is not a newline, so the check stays cheap.
    """
    if tf.compressed or tf.size == 0:
        return None
    with tf.path.open("rb") as fh:
        fh.seek(tf.size - 1)
        if fh.read(1) == b"\n":
            return None
        fh.seek(max(0, tf.size - _TAIL_BYTES))
        block = fh.read(_TAIL_BYTES)
    return block.rpartition(b"\n")[2].decode("utf-8", errors="replace")


def _file_rows(files: list[TreeFile], scan_paths: list[Path], partial: list[str | None]
               ) -> list[tuple[Any, ...]]:
    return [
        (i, tf.rel, str(tf.path), str(scan), tf.kind, tf.event_type, tf.container_hint,
         tf.component_hint, tf.size, tf.mtime, tf.archived, tf.compressed, part)
        for i, (tf, scan, part) in enumerate(zip(files, scan_paths, partial, strict=True))
    ]


def _empty_source() -> str:
    return (
        "(SELECT NULL::BIGINT AS fid, NULL::BIGINT AS line, NULL::JSON AS raw, "
        "NULL::VARCHAR AS file, NULL::VARCHAR AS source_kind, NULL::VARCHAR AS container_hint,"
        " NULL::VARCHAR AS component_hint, false AS partial WHERE false)"
    )


def _multi_scan_sql(fids: list[int], options: str, columns: str) -> str:
    """SELECT fid, line, partial=false, <columns> over the files fids in ONE read_json scan.

    Binding a scan per file costs ~2 ms a file and a statement over a hundred files spends
    more on that than on a few MB of lines. DuckDB reads the listed files in order and
    row_number() OVER () follows that order, so a line's number in its file is its global
    row number minus its file's first. The per-file window keeps every row of the scan in
    memory: meant for the catalog's bounded batches, not for the streaming cold views.
    """
    paths = ", ".join(f"getvariable('lt_files')[{fid + 1}]" for fid in fids)
    fid_list = "[" + ", ".join(str(fid) for fid in fids) + "]"
    return f"""
SELECT fid, g - min(g) OVER (PARTITION BY fid) + 1 AS line, false AS partial,
       * EXCLUDE (fid, g) FROM (
  SELECT {fid_list}[file_index::BIGINT + 1] AS fid, row_number() OVER () AS g, {columns}
  FROM read_json([{paths}], {options}))"""


def _source_sql(fids: list[int], partial_fids: set[int], multi: bool = False) -> str:
    """Raw lines (fid, line, raw, file facts, partial) of the given files, one scan per file.

    Only files with an unfinished tail pay for finding their last line. multi=True reads
    the other files in one scan (_multi_scan_sql).
    """
    if not fids:
        return _empty_source()
    branches = []
    whole = [fid for fid in fids if fid not in partial_fids] if multi else []
    if whole:
        branches.append(
            "SELECT fid, line, raw, partial FROM ("
            + _multi_scan_sql(whole, _LINE_OPTIONS, "raw") + ")")
        fids = [fid for fid in fids if fid in partial_fids]
    for fid in fids:
        scan = raw_lines_sql(f"getvariable('lt_files')[{fid + 1}]")
        if fid in partial_fids:
            # The last line of a file still being written is incomplete: mark it partial.
            branches.append(
                f"SELECT {fid} AS fid, line, raw, line = max(line) OVER () AS partial "
                f"FROM ({scan})"
            )
        else:
            branches.append(f"SELECT {fid} AS fid, line, raw, false AS partial FROM ({scan})")
    union = " UNION ALL ".join(branches)
    return f"""(
  SELECT r.fid, r.line, r.raw, f.rel AS file, f.kind AS source_kind,
         f.container_hint, f.component_hint, r.partial
  FROM ({union}) AS r JOIN _files AS f ON f.fid = r.fid
)"""


def _create_views(con: duckdb.DuckDBPyConnection, files: list[TreeFile],
                  partial_fids: set[int], multi: bool = False,
                  only_present: bool = False) -> list[str]:
    """Create the _src_* (raw lines) and public views; return the event types with a view.

    only_present=True (a catalog append) skips the views no file feeds: binding the
    normalizing SQL of the dozen empty event views cost more than parsing a small append.
    """
    def fids_of(kinds: tuple[str, ...], event_type: str | None = None) -> list[int]:
        return [i for i, f in enumerate(files)
                if f.kind in kinds and (event_type is None or f.event_type == event_type)]

    hidden = "ts, source_kind, file, line, record"
    for view, kinds in VIEW_KINDS.items():
        if only_present and not fids_of(kinds):
            continue
        src = _source_sql(fids_of(kinds), partial_fids, multi)
        con.execute(f"CREATE TEMP VIEW {_quote('_src_' + view)} AS SELECT * FROM {src}")
    log_cols = ", ".join(_quote(c) for c in contract.LOG_COLUMNS)
    # master.log repeats what containers write: its records count only for containers with no
    # files of their own among those read (a per-container rule needs no extra scan).
    if not only_present or fids_of(VIEW_KINDS["logs"]):
        con.execute(f"""CREATE TEMP VIEW logs AS
SELECT {log_cols}, {hidden} FROM ({normalize_sql("logs", "_src_logs")})
WHERE source_kind <> 'master' OR NOT list_contains(getvariable('lt_direct'), container_id)""")
    for view, columns in (("flows", contract.FLOW_COLUMNS),
                          ("correlations", contract.CORRELATION_COLUMNS),
                          ("metrics", contract.METRIC_COLUMNS)):
        if only_present and not fids_of(VIEW_KINDS[view]):
            continue
        cols = ", ".join(_quote(c) for c in columns)
        con.execute(
            f"CREATE TEMP VIEW {view} AS SELECT {cols}, {hidden} "
            f"FROM ({normalize_sql(view, _quote('_src_' + view))})"
        )
    present = sorted({f.event_type for f in files if f.kind == "events" and f.event_type})
    named = {*(() if only_present else contract.EVENT_TYPES),
             *(t for t in present if _IDENT_RE.match(t))}
    event_types = sorted(named)
    base = ", ".join(_quote(c) for c in contract.EVENT_BASE_COLUMNS)
    unions = []
    for etype in event_types:
        src = _source_sql(fids_of(("events",), etype), partial_fids, multi)
        src_view = _quote(f"_src_events_{etype}")
        con.execute(f"CREATE TEMP VIEW {src_view} AS SELECT * FROM {src}")
        own = ", ".join(_quote(c) for c in _columns_for("events", etype))
        con.execute(
            f"CREATE TEMP VIEW {_quote('events_' + etype)} AS SELECT {own}, container_id, "
            f"{hidden} FROM ({normalize_sql('events', src_view, event_type=etype)})"
        )
        unions.append(
            f"SELECT {base}, '{etype}' AS event_type, container_id, {hidden} "
            f"FROM {_quote('events_' + etype)}"
        )
    if unions:
        con.execute("CREATE TEMP VIEW events AS " + " UNION ALL ".join(unions))
    _create_health_source(con, files, _logs_fids(files))
    return event_types


def _logs_fids(files: list[TreeFile]) -> list[int]:
    return [i for i, f in enumerate(files) if f.kind in VIEW_KINDS["logs"]]


def _create_health_source(con: duckdb.DuckDBPyConnection, files: list[TreeFile],
                          fids: list[int]) -> None:
    """_health: the logs files' lines grouped by file, container, component and level.

    One read_json scan over every logs file (master.log included) with only the fields
    container-health needs as explicit VARCHAR columns: about as fast as DuckDB reads JSON,
    and with ignore_errors an unreadable line is an all-NULL row, so the same scan counts
    the skipped lines (`bad`). Grouping on the raw values first keeps the per-row work to
    one timestamp cast; the path hints, the level spelling and the master.log rule are
    applied afterwards to a few hundred groups instead of every line. Good and bad lines
    are groups of their own (`ok` is a key): plain aggregates cost less than filtered ones.
    """
    set_health_files(con, fids)
    if not fids:
        con.execute(
            "CREATE TEMP VIEW _health AS SELECT NULL::VARCHAR AS file, "
            "NULL::VARCHAR AS source_kind, NULL::VARCHAR AS container_id, "
            "NULL::VARCHAR AS component_name, NULL::VARCHAR AS level, 0::BIGINT AS records, "
            "NULL::TIMESTAMP AS first_ts, NULL::TIMESTAMP AS last_ts, 0::BIGINT AS bad "
            "WHERE false")
        return
    whole, tails = con.execute(
        "SELECT len(getvariable('lt_health_paths')), len(getvariable('lt_health_tails'))"
    ).fetchone() or (0, 0)
    con.execute(f"CREATE TEMP VIEW _health AS {health_groups_sql(bool(whole), int(tails))}")


def set_health_files(con: duckdb.DuckDBPyConnection, fids: list[int]) -> None:
    """Variables naming the files health_groups_sql scans and their facts (by scanned path).

    lt_health_tails lists the files whose unfinished last line is a complete JSON value: they
    are read one by one so that line can be found and skipped (the window that finds it
    holds the file's rows). Every other file is in lt_health_paths, read in one streaming
    scan: an unfinished line that is not valid JSON is an unreadable row there anyway.
    Per-file facts are MAP lookups on the grouped rows: a join with _files on the path is
    pushed into the scan as a filename filter and leaves it single-threaded.
    """
    tails = [int(fid) for fid, text in con.execute(
        "SELECT fid, partial FROM _files WHERE list_contains($fids, fid) AND partial IS NOT NULL",
        {"fids": fids}).fetchall() if _tail_may_parse(text)]
    con.execute("SET VARIABLE lt_health_paths = (SELECT coalesce(list(scan_path ORDER BY fid), "
                "[]) FROM _files WHERE list_contains($fids, fid) AND NOT list_contains($t, fid))",
                {"fids": fids, "t": tails})
    con.execute("SET VARIABLE lt_health_tails = (SELECT coalesce(list(scan_path ORDER BY fid), "
                "[]) FROM _files WHERE list_contains($t, fid))", {"t": tails})
    con.execute("""SET VARIABLE lt_health_facts = (
  SELECT map(list(scan_path), list({'rel': rel, 'kind': kind, 'container': container_hint,
                                    'component': component_hint}))
  FROM _files WHERE list_contains($fids, fid))""", {"fids": fids})


def _tail_may_parse(text: str) -> bool:
    """Whether an unfinished last line (as _partial_tail read it) could be a JSON record.

    A tail as long as the block read may have been cut: treat it as one that parses.
    """
    if len(text) >= _TAIL_BYTES - 4:
        return True
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    return True


_HEALTH_SCAN = (
    "format = 'newline_delimited', ignore_errors = true, filename = true, "
    f"maximum_object_size = {MAX_OBJECT}, columns = {{timestamp: 'VARCHAR', level: 'VARCHAR', "
    "container_id: 'VARCHAR', component_name: 'VARCHAR', message: 'VARCHAR'}"
)


def health_groups_sql(whole: bool = True, tails: int = 0) -> str:
    """SELECT of the _health groups of the files in getvariable('lt_health_paths'/'_tails').

    whole: lt_health_paths is not empty; tails: how many files lt_health_tails lists. The
    unfinished last line of a tail file counts as skipped even when it is valid JSON, as in
    every other view and in the catalog (which stores lines only up to the last newline).
    """
    cols = "filename, timestamp, level, container_id, component_name, message"
    branches = []
    if whole:
        branches.append(f"SELECT {cols}, false AS tail FROM read_json("
                        f"getvariable('lt_health_paths'), {_HEALTH_SCAN})")
    for i in range(1, tails + 1):
        branches.append(
            f"SELECT {cols}, row_number() OVER () = count(*) OVER () AS tail FROM read_json("
            f"getvariable('lt_health_tails')[{i}], {_HEALTH_SCAN})")
    if not branches:
        nulls = ", ".join(f"NULL::VARCHAR AS {c}" for c in cols.split(", "))
        branches.append(f"SELECT {nulls}, false AS tail WHERE false")
    return f"""
SELECT f.rel AS file, CASE WHEN f.kind = 'master' THEN 'master' ELSE 'direct' END AS source_kind,
       coalesce(g.container_id, f.container) AS container_id,
       coalesce(g.component_name, f.component) AS component_name,
       _lt_level(g.level) AS level,
       CASE WHEN g.ok THEN g.n ELSE 0 END AS records,
       CASE WHEN g.ok THEN g.first_ts END AS first_ts,
       CASE WHEN g.ok THEN g.last_ts END AS last_ts,
       CASE WHEN g.ok THEN 0 ELSE g.n END AS bad
FROM (SELECT *, getvariable('lt_health_facts')[filename] AS f FROM (
  SELECT filename, container_id, component_name, level, ok,
         count(*) AS n, min(ts) AS first_ts, max(ts) AS last_ts
  FROM (
    SELECT filename, container_id, component_name, level, ts,
           (level IS NOT NULL AND message IS NOT NULL AND ts IS NOT NULL AND NOT tail) AS ok
    FROM (
      SELECT *, _lt_ts("timestamp") AS ts
      FROM ({" UNION ALL ".join(branches)})))
  GROUP BY ALL
)) AS g"""


def open_tree(path: Path, *, archived: bool = False, cache: bool = False,
              progress: Callable[[int, int], None] | None = None, light: bool = False) -> Tree:
    """Open path (a tree root, any directory below it, or one file) as DuckDB views.

    progress, when given, is called as progress(done, total) while files are inspected.
    light=True creates only _files and _health (what container-health reads): binding a
    view per file of the tree costs more than that command's whole query on small trees.
    Nothing is ever written inside the tree: the connection is in-memory and any salvaged
    gzip content goes to a temporary directory elsewhere.
    """
    path = Path(path)
    if not path.exists():
        raise BadInputError(f"no such file or directory: {path}")
    check_format_version(path)
    if cache:
        try:
            cache_mod = importlib.import_module("logtool.analyze.cache")
        except ImportError:
            raise BadInputError("cache not available in this build") from None
        return cache_mod.open_cached(path, archived=archived, progress=progress, light=light)
    files = discover(path, archived=archived)
    tmpdir = Path(tempfile.mkdtemp(prefix="logtool-"))
    try:
        return _open(path, files, tmpdir, progress, light=light)
    except BaseException:
        shutil.rmtree(tmpdir, ignore_errors=True)
        raise


def _open(path: Path, files: list[TreeFile], tmpdir: Path,
          progress: Callable[[int, int], None] | None, *, light: bool = False,
          multi: bool = False, only_present: bool = False) -> Tree:
    """open_tree's work once the files are known; multi=True: one scan per view (catalog).

    only_present=True creates only the views some of the files feed (see _create_views).
    """
    pre = Skipped()
    scan_paths: list[Path] = []
    partial: list[str | None] = []
    for n, tf in enumerate(files):
        scan_paths.append(_gzip_scan_path(tf, tmpdir, pre) if tf.compressed else tf.path)
        partial.append(_partial_tail(tf))
        if progress is not None:
            progress(n + 1, len(files))
    con = duckdb.connect(":memory:", config={"temp_directory": str(tmpdir / "duckdb")})
    con.execute("SET TimeZone = 'UTC'")
    # DuckDB draws its own progress bar on stdout, which carries only data here.
    con.execute("SET enable_progress_bar = false")
    for macro in _MACROS:
        con.execute(macro)
    con.execute(
        "CREATE TEMP TABLE _files (fid BIGINT, rel VARCHAR, path VARCHAR, scan_path VARCHAR, "
        "kind VARCHAR, event_type VARCHAR, container_hint VARCHAR, component_hint VARCHAR, "
        "size BIGINT, mtime DOUBLE, archived BOOLEAN, compressed BOOLEAN, partial VARCHAR)"
    )
    rows = _file_rows(files, scan_paths, partial)
    if rows:
        # One INSERT of zipped lists: executemany runs a statement per file.
        columns = list(zip(*rows, strict=True))
        names = [f"c{i}" for i in range(len(columns))]
        con.execute(
            "INSERT INTO _files SELECT " + ", ".join(f"unnest(${n})" for n in names),
            dict(zip(names, (list(c) for c in columns), strict=True)),
        )
    con.execute("SET VARIABLE lt_files = $p::VARCHAR[]", {"p": [str(p) for p in scan_paths]})
    partial_fids = {i for i, p in enumerate(partial) if p is not None}
    direct = sorted({f.container_hint for f in files if f.kind == "logs" and f.container_hint})
    con.execute("SET VARIABLE lt_direct = $d::VARCHAR[]", {"d": direct})
    if light:
        _create_health_source(con, files, _logs_fids(files))
        return Tree(con, path, files, tmpdir, pre, [])
    event_types = _create_views(con, files, partial_fids, multi, only_present)
    tree = Tree(con, path, files, tmpdir, pre, event_types)
    tree.multi = multi
    return tree
