"""Rotated-file naming, optional gzip in a helper thread, and keeping the newest backup_count."""

# The writer thread works with string paths and raw descriptors (os.open, flock, rename);
# pathlib objects would add allocations without adding safety here.
# ruff: noqa: PTH104, PTH105, PTH108, PTH118, PTH119, PTH120, PTH208

from __future__ import annotations

import gzip
import os
import queue
import shutil
import threading
import time
from collections.abc import Callable

from logtool import contract

_KNOWN_EXTS = (contract.LOG_SUFFIX, contract.EVENTS_SUFFIX)


def split_name(name: str) -> tuple[str, str]:
    """('momentum', '.log') for momentum.log; other names keep their suffix in the stem."""
    for ext in _KNOWN_EXTS:
        if name.endswith(ext) and len(name) > len(ext):
            return name[: -len(ext)], ext
    return name, contract.LOG_SUFFIX


def rotated_name(directory: str, name: str, when: float) -> str:
    """A free path <stem>.<YYYYmmddTHHMMSS>[-N]<ext> beside name.

    N is one more than any rotation of this file within the same second (plain, .gz or being
    compressed), so names sort in the order the files were rotated even after trimming.
    """
    stem, ext = split_name(name)
    stamp = time.strftime(contract.ROTATION_STAMP_FORMAT, time.gmtime(when))
    seq = -1
    try:
        entries = os.listdir(directory or ".")
    except OSError:
        entries = []
    for entry in entries:
        match = contract.ROTATED_NAME_RE.match(entry.removesuffix(".tmp"))
        if match and match["stem"] == stem and match["ext"] == ext and match["stamp"] == stamp:
            seq = max(seq, int(match["seq"] or 0))
    while True:
        seq += 1
        suffix = f"-{seq}" if seq else ""
        candidate = os.path.join(directory, f"{stem}.{stamp}{suffix}{ext}")
        if not (os.path.lexists(candidate) or os.path.lexists(candidate + contract.GZIP_SUFFIX)):
            return candidate


def backups_of(path: str) -> list[str]:
    """Rotated files of path (plain and .gz), oldest first by stamp then sequence."""
    directory, name = os.path.split(path)
    stem, ext = split_name(name)
    found: list[tuple[str, int, str]] = []
    try:
        entries = os.listdir(directory)
    except OSError:
        return []
    for entry in entries:
        match = contract.ROTATED_NAME_RE.match(entry)
        if match and match["stem"] == stem and match["ext"] == ext:
            found.append((match["stamp"], int(match["seq"] or 0), entry))
    found.sort()
    return [os.path.join(directory, entry) for _, _, entry in found]


def gzip_file(path: str) -> str:
    """Compress path to path.gz through a temporary name, then remove path; returns the .gz."""
    target = path + contract.GZIP_SUFFIX
    tmp = target + ".tmp"
    with open(path, "rb") as src, gzip.open(tmp, "wb", compresslevel=6) as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    os.replace(tmp, target)
    os.unlink(path)
    return target


class Rotator:
    """Renames full files aside; compresses and trims them off the writer thread."""

    def __init__(self, *, compress: bool, backup_count: int | None,
                 on_error: Callable[[BaseException, str | None], None]) -> None:
        self.compress = compress
        self.backup_count = backup_count
        self._on_error = on_error
        self.rotations = 0
        self.compressed = 0
        self.failed = 0
        self._jobs: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pending = 0
        self._idle = threading.Condition()

    def rotate_path(self, path: str) -> str:
        """Rename path aside (caller holds the exclusive lock on it); returns the new name."""
        directory, name = os.path.split(path)
        target = rotated_name(directory, name, time.time())
        os.rename(path, target)
        self.rotations += 1
        if self.compress or self.backup_count is not None:
            self._submit(target)
        return target

    def _submit(self, rotated: str) -> None:
        with self._idle:
            self._pending += 1
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="logtool-rotate", daemon=True)
            self._thread.start()
        self._jobs.put(rotated)

    def _run(self) -> None:
        while True:
            rotated = self._jobs.get()
            if rotated is None:
                return
            try:
                if self.compress:
                    try:
                        gzip_file(rotated)
                        self.compressed += 1
                    except FileNotFoundError:
                        pass  # trimmed or archived meanwhile
                if self.backup_count is not None:
                    self._trim(rotated)
            except Exception as exc:  # noqa: BLE001 - a failed gzip leaves the plain file: no loss
                self._on_error(exc, rotated)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def _trim(self, rotated: str) -> None:
        match = contract.ROTATED_NAME_RE.match(os.path.basename(rotated))
        if match is None or self.backup_count is None:
            return
        live = os.path.join(os.path.dirname(rotated), match["stem"] + match["ext"])
        backups = backups_of(live)
        excess = len(backups) - self.backup_count
        for old in backups[: max(excess, 0)]:
            try:
                os.unlink(old)
            except FileNotFoundError:
                pass

    def wait(self, timeout: float | None) -> bool:
        """Wait until queued compressions and trims are done."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._idle:
            while self._pending > 0:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def forget_after_fork(self) -> None:
        """The child does not inherit the parent's compression jobs or thread."""
        self._jobs = queue.SimpleQueue()
        self._thread = None
        self._pending = 0
        self._idle = threading.Condition()
        self.rotations = self.compressed = self.failed = 0
