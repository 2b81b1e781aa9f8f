"""Per-container event tracing (seed 004): config-driven, bounded in memory, optionally on disk."""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any, Final

from logtool.contract import EVENTS_SUFFIX
from logtool.write import runtime
from logtool.write.context import CORRELATION_ID
from logtool.write.logger import text

DEFAULT_MAX_EVENTS: Final = 10_000
DEFAULT_TRACE_DIR: Final = "traces"
_EVENT_ATTRS: Final = ("event_id", "event_type", "correlation_id", "source", "target", "payload")


def _plain(value: Any) -> Any:
    return getattr(value, "value", value) if not isinstance(value, str | int | float) else value


def describe_event(event: Any) -> dict[str, Any]:
    """A JSON-friendly dict for any event: a mapping as is, an object by its usual attributes."""
    if isinstance(event, Mapping):
        return {str(k): v for k, v in event.items()}
    out = {name: _plain(getattr(event, name)) for name in _EVENT_ATTRS if hasattr(event, name)}
    if not out:
        out = {"event_type": type(event).__name__, "payload": repr(event)}
    return out


def trace_dir_relpath(trace_dir: Any) -> str:
    """trace_dir as a path below the root: anchors and '.' dropped, every other part escaped."""
    parts = [p for p in PurePath(str(trace_dir)).parts if p not in (".", "") and p != "/"]
    parts = [p for p in parts if not PurePath(p).anchor]  # drive/anchor parts ("/", "C:\\")
    return "/".join(runtime.path_part(p) for p in parts) or DEFAULT_TRACE_DIR


class EventTracer:
    """Keeps the last max_events traced events in memory; with persist_to_disk also writes
    each to <trace_dir>/<trace_id>.jsonl below the tree root. Never raises."""

    def __init__(self, trace_id: str, *, container_id: str | None = None,
                 max_events: int = DEFAULT_MAX_EVENTS, persist_to_disk: bool = False,
                 trace_dir: str = DEFAULT_TRACE_DIR,
                 metadata: Mapping[str, Any] | None = None) -> None:
        self.trace_id = text(trace_id)
        self.container_id = container_id
        if not isinstance(max_events, int) or isinstance(max_events, bool) or max_events < 1:
            runtime.note_error("EventTracer", ValueError(f"max_events {max_events!r} invalid"))
            max_events = DEFAULT_MAX_EVENTS
        self.max_events = max_events
        self.persist_to_disk = bool(persist_to_disk)
        self.metadata = dict(metadata or {})
        self.relpath = (
            f"{trace_dir_relpath(trace_dir)}/{runtime.path_part(self.trace_id)}{EVENTS_SUFFIX}"
        )
        self._events: deque[dict[str, Any]] = deque(maxlen=max_events)
        self._sequence = itertools.count(1)
        self.total = 0
        self._enabled = True

    @property
    def evicted(self) -> int:
        """Events traced but no longer held in memory (max_events reached)."""
        return max(0, self.total - len(self._events))

    def trace_event(self, event: Any, **context: Any) -> None:
        """Record one event (a dict or an object with event_id/event_type/... attributes)."""
        if not self._enabled:
            return
        try:
            st = runtime._STATE
            record: dict[str, Any] = {
                "timestamp": st.clock(),
                "trace_id": self.trace_id,
                "container_id": self.container_id,
                "workflow_id": self.metadata.get("workflow_id"),
                "phase_name": self.metadata.get("phase_name"),
                "sequence": next(self._sequence),
                "correlation_id": CORRELATION_ID.get(),
            }
            record.update(describe_event(event))
            if context:
                record["context"] = context
            self._events.append(record)
            self.total += 1
            if self.persist_to_disk:
                runtime._main_submit(self.relpath, record, None)
        except Exception as exc:  # noqa: BLE001 - the writer never raises into its host
            runtime.note_error("EventTracer.trace_event", exc)

    def events(self) -> list[dict[str, Any]]:
        """The events held in memory, oldest first."""
        return list(self._events)

    # Debuggable
    def enable_tracing(self, enabled: bool) -> None:
        """Pause (False) or resume (True) tracing."""
        self._enabled = bool(enabled)

    def capture_state(self) -> dict[str, Any]:
        """A summary of this tracer for debugging."""
        return self.get_status()

    # LifecycleManaged
    def initialize(self) -> None:
        """Nothing to open: files are opened lazily by the writer."""

    def cleanup(self) -> None:
        """Forget the in-memory events (what was persisted stays on disk)."""
        self._events.clear()

    def get_status(self) -> dict[str, Any]:
        """Counts and settings."""
        return {
            "trace_id": self.trace_id,
            "container_id": self.container_id,
            "enabled": self._enabled,
            "total": self.total,
            "in_memory": len(self._events),
            "evicted": self.evicted,
            "max_events": self.max_events,
            "persist_to_disk": self.persist_to_disk,
            "relpath": self.relpath if self.persist_to_disk else None,
        }

    def __repr__(self) -> str:
        return f"EventTracer({self.trace_id!r}, max_events={self.max_events})"


def _tracing_section(config: Mapping[str, Any]) -> Mapping[str, Any]:
    """The dict holding enable_event_tracing: the config itself or its `execution` section."""
    if "enable_event_tracing" in config or "enable_tracing" in config:
        return config
    execution = config.get("execution")
    return execution if isinstance(execution, Mapping) else config


def setup_container_tracing(container_id: str, config: Mapping[str, Any] | None,
                            metadata: Mapping[str, Any] | None = None) -> EventTracer | None:
    """The container's tracer if its own config enables tracing, else None; never raises.

    config: {"enable_event_tracing": bool, "trace_settings": {max_events, persist_to_disk,
    trace_dir}, "metadata": {workflow_id, phase_name}} (or those keys under "execution";
    `enable_tracing` is accepted as in the seed). The trace id is <workflow_id>_<container_id>.
    """
    try:
        if not config:
            return None
        section = _tracing_section(config)
        enabled = section.get("enable_event_tracing", section.get("enable_tracing", False))
        if not enabled:
            return None
        settings = section.get("trace_settings") or {}
        meta = dict(config.get("metadata") or {})
        meta.update(metadata or {})
        workflow_id = meta.get("workflow_id") or "workflow"
        return EventTracer(
            f"{workflow_id}_{container_id}",
            container_id=container_id,
            max_events=settings.get("max_events", DEFAULT_MAX_EVENTS),
            persist_to_disk=bool(settings.get("persist_to_disk", False)),
            trace_dir=settings.get("trace_dir", DEFAULT_TRACE_DIR),
            metadata=meta,
        )
    except Exception as exc:  # noqa: BLE001 - the writer never raises into its host
        runtime.note_error("setup_container_tracing", exc)
        return None
