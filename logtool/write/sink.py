"""The per-process writer engine: a bounded queue drained by one thread owning every handle."""

from __future__ import annotations

import atexit
import collections
import os
import sys
import threading
import time
import weakref
from pathlib import Path
from typing import Any, Literal

import orjson

from logtool import contract
from logtool.errors import BadInputError
from logtool.write import _files

_ORJSON_OPTS = orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS
# Tried first: OPT_NON_STR_KEYS takes orjson's slower dict path for every record (about a
# third of its time here), and records whose keys are all str come out byte for byte the same.
_ORJSON_STR_KEYS = orjson.OPT_APPEND_NEWLINE
# Unpacking fails at import if the contract ever names more time fields: then extend the loop.
_TS_FIELD, _RT_FIELD = contract.TIME_FIELDS


class _Flush:
    """A marker in the queue: the writer sets `done` once every item before it is written."""

    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done = threading.Event()


class _Rotate(_Flush):
    """A marker asking the writer thread (which owns the handles) to rotate one or all files."""

    __slots__ = ("relpath",)

    def __init__(self, relpath: str | None) -> None:
        super().__init__()
        self.relpath = relpath


# What ContainerLogger hands to Sink.submit_log: a head that one logger reuses for every
# record of a level, (relpath, mirror, level, container_id, component_name), then the rest
# of the LOG_FIELDS values (timestamp as epoch seconds, formatted by the writer). A shared
# head keeps the queued tuple small and lets the writer skip the head's fields while it
# stays the same.
LogHead = tuple[str, "str | None", str, str, str]
LogItem = tuple[LogHead, Any, Any, str, "str | None", dict[str, Any]]


def log_record(item: LogItem) -> dict[str, Any]:
    """The record dict of a LogItem, its timestamp as given (LOG_FIELDS order)."""
    head, ts, message, scope, corr, context = item
    values = (ts, head[2], head[3], head[4], message, scope, corr, context)
    return dict(zip(contract.LOG_FIELDS, values, strict=True))


# Three-digit groups for the microseconds: lookups beat a %06d format by 2x in the writer.
_DIGITS3 = tuple(f"{i:03d}" for i in range(1000))
_DIGITS3Z = tuple(f"{i:03d}Z" for i in range(1000))  # the last group with the closing Z


class _TimeFormatter:
    """Epoch seconds to ISO-8601 UTC with microseconds; caches the current second's heads.

    A head is 'YYYY-mm-ddTHH:MM:SS.mmm' for one millisecond of the cached second: a record's
    time is then one lookup and one concatenation (the thousand heads cost ~50 us a second).
    """

    __slots__ = ("_heads", "_second")

    def __init__(self) -> None:
        self._second = -1
        self._heads: list[str] = []

    def cached(self) -> tuple[int, list[str]]:
        """The second last formatted and its heads (indexed by millisecond)."""
        return self._second, self._heads

    def heads(self, second: int) -> list[str]:
        """The heads of a whole second (cached for the next call)."""
        if second != self._second:
            prefix = time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(second))
            self._heads = [prefix + digits for digits in _DIGITS3]
            self._second = second
        return self._heads

    def __call__(self, value: float) -> str:
        second, micro = divmod(int(value * 1_000_000 + 0.5), 1_000_000)
        heads = self._heads if second == self._second else self.heads(second)
        return heads[micro // 1000] + _DIGITS3Z[micro % 1000]


class Sink:
    """Accepts records from any thread (no I/O, no formatting) and writes them as JSON lines."""

    _taken: int  # records the writer has taken from the queue
    _woken: bool
    _fast_room: int
    _stalled_at: int

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        queue_size: int = 100_000,
        full_policy: Literal["block", "drop"] = "block",
        block_timeout: float = 0.05,
        batch_size: int = 2000,
        flush_interval: float = 0.05,
        max_bytes: int | None = 100 * 2**20,
        compress_rotated: bool = False,
        backup_count: int | None = None,
    ) -> None:
        _check_options(queue_size=queue_size, full_policy=full_policy,
                       block_timeout=block_timeout, batch_size=batch_size,
                       flush_interval=flush_interval, max_bytes=max_bytes,
                       backup_count=backup_count)
        self.root = Path(root)
        self._queue_size = queue_size
        self._block = full_policy == "block"
        self._block_timeout = block_timeout
        self._batch_size = batch_size
        self._flush_interval = flush_interval
        self._files = _files.FileSet(
            str(self.root),
            max_bytes=max_bytes,
            compress_rotated=compress_rotated,
            backup_count=backup_count,
        )
        self._closed = False
        self._fresh_state()
        _register(self)

    # ------------------------------------------------------------ caller side

    def submit(self, relpath: str, record: dict[str, Any], mirror: str | None = None) -> None:
        """Queue one record for relpath (and mirror); never raises, never does I/O."""
        queue = self._queue
        depth = len(queue)
        # One test covers the common case: open, writer running, room in the queue. len +
        # append is not atomic across threads: the bound can be passed by at most the number
        # of threads racing here, which keeps memory bounded without a lock.
        if depth < self._fast_room:
            queue.append((relpath, record, mirror))
            if depth >= self._wake_depth and not self._woken:
                self._woken = True  # a batch is waiting: wake the writer once
                self._wake.set()
            return
        self._submit_checked((relpath, record, mirror))

    def submit_log(self, item: LogItem) -> None:
        """Queue one container-log record given as a LogItem tuple (the loggers' hot path).

        The writer builds the record's dict itself: a tuple of plain values and an untracked
        context dict is untracked by the garbage collector at its first pass, so a deep queue
        of them costs the collector (and so the caller) nothing, and no copy is needed.
        """
        queue = self._queue
        depth = len(queue)
        if depth < self._fast_room:
            queue.append(item)
            if depth >= self._wake_depth and not self._woken:
                self._woken = True
                self._wake.set()
            return
        self._submit_checked(item)

    def _submit_checked(self, item: Any) -> None:
        """submit() when closed, full or before the writer runs: drop, wait or start it."""
        if self._closed:
            self._count("dropped_closed")
            return
        queue = self._queue
        if len(queue) >= self._queue_size and not self._wait_for_room():
            return
        queue.append(item)
        if self._thread is None:
            self._start()
        elif len(queue) >= self._batch_size and not self._woken:
            self._woken = True
            self._wake.set()

    def _wait_for_room(self) -> bool:
        """Full queue: drop at once, or wait up to block_timeout for the writer to make room.

        A writer that took nothing during a whole wait is stalled (a hung disk, a blocked
        FIFO): until it takes records again, callers drop at once instead of each waiting.
        """
        try:
            if self._thread is None:
                self._start()
            self._wake.set()
            if self._block:
                taken = self._taken
                if self._stalled_at == taken:
                    self._count("dropped_queue_full")
                    return False
                self._count("blocked_waits")
                deadline = time.monotonic() + self._block_timeout
                while time.monotonic() < deadline:
                    time.sleep(0.0005)
                    if len(self._queue) < self._queue_size:
                        return True
                if self._taken == taken:
                    self._stalled_at = taken
            self._count("dropped_queue_full")
        except Exception:  # noqa: BLE001, S110 - the caller must never see a logging error
            pass
        return False

    def _count(self, name: str) -> None:
        with self._count_lock:
            self._counters[name] += 1

    def flush(self, timeout: float | None = 5.0) -> bool:
        """Wait until every record submitted before this call is handed to the OS."""
        return self._control(_Flush(), timeout)

    def rotate(self, relpath: str | None = None) -> None:
        """Rotate one file (relpath) or every file this process has open, now."""
        self._control(_Rotate(relpath), 5.0)

    def set_max_bytes(self, max_bytes: int | None) -> None:
        """Change the size at which files rotate (None: never); BadInputError if not positive."""
        _check_options(max_bytes=max_bytes)
        self._files.max_bytes = max_bytes

    def close(self, timeout: float | None = 5.0) -> None:
        """Flush, stop the writer thread and close every handle; later submits are dropped."""
        if self._closed:
            return
        self._fast_room = 0
        self._closed = True
        try:
            self._stop = True
            self._wake.set()
            thread = self._thread
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout)
            if thread is None or not thread.is_alive():
                # Records that raced with close (or a thread that never ran) are written here.
                self._drain()
                self._files.close_all(timeout)
        except Exception as exc:  # noqa: BLE001
            self._files.note_error(exc)

    def stats(self) -> dict[str, Any]:
        """Counters and gauges of this sink (snapshot; the writer keeps running)."""
        with self._count_lock:
            counters: dict[str, Any] = dict(self._counters)
        depth = len(self._queue)
        counters.update(self._files.stats())
        counters.update(
            submitted=self._taken + depth,
            queue_depth=depth,
            max_queue_depth=max(self._max_depth, depth),
            queue_size=self._queue_size,
            batches=self._batches,
            last_batch_ms=self._last_batch_ms,
            max_batch_ms=self._max_batch_ms,
            serialize_fallbacks=self._serialize_fallbacks,
            pid=os.getpid(),
            closed=self._closed,
        )
        return counters

    # ------------------------------------------------------------ lifecycle

    def _fresh_state(self) -> None:
        """Queue, locks, counters and thread as a new process needs them (init and after fork)."""
        self._queue: collections.deque[Any] = collections.deque()
        self._wake = threading.Event()
        # Set with _wake by submitters: a plain attribute read is cheaper than Event.is_set().
        self._woken = False
        # queue_size while the sink is open and its writer runs, else 0: then every submit
        # takes the checked path (dropped when closed, the writer started on the first one).
        self._fast_room = 0
        self._wake_depth = self._batch_size - 1
        self._start_lock = threading.Lock()
        self._count_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = False
        self._counters = {"dropped_queue_full": 0, "dropped_closed": 0, "blocked_waits": 0}
        self._taken = 0
        self._markers = 0  # markers queued and not yet reached; 0 keeps the drain loop lean
        self._stalled_at = -1  # _taken when a whole block wait saw no progress
        self._max_depth = 0
        self._batches = 0
        self._last_batch_ms = 0.0
        self._max_batch_ms = 0.0
        self._serialize_fallbacks = 0
        self._times = _TimeFormatter()

    def _after_fork_in_child(self) -> None:
        """The child starts empty: the parent's queued records stay the parent's to write."""
        self._fresh_state()
        self._files.forget_after_fork()

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is not None or self._closed:
                return
            thread = threading.Thread(target=self._run, name="logtool-writer", daemon=True)
            try:
                thread.start()
            except RuntimeError as exc:
                # No thread (resource limits, interpreter shutting down): records wait in the
                # bounded queue and the next submit tries again; flush/close write them inline.
                self._files.note_error(exc, "starting the writer thread")
                return
            self._thread = thread
            if not self._closed:
                self._fast_room = self._queue_size

    def _control(self, marker: _Flush, timeout: float | None) -> bool:
        """Queue a marker behind everything submitted so far and wait for the writer to reach it."""
        try:
            thread = self._thread
            if thread is threading.current_thread():
                # Called from the writer itself (a hook running in its thread): act inline.
                self._drain()
                if isinstance(marker, _Rotate):
                    self._files.rotate(marker.relpath)
                return True
            if thread is None or not thread.is_alive():
                if self._closed or thread is not None:
                    # No thread will come: write what is queued from here.
                    with self._count_lock:
                        self._markers += 1
                    self._queue.append(marker)
                    self._drain()
                    return True
                self._start()
            with self._count_lock:
                self._markers += 1
            self._queue.append(marker)
            self._wake.set()
            return marker.done.wait(timeout)
        except Exception as exc:  # noqa: BLE001
            self._files.note_error(exc)
            return False

    # ------------------------------------------------------------ writer side

    def _run(self) -> None:
        while True:
            self._wake.wait(self._flush_interval)
            # Clear before _woken: a submit in between sees _woken still set and skips the
            # wake, which is fine because the drain below takes its record anyway.
            self._wake.clear()
            self._woken = False
            try:
                self._drain()
            except Exception as exc:  # noqa: BLE001 - the writer thread must survive anything
                self._files.note_error(exc)
            if self._stop and not self._queue:
                try:
                    self._files.close_all(None)
                except Exception as exc:  # noqa: BLE001
                    self._files.note_error(exc)
                return

    def _drain(self) -> None:
        """Write everything queued now, batch by batch, honouring markers in queue order."""
        queue = self._queue
        popleft = queue.popleft
        while queue:
            depth = len(queue)
            if depth > self._max_depth:
                self._max_depth = depth
            started = time.perf_counter()
            # Only this thread pops, so len() items are there to take.
            batch = [popleft() for _ in range(min(len(queue), self._batch_size))]
            if self._markers:
                self._write_with_markers(batch)
            else:
                self._write_batch(batch)
            elapsed = (time.perf_counter() - started) * 1000.0
            self._batches += 1
            self._last_batch_ms = elapsed
            if elapsed > self._max_batch_ms:
                self._max_batch_ms = elapsed

    def _write_with_markers(self, batch: list[Any]) -> None:
        """Write the records before each marker, then act on the marker (flush or rotate)."""
        start = 0
        for index, item in enumerate(batch):
            if type(item) is tuple:
                continue
            self._write_batch(batch[start:index])
            start = index + 1
            with self._count_lock:
                self._markers -= 1
            if isinstance(item, _Rotate):
                self._files.rotate(item.relpath)
            item.done.set()
        self._write_batch(batch[start:])

    def _write_batch(self, items: list[Any]) -> None:
        """Serialize each record once, append the line to its file's and its mirror's buffer,
        then write every buffer with one write.

        Items are (relpath, record, mirror) from submit() or LogItem tuples from submit_log().
        """
        if not items:
            return
        self._taken += len(items)
        # Per file, runs of lines appended to one buffer each: kind 1 for the file's own
        # records, 0 for mirror copies. Appending each line to its file's buffer at once
        # (instead of keeping line objects until a join) keeps the batch's memory hot.
        groups: dict[str, list[_Run]] = {}
        dumps = orjson.dumps
        fallback = self._fallback
        times = self._times
        digits_z = _DIGITS3Z
        # The writer's per-record cost lives in this loop: the time fields are unrolled and
        # the common one formatted inline (a call costs as much as the formatting itself).
        second, heads = times.cached()
        second_us = second * 1_000_000
        reused: dict[str, Any] = dict.fromkeys(contract.LOG_FIELDS)
        last_head: Any = None  # the head whose fields reused holds (and relpath, mirror)
        # Records mostly go to the file of the previous one (and its mirror): the current
        # buffers are kept in locals and looked up again only when the path changes.
        last_path: Any = _NO_PATH
        last_mirror: Any = _NO_PATH
        # The current runs, their buffers and the lines added since the last switch (counted
        # here: counting newlines in the buffers afterwards costs more than the loop).
        own = mirrored = _Run(1)
        own_data = mirrored_data = own.data
        own_lines = mirrored_lines = 0
        # A file that is the records' own file and the mirror within one batch: look up
        # every time from then on, so its buffer runs keep the order of the records.
        shared = False
        # Lockstep: every line since own_data[lock_start] was mirrored to the current mirror
        # run, so the mirror's copy is that stretch of own_data, copied once when the stretch
        # ends (a path changes, a record is not mirrored) or shared outright at the end.
        lockstep = False
        lock_start = 0
        for item in items:
            try:
                if len(item) == 3:
                    relpath, record, mirror = item
                    last_head = None  # relpath and mirror are no longer the head's
                    ts = record.get(_TS_FIELD)
                    rt = record.get(_RT_FIELD)
                    if type(ts) is float or type(rt) is float:
                        record = record.copy()  # the caller's dict stays as it was
                        if type(ts) is float:
                            sec, micro = divmod(int(ts * 1_000_000 + 0.5), 1_000_000)
                            if sec != second:
                                second, heads = sec, times.heads(sec)
                                second_us = second * 1_000_000
                            record[_TS_FIELD] = heads[micro // 1000] + digits_z[micro % 1000]
                        if type(rt) is float:
                            record[_RT_FIELD] = times(rt)
                else:
                    # A LogItem: its values go into the batch's one dict (LOG_FIELDS order).
                    head, ts, message, scope, corr, context = item
                    if head is not last_head:
                        relpath, mirror, level, cid, comp = head
                        record = reused
                        record["level"] = level
                        record["container_id"] = cid
                        record["component_name"] = comp
                        last_head = head
                    if type(ts) is float:
                        # Microseconds into the cached second: no divmod while it lasts.
                        micro = int(ts * 1_000_000 + 0.5) - second_us
                        if not 0 <= micro < 1_000_000:
                            second, micro = divmod(micro + second_us, 1_000_000)
                            heads = times.heads(second)
                            second_us = second * 1_000_000
                        ts = heads[micro // 1000] + digits_z[micro % 1000]
                    # One dict per batch, its values replaced in place: cheaper than a new
                    # dict per record, and the keys keep their LOG_FIELDS order.
                    record = reused
                    record["timestamp"] = ts
                    record["message"] = message
                    record["event_scope"] = scope
                    record["correlation_id"] = corr
                    record["context"] = context
                try:
                    line = dumps(record, None, _ORJSON_STR_KEYS)
                except TypeError:
                    # A value only the repr fallback encodes, or a key that is not a str: the
                    # retry gives the same bytes for str keys and counts each fallback once.
                    line = dumps(record, fallback, _ORJSON_OPTS)
            except Exception as exc:  # noqa: BLE001 - never lose a record to its own content
                if len(item) != 3:
                    relpath, mirror = item[0][0], item[0][1]
                    record = self._formatted_log_record(item)
                    last_head = None
                line = self._minimal(record, exc)
            if relpath is not last_path:
                if lockstep:
                    mirrored_data += own_data[lock_start:]
                    lockstep = False
                own.lines += own_lines
                own = _run_for(groups, relpath, 1)
                own_data = own.data
                own_lines = 0
                if relpath == last_mirror:
                    shared = True
                    last_mirror = _NO_PATH  # the mirror's run is no longer the file's last
                last_path = relpath
            if mirror is None:
                if lockstep:
                    mirrored_data += own_data[lock_start:]
                    lockstep = False
                own_data += line
            else:
                if mirror is not last_mirror:
                    if lockstep:
                        mirrored_data += own_data[lock_start:]
                        lockstep = False
                    mirrored.lines += mirrored_lines
                    mirrored = _run_for(groups, mirror, 0)
                    mirrored_data = mirrored.data
                    mirrored_lines = 0
                    if mirror == last_path:
                        shared = True
                    last_mirror = mirror
                if lockstep:
                    own_data += line
                elif shared:
                    own_data += line
                    mirrored_data += line
                else:
                    lock_start = len(own_data)
                    lockstep = True
                    own_data += line
                mirrored_lines += 1
            own_lines += 1
            if shared:
                last_path = last_mirror = _NO_PATH
        own.lines += own_lines
        mirrored.lines += mirrored_lines
        if lockstep:
            if lock_start == 0 and not mirrored_data:
                mirrored.data = own_data  # the mirror's lines are exactly the file's: one buffer
            else:
                mirrored_data += own_data[lock_start:]
        for relpath, runs in groups.items():
            for run in runs:
                try:
                    self._files.write(relpath, run.data, run.lines, run.primary)
                except Exception as exc:  # noqa: BLE001 - one bad file must not cost the others
                    self._files.lost(run.lines, run.primary, exc, relpath)

    def _formatted_log_record(self, item: LogItem) -> dict[str, Any]:
        """A LogItem's dict with its time formatted when that works (for _minimal)."""
        record = log_record(item)
        ts = record[_TS_FIELD]
        if type(ts) is float:
            try:
                record[_TS_FIELD] = self._times(ts)
            except Exception:  # noqa: BLE001, S110 - an unformattable time stays a number
                pass
        return record

    def _fallback(self, value: Any) -> str:
        self._serialize_fallbacks += 1
        return repr(value)

    def _minimal(self, record: Any, exc: BaseException) -> bytes:
        """A record orjson refused even with repr fallbacks: keep what can be kept, say why."""
        self._serialize_fallbacks += 1
        try:
            keep: dict[str, Any] = {}
            if isinstance(record, dict):
                for key in (*contract.LOG_FIELDS, *contract.EVENT_BASE_FIELDS):
                    value = record.get(key)
                    if value is None or isinstance(value, str | int | float | bool):
                        keep[key] = value
                    else:
                        keep[key] = _safe_repr(value)
            keep["serialize_error"] = f"{type(exc).__name__}: {exc}"
            keep["record_repr"] = _safe_repr(record)[:65536]
            return orjson.dumps(keep, default=_safe_repr, option=_ORJSON_OPTS)
        except Exception:  # noqa: BLE001
            return b'{"serialize_error":"unrepresentable record"}\n'


_NO_PATH: Any = object()  # no file yet: unlike None, never a relpath a caller passed


class _Run:
    """Consecutive lines of one kind for one file within a batch: 1 own records, 0 mirror."""

    __slots__ = ("data", "lines", "primary")

    def __init__(self, primary: int) -> None:
        self.primary = primary
        self.data = bytearray()
        self.lines = 0


def _run_for(groups: dict[str, list[_Run]], path: str, primary: int) -> _Run:
    """The run the next line of path goes to: the file's last run when of the same kind."""
    runs = groups.get(path)
    if runs is None:
        runs = groups[path] = []
    elif runs[-1].primary == primary:
        return runs[-1]
    run = _Run(primary)
    runs.append(run)
    return run


def _check_options(**options: Any) -> None:
    """Setup-time checks (a configuration mistake, not a logging call): BadInputError."""
    problems = []
    for name in ("queue_size", "batch_size"):
        value = options.get(name, 1)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            problems.append(f"{name} must be a whole number of at least 1, not {value!r}")
    for name in ("block_timeout", "flush_interval"):
        value = options.get(name, 1.0)
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            problems.append(f"{name} must be a number of seconds >= 0, not {value!r}")
    for name in ("max_bytes", "backup_count"):
        value = options.get(name)
        low = 1 if name == "max_bytes" else 0
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                  or value < low):
            problems.append(f"{name} must be None or a whole number >= {low}, not {value!r}")
    if options.get("full_policy", "block") not in ("block", "drop"):
        problems.append(f"full_policy must be 'block' or 'drop', not {options['full_policy']!r}")
    if problems:
        raise BadInputError("invalid writer settings: " + "; ".join(problems))


def _safe_repr(value: Any) -> str:
    try:
        return repr(value)
    except Exception as exc:  # noqa: BLE001
        return f"<unrepresentable {type(value).__name__}: {type(exc).__name__}>"


# ---------------------------------------------------------------- process-wide hooks

_SINKS: weakref.WeakSet[Sink] = weakref.WeakSet()
_HOOKS_LOCK = threading.Lock()
_hooks_installed = False


def _register(sink: Sink) -> None:
    global _hooks_installed
    with _HOOKS_LOCK:
        _SINKS.add(sink)
        if not _hooks_installed:
            # atexit runs before the interpreter stops daemon threads, so queued records land.
            atexit.register(_close_all_at_exit)
            os.register_at_fork(after_in_child=_reset_all_after_fork)
            _hooks_installed = True


def _close_all_at_exit() -> None:
    for sink in list(_SINKS):
        sink.close(timeout=10.0)


class _Token:
    """A weak-referenceable key for multiprocessing's after-fork registry."""


_MP_TOKEN = _Token()


def _reset_all_after_fork() -> None:
    global _HOOKS_LOCK
    _HOOKS_LOCK = threading.Lock()
    for sink in list(_SINKS):
        try:
            sink._after_fork_in_child()
        except Exception:  # noqa: BLE001, S110 - a logging sink must not break the child
            pass
    mp_util = sys.modules.get("multiprocessing.util")
    if mp_util is not None:
        # multiprocessing's fork children leave through os._exit, which skips atexit; they run
        # multiprocessing finalizers, but clear that registry after this hook, so register
        # the finalizer from multiprocessing's own after-fork step instead.
        mp_util.register_after_fork(_MP_TOKEN, _install_mp_finalizer)


def _install_mp_finalizer(_token: _Token) -> None:
    import multiprocessing.util

    multiprocessing.util.Finalize(None, _close_all_at_exit, exitpriority=0)
