"""The writer's process-wide state: configure(), the lazily opened Sink, levels, router, stats."""

from __future__ import annotations

import atexit
import os
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol

from logtool.contract import LEVEL_NUMBERS, LEVELS, escape_path_part, is_valid_path_part
from logtool.errors import BadInputError

if TYPE_CHECKING:
    from logtool.write.sink import LogItem, Sink

DEFAULT_ROOT: Final = "logs"
ROOT_ENV: Final = "LOGTOOL_ROOT"
FULL_POLICIES: Final = ("block", "drop")
# Counters this layer keeps beside the Sink's own (logtool.stats() merges both).
API_COUNTERS: Final = (
    "api_errors",
    "escaped_path_parts",
    "invalid_tiers",
    "bad_levels",
    "bad_timestamps",
    "bad_metric_values",
    "router_errors",
    "dropped_after_exit",
)

SubmitFn = Callable[[str, dict[str, Any], "str | None"], None]
SubmitLogFn = Callable[["LogItem"], None]


class Router(Protocol):
    """What set_router() accepts: dispatch must not block (queue the record, return at once)."""

    def dispatch(self, kind: str, record: dict[str, Any]) -> None: ...


class Loggerish(Protocol):
    """A logger whose cached level threshold configure() refreshes."""

    def _refresh_level(self) -> None: ...


def level_number(level: str | int) -> int:
    """The numeric threshold for a level name or number; BadInputError for anything else."""
    if isinstance(level, bool):
        raise BadInputError(f"invalid log level {level!r}; expected one of {', '.join(LEVELS)}")
    if isinstance(level, int):
        return level
    if isinstance(level, str) and level.upper() in LEVEL_NUMBERS:
        return LEVEL_NUMBERS[level.upper()]
    raise BadInputError(f"invalid log level {level!r}; expected one of {', '.join(LEVELS)}")


def level_name(levelno: int) -> str:
    """The contract level name for a numeric level (stdlib-style numbers round up)."""
    if levelno <= 10:
        return "DEBUG"
    if levelno <= 20:
        return "INFO"
    if levelno <= 30:
        return "WARNING"
    if levelno <= 40:
        return "ERROR"
    return "CRITICAL"


class _State:
    """Everything configure() sets; one instance per process (module global _STATE)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.root: Path | None = None  # None: $LOGTOOL_ROOT or ./logs, resolved on first use
        self.level = LEVEL_NUMBERS["INFO"]
        self.container_levels: dict[str, int] = {}
        self.clock: Callable[[], float] = time.time
        self.sink_options: dict[str, Any] = {}
        self.sink: Sink | None = None
        self.extra_sinks: dict[Path, Sink] = {}
        # The hot path calls state.submit directly: the sink's bound method once open.
        self.submit: SubmitFn = _lazy_submit
        self.submit_log: SubmitLogFn = _lazy_submit_log  # ContainerLogger's records
        self.router: Router | None = None
        self.global_context: dict[str, Any] | None = None
        self.counters: dict[str, int] = dict.fromkeys(API_COUNTERS, 0)
        self.last_error: str | None = None
        self.loggers: weakref.WeakSet[Any] = weakref.WeakSet()
        self.logger_cache: dict[tuple[str, str], Any] = {}
        self.exited = False

    def resolved_root(self) -> Path:
        """The tree root as an absolute path (environment default on first use)."""
        if self.root is None:
            self.root = Path(os.environ.get(ROOT_ENV) or DEFAULT_ROOT).absolute()
        return self.root


def state() -> _State:
    """The process-wide writer state (loggers read it on every call)."""
    return _STATE


def count(name: str, n: int = 1) -> None:
    """Add n to one of the API_COUNTERS."""
    counters = _STATE.counters
    counters[name] = counters.get(name, 0) + n


def note_error(where: str, exc: BaseException) -> None:
    """Count an exception swallowed at a public entry point and remember it as last_error."""
    count("api_errors")
    try:
        _STATE.last_error = f"{where}: {type(exc).__name__}: {exc}"
    except Exception:  # noqa: BLE001 - the writer never raises into its host
        _STATE.last_error = f"{where}: {type(exc).__name__}"


def path_part(value: object) -> str:
    """value as one safe path component: unchanged when valid, escaped (and counted) if not."""
    if is_valid_path_part(value):
        return value  # type: ignore[return-value]
    count("escaped_path_parts")
    return escape_path_part(value)


def _open_sink() -> Sink:
    """Create the Sink for the configured root (called once, under the lock)."""
    from logtool.write.sink import Sink  # deferred: `import logtool` must stay cheap

    st = _STATE
    sink = Sink(st.resolved_root(), **st.sink_options)
    st.sink = sink
    st.submit = sink.submit
    st.submit_log = sink.submit_log
    return sink


def _lazy_sink() -> Sink | None:
    """The sink a first submit after configure/shutdown hands its record to (opened now);
    None, counted as a drop, once the interpreter is exiting."""
    if _STATE.exited:
        count("dropped_after_exit")
        return None
    return current_sink()


def _lazy_submit(relpath: str, record: dict[str, Any], mirror: str | None = None) -> None:
    """First submit after configure/shutdown: open the sink, then hand the record over."""
    sink = _lazy_sink()
    if sink is not None:
        sink.submit(relpath, record, mirror)


def _lazy_submit_log(item: LogItem) -> None:
    """_lazy_submit for a ContainerLogger's LogItem."""
    sink = _lazy_sink()
    if sink is not None:
        sink.submit_log(item)


def current_sink() -> Sink:
    """The Sink the tree is written through, opened if needed (the log manager rotates it)."""
    with _STATE.lock:
        return _STATE.sink if _STATE.sink is not None else _open_sink()


def submitter_for(directory: str | os.PathLike[str]) -> tuple[SubmitFn, str]:
    """A submit function and a relpath prefix for writing below `directory`.

    Inside the root this is the main sink with a prefix; elsewhere a Sink of its own, kept
    until shutdown(), so a DomainEventLogger(log_dir=...) outside the tree still works.
    """
    st = _STATE
    target = Path(directory).absolute()
    root = st.resolved_root()
    try:
        rel = target.relative_to(root)
    except ValueError:
        rel = None
    if rel is not None and ".." not in rel.parts:
        prefix = "/".join(path_part(p) for p in rel.parts)
        return _main_submit, (prefix + "/" if prefix else "")

    def submit_outside(relpath: str, record: dict[str, Any], mirror: str | None = None) -> None:
        # Looked up per call so that shutdown() and a later reopen are followed.
        sink = st.extra_sinks.get(target)
        if sink is None:
            if st.exited:
                count("dropped_after_exit")
                return
            with st.lock:
                sink = st.extra_sinks.get(target)
                if sink is None:
                    from logtool.write.sink import Sink

                    sink = Sink(target, **st.sink_options)
                    st.extra_sinks[target] = sink
        sink.submit(relpath, record, mirror)

    return submit_outside, ""


def _main_submit(relpath: str, record: dict[str, Any], mirror: str | None = None) -> None:
    """Submit to whatever the main sink is now (survives configure/shutdown)."""
    _STATE.submit(relpath, record, mirror)


def route(kind: str, record: dict[str, Any]) -> None:
    """Hand a copy of record to the router, counting (never raising) its failures."""
    router = _STATE.router
    if router is None:
        return
    try:
        router.dispatch(kind, dict(record))
    except Exception as exc:  # noqa: BLE001 - the writer never raises into its host
        count("router_errors")
        note_error("router.dispatch", exc)


def set_router(router: Router | None) -> None:
    """Also hand every record loggers build to router.dispatch(kind, record); None removes it."""
    _STATE.router = router


def set_global_context(**context: Any) -> None:
    """Merge context into every record's context (call and bound values win); no args clears."""
    _STATE.global_context = dict(context) if context else None


def level_for(container_id: str) -> int:
    """The threshold for a container: its override, else the global level."""
    return _STATE.container_levels.get(container_id, _STATE.level)


def register_logger(logger: Loggerish) -> None:
    """Track a logger so level changes reach its cached threshold."""
    _STATE.loggers.add(logger)


def _refresh_levels() -> None:
    for logger in list(_STATE.loggers):
        logger._refresh_level()


def set_level(level: str | int, container_id: str | None = None) -> None:
    """Change the global level, or one container's override, without touching the sink."""
    number = level_number(level)
    with _STATE.lock:
        if container_id is None:
            _STATE.level = number
        else:
            _STATE.container_levels[str(container_id)] = number
        _refresh_levels()


def _validate_sink_options(queue_size: int, full_policy: str, max_file_size_mb: float | None,
                           backup_count: int | None) -> None:
    if not isinstance(queue_size, int) or isinstance(queue_size, bool) or queue_size <= 0:
        raise BadInputError(f"queue_size must be a positive integer, got {queue_size!r}")
    if full_policy not in FULL_POLICIES:
        raise BadInputError(f"full_policy must be 'block' or 'drop', got {full_policy!r}")
    if max_file_size_mb is not None and not (
        isinstance(max_file_size_mb, int | float) and max_file_size_mb > 0
    ):
        raise BadInputError(
            f"max_file_size_mb must be a positive number or None, got {max_file_size_mb!r}"
        )
    if backup_count is not None and (not isinstance(backup_count, int) or backup_count < 0):
        raise BadInputError(f"backup_count must be a non-negative integer, got {backup_count!r}")


def configure(
    root: str | os.PathLike[str] | None = None,
    level: str | int = "INFO",
    *,
    clock: Callable[[], float] | None = None,
    queue_size: int = 100_000,
    full_policy: str = "block",
    max_file_size_mb: float | None = 100,
    compress_rotated: bool = False,
    backup_count: int | None = None,
    container_levels: Mapping[str, str | int] | None = None,
) -> None:
    """Set where and how the writer writes; optional (defaults: $LOGTOOL_ROOT or ./logs, INFO).

    Raises BadInputError for invalid settings (a setup-time mistake, not a logging call).
    Records already submitted are flushed to the previous root before the switch.
    """
    number = level_number(level)
    levels = {str(cid): level_number(lv) for cid, lv in (container_levels or {}).items()}
    _validate_sink_options(queue_size, full_policy, max_file_size_mb, backup_count)
    if clock is not None and not callable(clock):
        raise BadInputError(f"clock must be a callable returning epoch seconds, got {clock!r}")
    new_root = Path(root if root is not None else (os.environ.get(ROOT_ENV) or DEFAULT_ROOT))
    options: dict[str, Any] = {
        "queue_size": queue_size,
        "full_policy": full_policy,
        "max_bytes": None if max_file_size_mb is None else int(max_file_size_mb * 2**20),
        "compress_rotated": bool(compress_rotated),
        "backup_count": backup_count,
    }
    st = _STATE
    with st.lock:
        new_root = new_root.absolute()
        if st.sink is not None and (st.root != new_root or st.sink_options != options):
            _close_sinks(5.0)
        st.root = new_root
        st.sink_options = options
        st.level = number
        st.container_levels = levels
        st.clock = _float_clock(clock) if clock is not None else time.time
        st.exited = False
        _refresh_levels()


def _float_clock(clock: Callable[[], float]) -> Callable[[], float]:
    """The sink formats float epochs only, so a clock returning ints or Decimals is wrapped."""

    def as_float() -> float:
        return float(clock())

    as_float.__wrapped__ = clock  # type: ignore[attr-defined]
    return as_float


def get_configuration() -> dict[str, Any]:
    """The current settings as keyword arguments for configure() (to restore them later)."""
    st = _STATE
    opts = st.sink_options
    max_bytes = opts.get("max_bytes", 100 * 2**20)
    return {
        "root": str(st.resolved_root()),
        "level": level_name(st.level),
        "clock": None if st.clock is time.time else getattr(st.clock, "__wrapped__", st.clock),
        "queue_size": opts.get("queue_size", 100_000),
        "full_policy": opts.get("full_policy", "block"),
        "max_file_size_mb": None if max_bytes is None else max_bytes / 2**20,
        "compress_rotated": opts.get("compress_rotated", False),
        "backup_count": opts.get("backup_count"),
        "container_levels": {cid: level_name(n) for cid, n in st.container_levels.items()},
    }


def _close_sinks(timeout: float | None) -> None:
    """Close every sink and return to the lazy state (caller holds the lock)."""
    st = _STATE
    sinks = ([st.sink] if st.sink is not None else []) + list(st.extra_sinks.values())
    st.sink = None
    st.extra_sinks = {}
    st.submit = _lazy_submit
    st.submit_log = _lazy_submit_log
    for sink in sinks:
        try:
            sink.close(timeout)
        except Exception as exc:  # noqa: BLE001 - the writer never raises into its host
            note_error("sink.close", exc)


def flush(timeout: float | None = 5.0) -> bool:
    """Wait until every record submitted so far is written; False on timeout or error."""
    try:
        st = _STATE
        with st.lock:
            sinks = ([st.sink] if st.sink is not None else []) + list(st.extra_sinks.values())
        ok = True
        for sink in sinks:
            ok = bool(sink.flush(timeout)) and ok
        return ok
    except Exception as exc:  # noqa: BLE001 - the writer never raises into its host
        note_error("flush", exc)
        return False


def shutdown(timeout: float | None = 5.0) -> None:
    """Flush and close the writer; logging afterwards opens it again lazily."""
    try:
        with _STATE.lock:
            _close_sinks(timeout)
    except Exception as exc:  # noqa: BLE001 - the writer never raises into its host
        note_error("shutdown", exc)


def stats() -> dict[str, Any]:
    """The Sink's counters (when open) merged with this layer's, plus root and last_error."""
    st = _STATE
    out: dict[str, Any] = {"root": str(st.resolved_root()), "sink_open": st.sink is not None}
    try:
        if st.sink is not None:
            out.update(st.sink.stats())
    except Exception as exc:  # noqa: BLE001 - the writer never raises into its host
        note_error("stats", exc)
    out.update(st.counters)
    out["last_api_error"] = st.last_error
    if out.get("last_error") is None:
        out["last_error"] = st.last_error
    return out


def reset_counters() -> None:
    """Zero this layer's counters (tests and the log manager's periodic reports use it)."""
    _STATE.counters = dict.fromkeys(API_COUNTERS, 0)
    _STATE.last_error = None


def _at_exit() -> None:
    """Flush at interpreter exit; records logged later are counted, not written."""
    try:
        with _STATE.lock:
            _close_sinks(5.0)
            _STATE.exited = True
    except Exception:  # noqa: BLE001, S110 - nothing to do while the interpreter exits
        pass


def _after_fork_in_child() -> None:
    """A lock held by another parent thread at fork time would never be released in the child."""
    _STATE.lock = threading.RLock()


_STATE: Final = _State()
atexit.register(_at_exit)
os.register_at_fork(after_in_child=_after_fork_in_child)
