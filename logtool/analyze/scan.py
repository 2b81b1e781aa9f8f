"""Byte-level search for the lines of a tree that contain a literal, without parsing the rest."""

from __future__ import annotations

import marshal
import mmap
import os
import re
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

# The value of a "correlation_id" key as JSON encoders write it (body of the string, raw).
ID_FIELD_RE = re.compile(rb'"correlation_id"[ \t]*:[ \t]*"([^"\n]*)"')
# Below this many bytes a second process costs more (fork, pipe) than it saves.
PARALLEL_MIN_BYTES = 64 * 1024 * 1024
_GZ_CHUNK = 1 << 20


class Scannable(Protocol):
    """What a scan needs to know about a file (tree.TreeFile satisfies it)."""

    @property
    def path(self) -> Path: ...

    @property
    def compressed(self) -> bool: ...

    @property
    def size(self) -> int: ...


@dataclass(frozen=True)
class Hit:
    """One line containing a needle: which file (index into the scanned list), where, its bytes."""

    file_index: int
    offset: int  # byte offset of the line start (in the decompressed stream for .gz)
    line: bytes  # without the trailing newline
    partial: bool  # the file ends without a newline after this line (still being written)


@dataclass
class ScanResult:
    """Every hit, in file order then offset order, plus the files that could not be fully read."""

    hits: list[Hit]
    unreadable: dict[int, str]  # file index -> reason (truncated gzip, permission, ...)


def json_needles(value: str) -> list[bytes]:
    """The byte forms a JSON string value can take on disk, quotes included.

    Writers differ: orjson writes UTF-8 as is, Python's json escapes non-ASCII as \\uXXXX.
    Searching with the quotes keeps ids that merely start with value out of the candidates.
    """
    import json

    raw = json.dumps(value, ensure_ascii=False).encode("utf-8")
    ascii_form = json.dumps(value, ensure_ascii=True).encode("ascii")
    return [raw] if raw == ascii_form else [raw, ascii_form]


def scan_buffer(buf: bytes | mmap.mmap, needles: Sequence[bytes], base: int,
                 file_index: int, out: dict[int, Hit], limit: int | None = None) -> None:
    """Add every line of buf containing any needle to out, keyed by absolute line offset."""
    size = len(buf)
    for needle in needles:
        pos = buf.find(needle)
        while pos != -1:
            if limit is not None and len(out) >= limit:
                return
            start = buf.rfind(b"\n", 0, pos) + 1
            end = buf.find(b"\n", pos)
            partial = end == -1
            if partial:
                end = size
            if base + start not in out:
                out[base + start] = Hit(file_index, base + start, bytes(buf[start:end]), partial)
            if partial:
                break
            pos = buf.find(needle, end + 1)


def _scan_plain(path: Path, needles: Sequence[bytes], file_index: int,
                limit: int | None = None) -> list[Hit]:
    """Hits in one uncompressed file via mmap (no copy of the file into Python memory)."""
    found: dict[int, Hit] = {}
    with path.open("rb") as fh:
        if os.fstat(fh.fileno()).st_size == 0:
            return []
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            scan_buffer(mm, needles, 0, file_index, found, limit)
    return [found[k] for k in sorted(found)]


def gunzip_chunks(path: Path) -> Iterator[bytes]:
    """Decompressed chunks of a (multi-member) gzip file.

    Unlike gzip.GzipFile, everything that decompresses is yielded before a truncated or
    corrupt tail raises TruncatedGzipError.
    """
    with path.open("rb") as fh:
        inflater = zlib.decompressobj(wbits=31)
        started = False  # the current inflater has been fed bytes of a member
        produced = 0
        while raw := fh.read(_GZ_CHUNK):
            while raw:
                started = True
                try:
                    out = inflater.decompress(raw)
                except zlib.error as exc:
                    raise TruncatedGzipError(
                        f"corrupt gzip data after {produced} bytes ({exc})"
                    ) from None
                produced += len(out)
                if out:
                    yield out
                raw = b""
                if inflater.eof:
                    raw = inflater.unused_data
                    inflater = zlib.decompressobj(wbits=31)
                    started = False
        if started:
            raise TruncatedGzipError(f"truncated gzip after {produced} bytes")


class TruncatedGzipError(Exception):
    """A .gz file ends before its gzip stream does, or holds bytes that do not inflate."""


def _scan_gzip(path: Path, needles: Sequence[bytes], file_index: int,
               limit: int | None = None) -> tuple[list[Hit], str | None]:
    """Hits in one .gz file, decompressed as a stream; a truncated tail is reported, not fatal."""
    found: dict[int, Hit] = {}
    carry = b""
    base = 0  # decompressed offset of carry[0]
    problem: str | None = None
    chunks = gunzip_chunks(path)
    while True:
        try:
            chunk = next(chunks, b"")
        except TruncatedGzipError as exc:
            problem = str(exc)
            break
        if not chunk or (limit is not None and len(found) >= limit):
            break
        data = carry + chunk
        cut = data.rfind(b"\n") + 1
        if cut:
            scan_buffer(data[:cut], needles, base, file_index, found, limit)
            base += cut
            carry = data[cut:]
        else:
            carry = data
    if carry:
        scan_buffer(carry, needles, base, file_index, found, limit)
    return [found[k] for k in sorted(found)], problem


def scan_one(path: Path, compressed: bool, needles: Sequence[bytes], file_index: int,
             limit: int | None = None) -> tuple[list[Hit], str | None]:
    """Hits in one file (at most limit lines) and, when it could not be read to the end, why."""
    try:
        if compressed:
            return _scan_gzip(path, needles, file_index, limit)
        return _scan_plain(path, needles, file_index, limit), None
    except OSError as exc:
        return [], f"cannot read: {exc.strerror or exc}"


def _scan_many(files: Sequence[Scannable], indexes: Iterable[int], needles: Sequence[bytes],
               limit: int | None = None) -> tuple[list[Hit], dict[int, str]]:
    hits: list[Hit] = []
    unreadable: dict[int, str] = {}
    for i in indexes:
        found, problem = scan_one(files[i].path, files[i].compressed, needles, i, limit)
        hits.extend(found)
        if problem:
            unreadable[i] = problem
    return hits, unreadable


def _split(files: Sequence[Scannable], workers: int) -> list[list[int]]:
    """Indexes of files dealt into workers buckets of about equal bytes (largest first)."""
    buckets: list[list[int]] = [[] for _ in range(workers)]
    loads = [0] * workers
    for i in sorted(range(len(files)), key=lambda i: -files[i].size):
        k = loads.index(min(loads))
        buckets[k].append(i)
        # Compressed bytes cost several times more to search than plain ones.
        loads[k] += files[i].size * (5 if files[i].compressed else 1)
    return buckets


def fork_call(fn: Callable[[], Any]) -> tuple[int, int]:
    """Run fn() in a forked child; returns (pid, the pipe its marshalled result arrives on)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: compute, send the marshalled result, leave without running any cleanup
        code = 1
        try:
            os.close(read_fd)
            payload = marshal.dumps(fn())
            with os.fdopen(write_fd, "wb") as pipe:
                pipe.write(payload)
            code = 0
        finally:
            os._exit(code)
    os.close(write_fd)
    return pid, read_fd


def fork_result(pid: int, read_fd: int) -> Any | None:
    """The result of a fork_call child, or None when it failed (the caller then does the work)."""
    with os.fdopen(read_fd, "rb") as pipe:
        payload = pipe.read()
    _, status = os.waitpid(pid, 0)
    if status != 0 or not payload:
        return None
    try:
        return marshal.loads(payload)  # noqa: S302 - our own forked child
    except (EOFError, ValueError, TypeError):
        return None


def _fork_scan(files: Sequence[Scannable], indexes: list[int], needles: Sequence[bytes],
               limit: int | None) -> tuple[int, int]:
    """Start a child process scanning indexes; returns (pid, read end of its result pipe)."""

    def work() -> tuple[list[tuple[int, int, bytes, bool]], dict[int, str]]:
        hits, unreadable = _scan_many(files, indexes, needles, limit)
        return [(h.file_index, h.offset, h.line, h.partial) for h in hits], unreadable

    return fork_call(work)


def _collect(pid: int, read_fd: int) -> tuple[list[Hit], dict[int, str]] | None:
    """The child's result, or None when it failed (the caller then scans those files itself)."""
    got = fork_result(pid, read_fd)
    if got is None:
        return None
    raw_hits, unreadable = got
    return [Hit(*h) for h in raw_hits], dict(unreadable)


def find_lines(files: Sequence[Scannable], needles: Sequence[bytes], *,
               workers: int | None = None, max_hits_per_file: int | None = None) -> ScanResult:
    """Every line of files containing any of needles (one Hit per line, file order).

    max_hits_per_file stops a file's search early (for broad needles such as id prefixes).

    With more than one worker and enough bytes, files are split between this process and
    forked children (the search itself holds the GIL, so threads would not help).
    """
    if not needles or any(not n for n in needles):
        raise ValueError("needles must be non-empty byte strings")
    if workers is None:
        workers = min(os.cpu_count() or 1, 4)
    total = sum(f.size for f in files)
    if workers <= 1 or total < PARALLEL_MIN_BYTES or len(files) < 2 or not hasattr(os, "fork"):
        hits, unreadable = _scan_many(files, range(len(files)), needles, max_hits_per_file)
    else:
        buckets = [b for b in _split(files, min(workers, len(files))) if b]
        children = []
        for bucket in buckets[1:]:
            try:
                children.append((bucket, *_fork_scan(files, bucket, needles, max_hits_per_file)))
            except OSError:
                children.append((bucket, -1, -1))
        hits, unreadable = _scan_many(files, buckets[0], needles, max_hits_per_file)
        for bucket, pid, fd in children:
            got = _collect(pid, fd) if pid > 0 else None
            if got is None:
                got = _scan_many(files, bucket, needles, max_hits_per_file)
            hits.extend(got[0])
            unreadable.update(got[1])
    hits.sort(key=lambda h: (h.file_index, h.offset))
    return ScanResult(hits, unreadable)


def line_number(path: Path, compressed: bool, offset: int) -> int:
    """The 1-based line number of the line starting at offset (for messages about bad lines)."""
    count = 0
    remaining = offset
    if compressed:
        try:
            for chunk in gunzip_chunks(path):
                count += chunk.count(b"\n", 0, remaining)
                remaining -= len(chunk)
                if remaining <= 0:
                    break
        except TruncatedGzipError:
            pass
        return count + 1
    with path.open("rb") as fh:
        while remaining > 0:
            chunk = fh.read(min(_GZ_CHUNK, remaining))
            if not chunk:
                break
            count += chunk.count(b"\n")
            remaining -= len(chunk)
    return count + 1
