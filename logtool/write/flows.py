"""EventFlowTracer: one record per hop between containers/components in flows/<coordinator>."""

from __future__ import annotations

import enum
from typing import Any

from logtool.contract import FLOWS_DIR, FLOWS_SUFFIX, LOG_SUFFIX, TIERS
from logtool.write import runtime
from logtool.write.context import CORRELATION_ID
from logtool.write.logger import text


class EventFlowTracer:
    """Writes flow hops to flows/<coordinator_id>_event_flows.log; never raises.

    An external hop carries its tier (fast/standard/reliable; anything else is written as
    given and counted in stats()['invalid_tiers']); an internal hop has tier null.
    """

    __slots__ = ("_coordinator_id", "_relpath", "hops", "invalid_tiers")

    def __init__(self, coordinator_id: str = "main_coordinator") -> None:
        self._coordinator_id = text(coordinator_id)
        part = runtime.path_part(coordinator_id)
        self._relpath = f"{FLOWS_DIR}/{part}{FLOWS_SUFFIX}{LOG_SUFFIX}"
        self.hops = 0
        self.invalid_tiers = 0

    @property
    def coordinator_id(self) -> str:
        """The coordinator whose flows file this tracer writes."""
        return self._coordinator_id

    @property
    def relpath(self) -> str:
        """The flows file, relative to the tree root."""
        return self._relpath

    def _write(self, *, event_id: Any, source: Any, target: Any, flow_type: str, tier: Any,
               container_id: Any, latency_ms: Any, event_type: Any, correlation_id: Any,
               context: dict[str, Any]) -> None:
        st = runtime._STATE
        record = {
            "timestamp": st.clock(),
            "event_id": None if event_id is None else str(event_id),
            "correlation_id": correlation_id if correlation_id is not None
            else CORRELATION_ID.get(),
            "source": source,
            "target": target,
            "flow_type": flow_type,
            "tier": tier,
            "container_id": container_id,
            "latency_ms": latency_ms,
            "event_type": event_type,
            "context": context,
        }
        st.submit(self._relpath, record, None)
        self.hops += 1

    def trace_external_event(self, event_id: str, source_container: str, target_container: str,
                             tier: str | enum.Enum, latency_ms: float | None = None, *,
                             correlation_id: str | None = None, event_type: str | None = None,
                             **context: Any) -> None:
        """A hop across containers on a tier; container_id is the publishing (source) one."""
        try:
            tier = getattr(tier, "value", tier)  # Enum members are written by value
            if tier not in TIERS:
                self.invalid_tiers += 1
                runtime.count("invalid_tiers")
                tier = tier if isinstance(tier, str | type(None)) else repr(tier)
            self._write(event_id=event_id, source=source_container, target=target_container,
                        flow_type="external", tier=tier, container_id=source_container,
                        latency_ms=latency_ms, event_type=event_type,
                        correlation_id=correlation_id, context=context)
        except Exception as exc:  # noqa: BLE001 - the writer never raises into its host
            runtime.note_error("trace_external_event", exc)

    def trace_internal_event(self, container_id: str, event_id: str, source: str, target: str,
                             latency_ms: float | None = None, *,
                             correlation_id: str | None = None, event_type: str | None = None,
                             **context: Any) -> None:
        """A hop between components inside one container (tier null)."""
        try:
            self._write(event_id=event_id, source=source, target=target, flow_type="internal",
                        tier=None, container_id=container_id, latency_ms=latency_ms,
                        event_type=event_type, correlation_id=correlation_id, context=context)
        except Exception as exc:  # noqa: BLE001 - the writer never raises into its host
            runtime.note_error("trace_internal_event", exc)

    def trace_event(self, event_id: str, source: str, target: str, **context: Any) -> None:
        """EventTrackable: external when a `tier` keyword is given, else internal in `source`."""
        tier = context.pop("tier", None)
        if tier is not None:
            self.trace_external_event(event_id, source, target, tier, **context)
        else:
            container_id = context.pop("container_id", source)
            self.trace_internal_event(container_id, event_id, source, target, **context)

    def __repr__(self) -> str:
        return f"EventFlowTracer({self._coordinator_id!r})"
