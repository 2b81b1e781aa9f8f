"""The persistent catalog kept outside the tree: a correlation-id block index for trace.

Layout: `$LOGTOOL_CACHE_DIR/<key>/` or `~/.cache/logtool/<key>/`, key = a hash of the real
path of the opened directory. `trace.sqlite` maps each correlation id to the blocks of
lines (~256 KiB, cut at line ends) that hold it: (file, offset, length). A lookup reads only
those blocks and the not-yet-indexed tails of files, then trace verifies every line by
parsing it, so the index can only make a search narrower, never give a wrong record.

Freshness per file, by (size, mtime_ns, inode, device) and fingerprints of its first bytes
and of the bytes just before the indexed end: unchanged files are reused; files that only
grew are indexed from the stored offset; rotated, replaced or truncated files are re-indexed;
vanished files are dropped. A corrupt or foreign database is deleted and rebuilt.
"""

from __future__ import annotations

import functools
import hashlib
import mmap
import os
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from logtool.analyze import answers, scan
from logtool.analyze.tree import TreeFile
from logtool.errors import BadInputError, LogtoolError

CACHE_ENV = answers.CACHE_ENV
SCHEMA_VERSION = "1"
BLOCK_BYTES = 256 * 1024
_FINGERPRINT_BYTES = 4096
_ID_RE = scan.ID_FIELD_RE
# Indexing more than this many bytes is split across forked workers.
PARALLEL_MIN_BYTES = 32 * 1024 * 1024

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS files (id INTEGER PRIMARY KEY, rel TEXT UNIQUE NOT NULL, "
    "size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, inode INTEGER NOT NULL, "
    "dev INTEGER NOT NULL, indexed_bytes INTEGER NOT NULL, head BLOB NOT NULL, "
    "tailsig BLOB NOT NULL, compressed INTEGER NOT NULL, problem TEXT)",
    "CREATE TABLE IF NOT EXISTS blocks (cid TEXT NOT NULL, file_id INTEGER NOT NULL, "
    "offset INTEGER NOT NULL, length INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS blocks_cid ON blocks (cid)",
)
_CID_INDEX = _SCHEMA[-1]
# Above this many new rows, dropping the id index and building it again is faster.
_BULK_ROWS = 200_000


def cache_root() -> Path:
    """Where catalogs live: $LOGTOOL_CACHE_DIR, else $XDG_CACHE_HOME/logtool or ~/.cache/logtool."""
    return Path(answers.cache_home())


def cache_dir(tree_path: Path) -> Path:
    """The catalog directory of a tree; BadInputError if it would lie inside the tree."""
    real = Path(tree_path).resolve()
    base = cache_root().resolve()
    key = hashlib.sha256(str(real).encode("utf-8", "surrogateescape")).hexdigest()[:20]
    where = base / key
    if where.is_relative_to(real):
        raise BadInputError(
            f"the cache directory {where} would be inside the tree {real}",
            hint=f"Point ${CACHE_ENV} somewhere outside the tree.",
        )
    return where


@dataclass
class Lookup:
    """Candidate lines for one id, which files could not be read, and what the cache did."""

    hits: list[scan.Hit]
    unreadable: dict[int, str]
    stats: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Stat:
    size: int
    mtime_ns: int
    inode: int
    dev: int


def _stat(tf: TreeFile) -> _Stat | None:
    try:
        st = tf.path.stat()
    except OSError:
        return None
    return _Stat(st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)


def _read_range(path: Path, start: int, length: int) -> bytes:
    with path.open("rb") as fh:
        fh.seek(start)
        return fh.read(length)


def _fingerprints(path: Path, end: int) -> tuple[bytes, bytes]:
    """Hashes of the first bytes of a plain file and of the bytes just before end."""
    head = _read_range(path, 0, min(_FINGERPRINT_BYTES, end))
    start = max(0, end - _FINGERPRINT_BYTES)
    tail = _read_range(path, start, end - start)
    return hashlib.blake2b(head, digest_size=16).digest(), hashlib.blake2b(
        tail, digest_size=16).digest()


def _ids_in(buf: bytes | mmap.mmap, start: int, end: int) -> set[bytes]:
    return set(_ID_RE.findall(buf, start, end))


def decode_id(raw: bytes) -> str | None:
    """The id text of a captured JSON string body (escapes decoded), None if it is not valid."""
    if b"\\" not in raw:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
    import orjson

    try:
        value = orjson.loads(b'"' + raw + b'"')
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, str) else None


def _index_buffer(buf: bytes | mmap.mmap, start: int, end: int, base: int
                  ) -> list[tuple[bytes, int, int]]:
    """(raw id, block offset, block length) for blocks of buf[start:end] cut at line ends."""
    rows = []
    pos = start
    while pos < end:
        cut = min(end, pos + BLOCK_BYTES)
        if cut < end:
            nl = buf.find(b"\n", cut - 1, end)
            cut = end if nl == -1 else nl + 1
        for raw in _ids_in(buf, pos, cut):
            rows.append((raw, base + pos, cut - pos))
        pos = cut
    return rows


@dataclass
class _Task:
    """Index one file from byte `start` (plain) or entirely (gzip)."""

    index: int
    path: Path
    compressed: bool
    start: int
    size: int


def _run_task(task: _Task) -> tuple[list[tuple[bytes, int, int]], int, str | None]:
    """(rows, new indexed end, problem) for one file; only whole lines are indexed."""
    if task.compressed:
        data = bytearray()
        problem = None
        try:
            for chunk in scan.gunzip_chunks(task.path):
                data += chunk
        except scan.TruncatedGzipError as exc:
            problem = str(exc)
        except OSError as exc:
            return [], 0, f"cannot read: {exc.strerror or exc}"
        end = data.rfind(b"\n") + 1
        view = bytes(data)
        return _index_buffer(view, 0, len(view), 0), end, problem
    try:
        with task.path.open("rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size <= task.start:
                return [], task.start, None
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                end = mm.rfind(b"\n", task.start, size) + 1
                if end <= task.start:
                    return [], task.start, None
                return _index_buffer(mm, task.start, end, 0), end, None
    except OSError as exc:
        return [], task.start, f"cannot read: {exc.strerror or exc}"


_Results = dict[int, tuple[list[tuple[bytes, int, int]], int, str | None]]


def _run_tasks(tasks: Sequence[_Task], workers: int) -> _Results:
    """Results of tasks, split over forked workers when there is enough to do."""
    total = sum(t.size - t.start for t in tasks)
    if workers <= 1 or len(tasks) < 2 or total < PARALLEL_MIN_BYTES or not hasattr(os, "fork"):
        return {t.index: _run_task(t) for t in tasks}
    buckets: list[list[_Task]] = [[] for _ in range(workers)]
    loads = [0] * workers
    for t in sorted(tasks, key=lambda t: -(t.size - t.start) * (5 if t.compressed else 1)):
        k = loads.index(min(loads))
        buckets[k].append(t)
        loads[k] += (t.size - t.start) * (5 if t.compressed else 1)

    def run_all(bucket: list[_Task]) -> _Results:
        return {t.index: _run_task(t) for t in bucket}

    children = [
        (bucket, *scan.fork_call(functools.partial(run_all, bucket)))
        for bucket in buckets[1:]
        if bucket
    ]
    results = run_all(buckets[0])
    for bucket, pid, read_fd in children:
        got = scan.fork_result(pid, read_fd)
        results.update(run_all(bucket) if got is None else got)
    return results


class TraceIndex:
    """The sqlite block index of one tree (open, refresh against the files, look up)."""

    def __init__(self, tree_path: Path) -> None:
        self.dir = cache_dir(tree_path)
        self.path = self.dir / "trace.sqlite"
        self.con = self._connect()

    def _connect(self) -> sqlite3.Connection:
        self.dir.mkdir(parents=True, exist_ok=True)
        for attempt in range(2):
            try:
                con = sqlite3.connect(self.path, timeout=60, isolation_level=None)
                con.execute("PRAGMA journal_mode=WAL")
                con.execute("PRAGMA synchronous=NORMAL")
                for stmt in _SCHEMA:
                    con.execute(stmt)
                row = con.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
                if row is None:
                    con.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
                elif row[0] != SCHEMA_VERSION:
                    raise sqlite3.DatabaseError(f"schema {row[0]} is not {SCHEMA_VERSION}")
                con.execute("SELECT count(*) FROM files").fetchone()
                return con
            except sqlite3.OperationalError as exc:
                if "locked" in str(exc) or "busy" in str(exc):
                    # Another logtool holds it: a lock is not corruption, never delete.
                    raise LogtoolError(
                        "the --cache trace index is locked by another logtool process",
                        hint="Try again when it finishes, or run without --cache.",
                    ) from None
                if attempt:
                    raise
                self._remove()
            except sqlite3.DatabaseError:
                if attempt:
                    raise
                self._remove()
        raise AssertionError("unreachable")

    def _remove(self) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(self.path) + suffix).unlink(missing_ok=True)

    def close(self) -> None:
        """Close the database."""
        self.con.close()

    def refresh(self, files: Sequence[TreeFile], *, workers: int | None = None) -> dict[str, Any]:
        """Bring the index up to date with files; returns what it had to do."""
        if workers is None:
            workers = min(os.cpu_count() or 1, 4)
        stored = {
            row[1]: row for row in self.con.execute(
                "SELECT id, rel, size, mtime_ns, inode, dev, indexed_bytes, head, tailsig, "
                "compressed FROM files")
        }
        stats: dict[str, Any] = {"dir": str(self.dir), "reused": 0, "appended": 0,
                                 "reindexed": 0, "new": 0, "dropped": 0, "bytes_indexed": 0}
        tasks: list[_Task] = []
        replace: set[int] = set()
        current: dict[int, _Stat] = {}
        for i, tf in enumerate(files):
            st = _stat(tf)
            if st is None:
                continue
            current[i] = st
            row = stored.get(tf.rel)
            if row is None:
                stats["new"] += 1
                tasks.append(_Task(i, tf.path, tf.compressed, 0, st.size))
                continue
            _, _, size, mtime_ns, inode, dev, indexed, head, tailsig, _ = row
            same_file = (inode, dev) == (st.inode, st.dev)
            if same_file and (size, mtime_ns) == (st.size, st.mtime_ns):
                stats["reused"] += 1
                continue
            if (not tf.compressed and same_file and st.size >= indexed
                    and _fingerprints(tf.path, indexed) == (head, tailsig)):
                stats["appended"] += 1
                tasks.append(_Task(i, tf.path, False, indexed, st.size))
            else:
                stats["reindexed"] += 1
                replace.add(i)
                tasks.append(_Task(i, tf.path, tf.compressed, 0, st.size))
        wanted = {tf.rel for tf in files}
        gone = [row[0] for rel, row in stored.items() if rel not in wanted]
        stats["dropped"] = len(gone)
        if not tasks and not gone:
            return stats
        results = _run_tasks(tasks, workers)
        bulk = sum(len(r[0]) for r in results.values()) > _BULK_ROWS
        self.con.execute("BEGIN IMMEDIATE")
        try:
            if bulk:
                self.con.execute("DROP INDEX IF EXISTS blocks_cid")
            for file_id in gone:
                self.con.execute("DELETE FROM blocks WHERE file_id = ?", (file_id,))
                self.con.execute("DELETE FROM files WHERE id = ?", (file_id,))
            for task in tasks:
                tf = files[task.index]
                st = current[task.index]
                rows, end, problem = results[task.index]
                old = stored.get(tf.rel)
                if old is not None and (task.index in replace or task.start == 0):
                    self.con.execute("DELETE FROM blocks WHERE file_id = ?", (old[0],))
                    self.con.execute("DELETE FROM files WHERE id = ?", (old[0],))
                    old = None
                if tf.compressed:
                    head = tailsig = b""
                else:
                    head, tailsig = _fingerprints(tf.path, end)
                if old is None:
                    cur = self.con.execute(
                        "INSERT INTO files (rel, size, mtime_ns, inode, dev, indexed_bytes, head, "
                        "tailsig, compressed, problem) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (tf.rel, st.size, st.mtime_ns, st.inode, st.dev, end, head, tailsig,
                         int(tf.compressed), problem))
                    file_id = cur.lastrowid
                else:
                    file_id = old[0]
                    self.con.execute(
                        "UPDATE files SET size = ?, mtime_ns = ?, indexed_bytes = ?, head = ?, "
                        "tailsig = ?, problem = ? WHERE id = ?",
                        (st.size, st.mtime_ns, end, head, tailsig, problem, file_id))
                stats["bytes_indexed"] += max(0, end - task.start)
                decoded = []
                for raw, offset, length in rows:
                    cid = decode_id(raw)
                    if cid is not None:
                        decoded.append((cid, file_id, offset, length))
                self.con.executemany("INSERT INTO blocks VALUES (?, ?, ?, ?)", decoded)
            if bulk:
                self.con.execute(_CID_INDEX)
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        return stats

    def lookup(self, files: Sequence[TreeFile], correlation_id: str) -> Lookup:
        """Candidate lines of correlation_id: indexed blocks plus every unindexed tail."""
        needles = scan.json_needles(correlation_id)
        by_rel = {tf.rel: i for i, tf in enumerate(files)}
        info = {
            row[0]: row[1:] for row in self.con.execute(
                "SELECT id, rel, indexed_bytes, compressed, problem FROM files")
        }
        found: dict[tuple[int, int], scan.Hit] = {}
        unreadable: dict[int, str] = {}
        blocks: dict[int, list[tuple[int, int]]] = {}
        for file_id, offset, length in self.con.execute(
                "SELECT file_id, offset, length FROM blocks WHERE cid = ?", (correlation_id,)):
            blocks.setdefault(file_id, []).append((offset, length))
        for file_id, (rel, indexed, compressed, problem) in info.items():
            index = by_rel.get(rel)
            if index is None:
                continue
            tf = files[index]
            if problem:
                unreadable[index] = problem
            wanted = sorted(set(blocks.get(file_id, [])))
            if compressed:
                if wanted:
                    data = self._gunzip(tf.path)
                    for offset, length in wanted:
                        self._search(data[offset:offset + length], needles, offset, index, found)
                continue
            try:
                with tf.path.open("rb") as fh:
                    for offset, length in wanted:
                        fh.seek(offset)
                        self._search(fh.read(length), needles, offset, index, found)
                    size = os.fstat(fh.fileno()).st_size
                    if size > indexed:  # not indexed yet (a partial last line, or new bytes)
                        fh.seek(indexed)
                        self._search(fh.read(size - indexed), needles, indexed, index, found)
            except OSError as exc:
                unreadable[index] = f"cannot read: {exc.strerror or exc}"
        hits = [found[k] for k in sorted(found)]
        return Lookup(hits, unreadable)

    @staticmethod
    def _gunzip(path: Path) -> bytes:
        data = bytearray()
        try:
            for chunk in scan.gunzip_chunks(path):
                data += chunk
        except (scan.TruncatedGzipError, OSError):
            pass
        return bytes(data)

    @staticmethod
    def _search(buf: bytes, needles: Sequence[bytes], base: int, index: int,
                found: dict[tuple[int, int], scan.Hit]) -> None:
        local: dict[int, scan.Hit] = {}
        scan.scan_buffer(buf, needles, base, index, local)
        for hit in local.values():
            found[(hit.file_index, hit.offset)] = hit

    def ids_with_prefix(self, prefix: str, limit: int = 20_000) -> list[str]:
        """Distinct indexed ids starting with prefix (for suggestions)."""
        rows = self.con.execute(
            "SELECT DISTINCT cid FROM blocks WHERE cid >= ? AND cid < ? LIMIT ?",
            (prefix, prefix + "\U0010ffff", limit))
        return [r[0] for r in rows]


def _needs_cold_path(correlation_id: str) -> bool:
    """Ids the index cannot hold faithfully (a quote or backslash inside) are searched cold."""
    return '"' in correlation_id or "\\" in correlation_id


def trace_lookup(tree_path: Path, files: Sequence[TreeFile], correlation_id: str,
                 *, workers: int | None = None) -> Lookup:
    """Refresh the tree's index, then return the candidate lines of correlation_id."""
    if _needs_cold_path(correlation_id):
        found = scan.find_lines(files, scan.json_needles(correlation_id), workers=workers)
        return Lookup(found.hits, found.unreadable, {"used": False, "reason": "id needs escaping"})
    index = TraceIndex(tree_path)
    try:
        stats = index.refresh(files, workers=workers)
        result = index.lookup(files, correlation_id)
    finally:
        index.close()
    built = stats["reused"] == 0 and stats["appended"] == 0
    result.stats = {"used": True, "built": built, **stats}
    return result


def ids_like(tree_path: Path, correlation_id: str) -> list[str]:
    """Indexed ids sharing a prefix with correlation_id, longest shared prefix first."""
    index = TraceIndex(tree_path)
    try:
        for size in (max(4, len(correlation_id) * 2 // 3), max(3, len(correlation_id) // 3), 1):
            got = index.ids_with_prefix(correlation_id[: min(size, len(correlation_id))])
            if got:
                return got
        return []
    finally:
        index.close()


def open_cached(path: Path, *, archived: bool = False,
                progress: Callable[[int, int], None] | None = None, light: bool = False) -> Any:
    """load.open_tree(cache=True): the tree's views served from the DuckDB catalog."""
    from logtool.analyze import catalog  # imports duckdb: only for the DuckDB commands

    return catalog.open_cached(path, archived=archived, progress=progress, light=light)
