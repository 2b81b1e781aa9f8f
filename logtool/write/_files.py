"""The writer thread's file handles: safe opening under the root, O_APPEND writes, size rotation."""

# The writer thread works with string paths and raw descriptors (os.open, flock, rename);
# pathlib objects would add allocations without adding safety here.
# ruff: noqa: PTH103, PTH108, PTH110, PTH116, PTH117, PTH118, PTH120

from __future__ import annotations

import errno
import fcntl
import os
import threading
import time
from typing import Any

from logtool import contract
from logtool.write import _rotate

_OPEN_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW
# Keeps the process under its descriptor limit with thousands of components; least recently
# written files are closed first and reopened on demand.
MAX_OPEN_FILES = 512


class RefusedPath(Exception):
    """A relative path that resolves outside the root (a symlink escape or '..')."""


class _Handle:
    """One open file: its descriptor, identity (to notice rotation by others) and state."""

    __slots__ = ("dev", "fd", "ino", "needs_newline", "path", "relpath")

    def __init__(self, relpath: str, path: str, fd: int) -> None:
        st = os.fstat(fd)
        self.relpath = relpath
        self.path = path
        self.fd = fd
        self.dev = st.st_dev
        self.ino = st.st_ino
        # A write cut short by ENOSPC/EFBIG leaves half a line; the next write ends it first.
        self.needs_newline = False


class FileSet:
    """Every file this process writes under one root; used only by the writer thread."""

    def __init__(self, root: str, *, max_bytes: int | None, compress_rotated: bool,
                 backup_count: int | None) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.backup_count = backup_count
        self._handles: dict[str, _Handle] = {}
        self._rotator = _rotate.Rotator(compress=compress_rotated, backup_count=backup_count,
                                        on_error=self.note_error)
        self._marker_done = False
        self.written = 0
        self.lines_written = 0
        self.dropped_write_errors = 0
        self.write_errors = 0
        self.refused_paths = 0
        self.last_error: str | None = None
        self.last_error_time: float | None = None

    # ------------------------------------------------------------ bookkeeping

    def note_error(self, exc: BaseException, where: str | None = None) -> None:
        self.write_errors += 1
        text = f"{type(exc).__name__}: {exc}"
        self.last_error = f"{where}: {text}" if where else text
        self.last_error_time = time.time()

    def lost(self, lines: int, primary: int, exc: BaseException, relpath: object) -> None:
        """Count the records of a buffer that could not be written at all."""
        self.dropped_write_errors += lines * primary
        self.note_error(exc, repr(relpath))

    def stats(self) -> dict[str, Any]:
        return {
            "written": self.written,
            "lines_written": self.lines_written,
            "dropped_write_errors": self.dropped_write_errors,
            "write_errors": self.write_errors,
            "refused_paths": self.refused_paths,
            "rotations": self._rotator.rotations,
            "compressed": self._rotator.compressed,
            "files_open": len(self._handles),
            "max_bytes": self.max_bytes,
            "last_error": self.last_error,
        }

    def forget_after_fork(self) -> None:
        """In a forked child: close inherited descriptors without touching the parent's files."""
        for handle in self._handles.values():
            try:
                os.close(handle.fd)
            except OSError:
                pass
        self._handles.clear()
        self._rotator.forget_after_fork()
        self.written = self.lines_written = self.dropped_write_errors = 0
        self.write_errors = self.refused_paths = 0
        self.last_error = None

    def close_all(self, timeout: float | None) -> None:
        for handle in self._handles.values():
            try:
                os.close(handle.fd)
            except OSError as exc:
                self.note_error(exc, handle.path)
        self._handles.clear()
        self._rotator.wait(timeout)

    # ------------------------------------------------------------ opening

    def _open(self, relpath: str) -> _Handle | None:
        handle = self._handles.get(relpath)
        if handle is not None:
            return handle
        try:
            path = self._resolve(relpath)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            # makedirs may have followed nothing new, but check again: a directory symlink
            # created meanwhile must not lead the file outside the root.
            path = self._resolve(relpath)
            if not self._marker_done:
                try:
                    self._write_marker()
                except OSError as exc:
                    # The marker is a courtesy to readers: never a reason to lose records.
                    self.note_error(exc, "tree marker")
            fd = os.open(path, _OPEN_FLAGS, 0o644)
        except (RefusedPath, ValueError, TypeError) as exc:
            # Outside the root, or not a path at all (NUL byte, not a string).
            self.refused_paths += 1
            self.note_error(exc, repr(relpath))
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                self.refused_paths += 1
            self.note_error(exc, relpath)
            return None
        if len(self._handles) >= MAX_OPEN_FILES:
            self._drop(next(iter(self._handles.values())))
        handle = self._handles[relpath] = _Handle(relpath, path, fd)
        return handle

    def _resolve(self, relpath: str) -> str:
        """The real path of relpath under the real root, or RefusedPath."""
        root = os.path.realpath(self.root)
        path = os.path.realpath(os.path.join(root, relpath))
        if os.path.isabs(relpath) or not path.startswith(root + os.sep):
            raise RefusedPath(f"{relpath!r} resolves outside the root {root!r}")
        return path

    def _write_marker(self) -> None:
        """Create <root>/logtool.json once, atomically, if no writer has yet."""
        import logtool  # late: the package imports its writer while it initialises

        marker = os.path.join(self.root, contract.TREE_MARKER)
        if os.path.exists(marker):
            self._marker_done = True
            return
        created = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + ".000000Z"
        body = {
            "format_version": contract.FORMAT_VERSION,
            "created": created,
            "writer": f"logtool {getattr(logtool, '__version__', 'unknown')}",
        }
        import orjson

        tmp = f"{marker}.{os.getpid()}-{threading.get_ident()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        try:
            os.write(fd, orjson.dumps(body, option=orjson.OPT_INDENT_2) + b"\n")
        finally:
            os.close(fd)
        try:
            os.link(tmp, marker)  # fails if another process won the race: theirs stays
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
        self._marker_done = True

    # ------------------------------------------------------------ writing

    def write(self, relpath: str, data: bytes | bytearray, lines: int, primary: int) -> None:
        """Append whole lines to relpath, rotating on the way; failures are counted, never raised.

        data is `lines` lines, each ending in a newline (orjson escapes any inside a value).
        primary is 1 when they are records of this file (counted as `written`), 0 for copies
        (master.log mirror lines): `lines_written` counts both.
        """
        handle = self._open(relpath)
        if handle is None:
            self.dropped_write_errors += lines * primary
            return
        self._handles[relpath] = self._handles.pop(relpath)  # most recently used last
        start = 0
        total = len(data)
        # Rotations in a row without a line written: a guard against a rename that never helps.
        futile = 0
        while start < total:
            try:
                fcntl.flock(handle.fd, fcntl.LOCK_SH)
            except OSError as exc:
                self.note_error(exc, handle.path)
            try:
                if futile < 8 and not self._same_file(handle):
                    futile += 1
                    reopened = self._reopen(handle)
                    if reopened is None:
                        break
                    handle = reopened
                    continue
                size = os.fstat(handle.fd).st_size
                limit = self.max_bytes
                if (limit is not None and size > 0 and size + _line_end(data, start) - start > limit
                        and futile < 8):
                    futile += 1
                    fcntl.flock(handle.fd, fcntl.LOCK_UN)
                    rotated = self._rotate_handle(handle)
                    if rotated is None:
                        break
                    handle = rotated
                    continue
                end = _fit(data, start, size, limit)
                # Lines are counted only when a part of data is written (rotation, errors).
                count = lines if start == 0 and end == total else data.count(b"\n", start, end)
                reached = self._append(handle, data, start, end, count, primary)
                start = reached
                if reached < end:
                    break
                futile = 0
            except OSError as exc:
                self.note_error(exc, handle.path)
                break
            finally:
                if handle.fd >= 0:  # a dropped handle's number may belong to someone else now
                    try:
                        fcntl.flock(handle.fd, fcntl.LOCK_UN)
                    except OSError:
                        pass
        if start < total:
            self.dropped_write_errors += data.count(b"\n", start) * primary

    def _append(self, handle: _Handle, data: bytes | bytearray, start: int, end: int,
                lines: int, primary: int) -> int:
        """One os.write loop on the O_APPEND descriptor for data[start:end]; returns the offset
        after the last whole line written (end unless the OS refused part of it, e.g. ENOSPC or
        EFBIG)."""
        try:
            if handle.needs_newline:
                os.write(handle.fd, b"\n")
                handle.needs_newline = False
        except OSError as exc:
            self.note_error(exc, handle.path)
            return start
        written = start
        try:
            with memoryview(data) as view:
                while written < end:
                    written += os.write(handle.fd, view[written:end])
        except OSError as exc:
            self.note_error(exc, handle.path)
            reached = data.rfind(b"\n", start, written) + 1 or start
            if written > start:
                handle.needs_newline = data[written - 1] != 0x0A
            self._count_written(data.count(b"\n", start, reached), primary)
            return reached
        self._count_written(lines, primary)
        return end

    def _count_written(self, lines: int, primary: int) -> None:
        self.lines_written += lines
        self.written += lines * primary

    def _same_file(self, handle: _Handle) -> bool:
        """Whether the path still names the file we hold (another process may have rotated it)."""
        try:
            st = os.stat(handle.path)
        except FileNotFoundError:
            return False
        return st.st_ino == handle.ino and st.st_dev == handle.dev

    def _reopen(self, handle: _Handle) -> _Handle | None:
        self._drop(handle)
        return self._open(handle.relpath)

    def _drop(self, handle: _Handle) -> None:
        if self._handles.get(handle.relpath) is handle:
            del self._handles[handle.relpath]
        fd, handle.fd = handle.fd, -1
        try:
            os.close(fd)
        except OSError:
            pass

    def _rotate_handle(self, handle: _Handle) -> _Handle | None:
        """Rename the full file aside under an exclusive lock, then continue in a fresh file."""
        try:
            fcntl.flock(handle.fd, fcntl.LOCK_EX)
            try:
                # Another process may have rotated it (or grown it) while we waited for the lock.
                if self._same_file(handle) and os.fstat(handle.fd).st_size > 0:
                    self._rotator.rotate_path(handle.path)
            finally:
                fcntl.flock(handle.fd, fcntl.LOCK_UN)
        except OSError as exc:
            self.note_error(exc, handle.path)
            # Could not rotate: go on writing past max_bytes rather than lose records.
            self._rotator.failed += 1
        return self._reopen(handle)

    def rotate(self, relpath: str | None) -> None:
        """Force rotation of one file (open or not) or of every open file."""
        if relpath is None:
            for handle in list(self._handles.values()):
                self._rotate_handle(handle)
            return
        if relpath not in self._handles:
            try:
                if not os.path.exists(self._resolve(relpath)):
                    return  # nothing to rotate, and no reason to create an empty file
            except (RefusedPath, ValueError, TypeError) as exc:
                self.refused_paths += 1
                self.note_error(exc, repr(relpath))
                return
        opened = self._open(relpath)
        if opened is not None:
            self._rotate_handle(opened)


def _line_end(data: bytes | bytearray, start: int) -> int:
    """The offset just after the line that starts at start (the data's end if unterminated)."""
    newline = data.find(b"\n", start)
    return len(data) if newline < 0 else newline + 1


def _fit(data: bytes | bytearray, start: int, size: int, limit: int | None) -> int:
    """End offset of the longest run of whole lines from start that keeps the file within
    limit; at least one line, so that a line longer than the limit is still written."""
    total = len(data)
    if limit is None or total - start <= limit - size:
        return total  # the common case: the whole buffer fits
    room = limit - size
    if room > 0:
        cut = data.rfind(b"\n", start, start + room)
        if cut >= 0:
            return cut + 1
    return _line_end(data, start)
