"""ContainerLogger: the per-(container, component) logger, its records, metrics and correlations."""

from __future__ import annotations

import functools
import inspect
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Any, Final, TypeVar

from logtool.contract import (
    CONTAINERS_DIR,
    CORRELATION_TOPICS,
    CORRELATIONS_DIR,
    CORRELATIONS_SUFFIX,
    FLOWS_DIR,
    FLOWS_SUFFIX,
    LEVEL_NUMBERS,
    LOG_SUFFIX,
    MASTER_LOG,
    METRICS_DIR,
    SCOPE_COMPONENT_INTERNAL,
    TIERS,
)
from logtool.write import runtime
from logtool.write.context import CORRELATION_ID
from logtool.write.runtime import _STATE
from logtool.write.scope import detect_scope

F = TypeVar("F", bound=Callable[..., Any])

_DEBUG: Final = 10
_INFO: Final = 20
_WARNING: Final = 30
_ERROR: Final = 40
_CRITICAL: Final = 50
# Correlation ids with these prefixes land in that topic's file without being told.
_PREFIX_TOPICS: Final = (("trade_", "trade"), ("signal_", "signal"), ("error_", "error"))
_TRACE_BUFFER: Final = 1000
_HEAD_LEVELS: Final = (_DEBUG, _INFO, _WARNING, _ERROR, _CRITICAL)


_TOPIC_CACHE: dict[str, str | None] = {}
_TOPIC_CACHE_MAX: Final = 4096


def correlation_topic(correlation_id: str, context: dict[str, Any]) -> str | None:
    """The correlations/ topic a record belongs to: `correlation_topic` kwarg, else id prefix."""
    if context and "correlation_topic" in context:
        topic = context["correlation_topic"]
        return topic if topic in CORRELATION_TOPICS else runtime.path_part(str(topic))
    try:
        return _TOPIC_CACHE[correlation_id]
    except KeyError:
        pass
    found = None
    for prefix, name in _PREFIX_TOPICS:
        if correlation_id.startswith(prefix):
            found = name
            break
    if len(_TOPIC_CACHE) >= _TOPIC_CACHE_MAX:
        _TOPIC_CACHE.clear()  # ids are mostly short-lived: a bounded cache, no LRU bookkeeping
    _TOPIC_CACHE[correlation_id] = found
    return found


@functools.lru_cache(maxsize=1024)
def _correlation_relpath(base: str, topic: str) -> str:
    return f"{base}{CORRELATIONS_DIR}/{topic}{CORRELATIONS_SUFFIX}{LOG_SUFFIX}"


def _number(value: Any) -> float | int | None:
    """A metric value the DOUBLE column accepts (bool/int/float as is, else float() or None)."""
    if type(value) in (int, float):
        return value
    try:
        return float(value)
    except Exception:  # noqa: BLE001 - the writer never raises into its host
        runtime.count("bad_metric_values")
        return None


def _level_method(level: str, levelno: int, doc: str) -> Callable[..., None]:
    """ContainerLogger's method for one level: _emit's body inlined with the level fixed.

    A Python call costs the caller about as much as the whole LogItem, so the common path
    (no global or bound context, no router) runs here in one frame; keep it in step with
    _emit, which log() and exception() use.
    """
    index = _HEAD_LEVELS.index(levelno)
    name = level.lower()

    def method(self: ContainerLogger, message: Any, /, **context: Any) -> None:
        if self._min > levelno:
            return
        try:
            st = _STATE
            if st.global_context or self._bound or st.router is not None:
                self._emit(level, levelno, message, context)
                return
            cid = CORRELATION_ID.get()
            now = st.clock()
            scope = detect_scope(context) if context and (
                "internal_scope" in context or "publish_tier" in context
                or "event_flow" in context or "lifecycle_operation" in context
            ) else SCOPE_COMPONENT_INTERNAL
            st.submit_log((self._heads[index], now, message, scope, cid, context))
            if cid is not None:
                self._correlate(st, now, level, message, cid, levelno, context)
        except Exception as exc:  # noqa: BLE001 - the writer never raises into its host
            runtime.note_error(name, exc)

    method.__name__ = name
    method.__qualname__ = f"ContainerLogger.{name}"
    method.__doc__ = doc
    return method


class ContainerLogger:
    """A container-aware logger: records to containers/<container_id>/<component>.log.

    Every public method swallows its own failures (counted in logtool.stats()).
    """

    __slots__ = (
        "__weakref__",
        "_base",
        "_bound",
        "_component",
        "_container_id",
        "_flows_relpath",
        "_heads",
        "_metrics_relpath",
        "_min",
        "_mirror",
        "_relpath",
        "_trace_buffer",
    )

    def __init__(self, container_id: str, component_name: str, *, relpath: str | None = None,
                 base: str = "", mirror: str | None = MASTER_LOG) -> None:
        """Use logtool.get_logger(); relpath/base/mirror exist for run-scoped trees."""
        self._container_id = str(container_id)
        self._component = str(component_name)
        cid_part = runtime.path_part(container_id)
        comp_part = runtime.path_part(component_name)
        self._base = base
        self._relpath = relpath or f"{base}{CONTAINERS_DIR}/{cid_part}/{comp_part}{LOG_SUFFIX}"
        self._mirror = mirror
        self._metrics_relpath = f"{base}{METRICS_DIR}/{cid_part}{LOG_SUFFIX}"
        self._flows_relpath = f"{base}{FLOWS_DIR}/{cid_part}{FLOWS_SUFFIX}{LOG_SUFFIX}"
        # The LogItem head of each level in _HEAD_LEVELS (see sink.LogItem): built once.
        self._heads = tuple(
            (self._relpath, mirror if number >= _INFO else None, runtime.level_name(number),
             self._container_id, self._component) for number in _HEAD_LEVELS)
        self._bound: dict[str, Any] = {}
        self._trace_buffer: deque[dict[str, Any]] | None = None
        self._min = runtime.level_for(self._container_id)
        runtime.register_logger(self)

    # ------------------------------------------------------------ identity (ContainerAware)
    @property
    def container_id(self) -> str:
        """The container this logger writes for."""
        return self._container_id

    @property
    def component_name(self) -> str:
        """The component (file name) within the container."""
        return self._component

    @property
    def relpath(self) -> str:
        """Where records go, relative to the tree root."""
        return self._relpath

    @property
    def level(self) -> str:
        """The effective threshold name for this logger's container."""
        return runtime.level_name(self._min)

    def is_enabled_for(self, level: str | int) -> bool:
        """Whether a record at level would be written."""
        try:
            return runtime.level_number(level) >= self._min
        except Exception:  # noqa: BLE001 - the writer never raises into its host
            return False

    def _refresh_level(self) -> None:
        self._min = runtime.level_for(self._container_id)

    # ------------------------------------------------------------ the hot path
    def _emit(self, level: str, levelno: int, message: Any, context: dict[str, Any]) -> None:
        st = runtime._STATE
        bound = self._bound
        glob = st.global_context
        if glob:
            context = {**glob, **bound, **context}
        elif bound:
            context = {**bound, **context}
        cid = CORRELATION_ID.get()
        now = st.clock()
        # the four `in` tests inline save a call on the common, scope-less path
        scope = detect_scope(context) if context and (
            "internal_scope" in context or "publish_tier" in context
            or "event_flow" in context or "lifecycle_operation" in context
        ) else SCOPE_COMPONENT_INTERNAL
        # A LogItem, not a dict: the writer builds the record (see Sink.submit_log).
        st.submit_log(((self._relpath, self._mirror if levelno >= _INFO else None, level,
                        self._container_id, self._component), now, message, scope, cid, context))
        if cid is not None:
            self._correlate(st, now, level, message, cid, levelno, context)
        if st.router is not None:
            runtime.route("text", {
                "timestamp": now,
                "level": level,
                "container_id": self._container_id,
                "component_name": self._component,
                "message": message,
                "event_scope": scope,
                "correlation_id": cid,
                "context": context,
            })

    def _correlate(self, st: Any, now: float, level: str, message: Any, cid: str, levelno: int,
                   context: dict[str, Any]) -> None:
        topic = correlation_topic(cid, context)
        if levelno >= _ERROR and topic != "error":
            topics: tuple[str, ...] = ("error",) if topic is None else (topic, "error")
        elif topic is None:
            return
        else:
            topics = (topic,)
        for name in topics:
            st.submit(
                _correlation_relpath(self._base, name),
                {
                    "timestamp": now,
                    "correlation_id": cid,
                    "container_id": self._container_id,
                    "component_name": self._component,
                    "message": message,
                    "topic": name,
                    "level": level,
                    "context": context,
                },
                None,
            )

    # One generated method per level (see _level_method): no call into _emit on the hot path.
    debug = _level_method(
        "DEBUG", _DEBUG, "Record at DEBUG; keyword arguments become the record's context.")
    info = _level_method("INFO", _INFO, "Record at INFO (also mirrored to master.log).")
    warning = _level_method("WARNING", _WARNING, "Record at WARNING.")
    error = _level_method(
        "ERROR", _ERROR, "Record at ERROR (with a correlation id, also to error_correlations).")
    critical = _level_method("CRITICAL", _CRITICAL, "Record at CRITICAL.")

    def exception(self, message: Any, /, **context: Any) -> None:
        """Record at ERROR with the active exception's traceback in context['traceback']."""
        if self._min > _ERROR:
            return
        try:
            if sys.exc_info()[0] is not None:
                context["traceback"] = traceback.format_exc()
            self._emit("ERROR", _ERROR, message, context)
        except Exception as exc:  # noqa: BLE001 - the writer never raises into its host
            runtime.note_error("exception", exc)

    def log(self, level: str | int, message: Any, /, **context: Any) -> None:
        """Record at a level given by name or number (Loggable protocol)."""
        try:
            levelno = LEVEL_NUMBERS.get(level) if isinstance(level, str) else None
            if levelno is None:
                levelno = self._resolve_level(level, context)
            if levelno < self._min:
                return
            self._emit(runtime.level_name(levelno), levelno, message, context)
        except Exception as exc:  # noqa: BLE001 - the writer never raises into its host
            runtime.note_error("log", exc)

    @staticmethod
    def _resolve_level(level: Any, context: dict[str, Any]) -> int:
        try:
            return runtime.level_number(level)
        except Exception:  # noqa: BLE001 - the writer never raises into its host
            # An unknown level still gets written (at INFO) rather than lost.
            runtime.count("bad_levels")
            context["level_given"] = repr(level)
            return _INFO

    # Aliases the seeds use (add_logging attaches the same names to any object).
    def log_debug(self, message: Any, /, **context: Any) -> None:
        """Alias of debug()."""
        self.debug(message, **context)

    def log_info(self, message: Any, /, **context: Any) -> None:
        """Alias of info()."""
        self.info(message, **context)

    def log_warning(self, message: Any, /, **context: Any) -> None:
        """Alias of warning()."""
        self.warning(message, **context)

    def log_error(self, message: Any, /, **context: Any) -> None:
        """Alias of error()."""
        self.error(message, **context)

    def log_critical(self, message: Any, /, **context: Any) -> None:
        """Alias of critical()."""
        self.critical(message, **context)

    # ------------------------------------------------------------ bound context
    def set_context(self, **context: Any) -> None:
        """Bind context merged into every record of this logger (call values win)."""
        try:
            self._bound = {**self._bound, **context}  # copy-on-write: readers never see a half
        except Exception as exc:  # noqa: BLE001 - the writer never raises into its host
            runtime.note_error("set_context", exc)

    def clear_context(self, *keys: str) -> None:
        """Drop the given bound keys, or all of them when none are given."""
        self._bound = {k: v for k, v in self._bound.items() if keys and k not in keys}

    @property
    def bound_context(self) -> dict[str, Any]:
        """A copy of the bound context."""
        return dict(self._bound)

    # ------------------------------------------------------------ correlation (CorrelationAware)
    def set_correlation_id(self, correlation_id: str | None) -> None:
        """Make correlation_id active in the current context (shared by every logger in it)."""
        try:
            CORRELATION_ID.set(None if correlation_id is None else str(correlation_id))
        except Exception as exc:  # noqa: BLE001 - the writer never raises into its host
            runtime.note_error("set_correlation_id", exc)

    def get_correlation_id(self) -> str | None:
        """The correlation id active in the current context."""
        return CORRELATION_ID.get()

    # ------------------------------------------------------------ metrics (metrics/<cid>.log)
    def _metric(self, kind: str, name: Any, value: Any, tags: dict[str, Any],
                extra: dict[str, Any] | None = None) -> None:
        st = runtime._STATE
        glob = st.global_context
        context = {**glob, **self._bound} if glob else dict(self._bound)
        if extra:
            context.update(extra)
        record = {
            "timestamp": st.clock(),
            "record_type": kind,
            "container_id": self._container_id,
            "component_name": self._component,
            "name": str(name),
            "value": value,
            "tags": tags,
            "correlation_id": CORRELATION_ID.get(),
            "context": context,
        }
        st.submit(self._metrics_relpath, record, None)
        if st.router is not None:
            runtime.route(kind, record)

    def metric(self, name: str, value: float, **tags: Any) -> None:
        """Record a gauge-like value (record_type "metric")."""
        try:
            self._metric("metric", name, _number(value), tags)
        except Exception as exc:  # noqa: BLE001 - the writer never raises into its host
            runtime.note_error("metric", exc)

    def counter(self, name: str, inc: float = 1, **tags: Any) -> None:
        """Record a counter increment (record_type "counter", value = inc)."""
        try:
            self._metric("counter", name, _number(inc), tags)
        except Exception as exc:  # noqa: BLE001 - the writer never raises into its host
            runtime.note_error("counter", exc)

    def latency(self, operation: str, duration_ms: float, **tags: Any) -> None:
        """Record how long an operation took, in milliseconds (record_type "latency")."""
        try:
            self._metric("latency", operation, _number(duration_ms), tags)
        except Exception as exc:  # noqa: BLE001 - the writer never raises into its host
            runtime.note_error("latency", exc)

    def audit(self, event: str, **context: Any) -> None:
        """Record an audit event (record_type "audit"; value null; context = the kwargs)."""
        try:
            self._metric("audit", event, None, {}, context)
        except Exception as exc:  # noqa: BLE001 - the writer never raises into its host
            runtime.note_error("audit", exc)

    def time_operation(self, name: str, **tags: Any) -> OperationTimer:
        """Context manager and decorator recording the wall duration as a latency record."""
        return OperationTimer(self, name, tags)

    # ------------------------------------------------------------ flows (EventTrackable)
    def trace_event(self, event_id: str, source: str, target: str, **context: Any) -> None:
        """One flow hop in flows/<container_id>_event_flows.log (external when tier= is given)."""
        try:
            st = runtime._STATE
            tier = context.pop("tier", None)
            tier = getattr(tier, "value", tier)
            if tier is not None and tier not in TIERS:
                runtime.count("invalid_tiers")
            latency_ms = context.pop("latency_ms", None)
            event_type = context.pop("event_type", None)
            record = {
                "timestamp": st.clock(),
                "event_id": event_id,
                "correlation_id": context.pop("correlation_id", None) or CORRELATION_ID.get(),
                "source": source,
                "target": target,
                "flow_type": "internal" if tier is None else "external",
                "tier": tier,
                "container_id": self._container_id,
                "latency_ms": latency_ms,
                "event_type": event_type,
                "context": context,
            }
            st.submit(self._flows_relpath, record, None)
            if self._trace_buffer is not None:
                self._trace_buffer.append(record)
        except Exception as exc:  # noqa: BLE001 - the writer never raises into its host
            runtime.note_error("trace_event", exc)

    # ------------------------------------------------------------ Debuggable
    def enable_tracing(self, enabled: bool) -> None:
        """Keep the last trace_event() hops in memory too (capture_state() shows them)."""
        self._trace_buffer = deque(maxlen=_TRACE_BUFFER) if enabled else None

    def capture_state(self) -> dict[str, Any]:
        """A snapshot for debugging: identity, level, bound context, recent traced hops."""
        return {
            "container_id": self._container_id,
            "component_name": self._component,
            "level": self.level,
            "relpath": self._relpath,
            "bound_context": dict(self._bound),
            "correlation_id": CORRELATION_ID.get(),
            "tracing": self._trace_buffer is not None,
            "recent_events": list(self._trace_buffer or ()),
        }

    def __repr__(self) -> str:
        return f"ContainerLogger({self._container_id!r}, {self._component!r})"


class OperationTimer:
    """Times a block or each call of a decorated function and records a latency."""

    __slots__ = ("_logger", "_name", "_starts", "_tags")

    def __init__(self, logger: ContainerLogger, name: str, tags: dict[str, Any]) -> None:
        self._logger = logger
        self._name = name
        self._tags = tags
        self._starts: list[float] = []

    def __enter__(self) -> OperationTimer:
        self._starts.append(time.perf_counter())
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            start = self._starts.pop()
            self._logger.latency(self._name, (time.perf_counter() - start) * 1000.0, **self._tags)
        except Exception as err:  # noqa: BLE001 - the writer never raises into its host
            runtime.note_error("time_operation", err)

    def __call__(self, fn: F) -> F:
        logger, name, tags = self._logger, self._name, self._tags
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def timed_async(*args: Any, **kwargs: Any) -> Any:
                start = time.perf_counter()
                try:
                    return await fn(*args, **kwargs)
                finally:
                    logger.latency(name, (time.perf_counter() - start) * 1000.0, **tags)

            return timed_async  # type: ignore[return-value]

        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                logger.latency(name, (time.perf_counter() - start) * 1000.0, **tags)

        return timed  # type: ignore[return-value]


def text(value: object) -> str:
    """str(value); its repr (counted) when __str__ raises."""
    if isinstance(value, str):
        return value
    try:
        return str(value)
    except Exception as exc:  # noqa: BLE001 - the writer never raises into its host
        runtime.note_error("get_logger", exc)
    try:
        return repr(value)
    except Exception:  # noqa: BLE001
        return f"<{type(value).__name__}>"


def get_logger(container_id: str, component: str = "main") -> ContainerLogger:
    """The cached logger for (container_id, component); never raises."""
    key = (text(container_id), text(component))
    cache = runtime._STATE.logger_cache
    logger = cache.get(key)
    if logger is None:
        with runtime._STATE.lock:
            logger = cache.get(key)
            if logger is None:
                logger = ContainerLogger(*key)
                cache[key] = logger
    return logger
