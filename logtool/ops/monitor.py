"""Monitoring for the log manager: error rate per container, tree disk usage, alert decisions."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from logtool.contract import ERROR_LEVELS, SCOPE_LIFECYCLE

GB = 1024**3
WINDOW_SECONDS = 60.0
# At most this many error times are kept per container: enough to tell any sane threshold
# apart, and memory stays bounded however loud a container gets.
MAX_ERRORS_KEPT = 10_000


@dataclass(frozen=True)
class Alert:
    """One threshold crossed: what, for which container (None for the tree), value vs. limit."""

    kind: str  # "disk_usage" | "error_rate"
    value: float
    threshold: float
    container_id: str | None = None
    message: str = ""

    def as_context(self) -> dict[str, Any]:
        """The alert as a record's context."""
        return {"alert": self.kind, "value": self.value, "threshold": self.threshold,
                "container_id": self.container_id}


@dataclass
class _Window:
    times: deque[float] = field(default_factory=lambda: deque(maxlen=MAX_ERRORS_KEPT))
    total: int = 0


class ErrorRateTracker:
    """Counts ERROR and CRITICAL records per container as they are logged (a router-hook observer).

    observe() is on the logging caller's path: a dict lookup, a comparison and a deque append.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._errors: dict[str, _Window] = {}
        self._records: dict[str, int] = {}
        self._lock = threading.Lock()

    def observe(self, kind: str, record: Mapping[str, Any]) -> None:
        """Note one record; only text records at ERROR+ outside lifecycle management count."""
        if kind != "text":
            return
        cid = record.get("container_id")
        if not isinstance(cid, str):
            return
        self._records[cid] = self._records.get(cid, 0) + 1
        if record.get("level") in ERROR_LEVELS and record.get("event_scope") != SCOPE_LIFECYCLE:
            window = self._errors.get(cid)
            if window is None:
                with self._lock:
                    window = self._errors.setdefault(cid, _Window())
            window.times.append(self._clock())
            window.total += 1

    def per_minute(self) -> dict[str, int]:
        """Errors of each container within the last minute."""
        cutoff = self._clock() - WINDOW_SECONDS
        out: dict[str, int] = {}
        with self._lock:
            windows = list(self._errors.items())
        for cid, window in windows:
            times = window.times
            while times and times[0] < cutoff:
                times.popleft()
            out[cid] = len(times)
        return out

    def totals(self) -> dict[str, dict[str, int]]:
        """Records and errors seen per container since the manager started."""
        with self._lock:
            errors = {cid: w.total for cid, w in self._errors.items()}
        return {cid: {"records": n, "errors": errors.get(cid, 0)}
                for cid, n in dict(self._records).items()}


class AlertGate:
    """Decides which crossings become alerts: one per (kind, container) per cooldown."""

    def __init__(self, cooldown_seconds: float, clock: Callable[[], float] = time.monotonic):
        self.cooldown = cooldown_seconds
        self._clock = clock
        self._last: dict[tuple[str, str | None], float] = {}

    def admit(self, alert: Alert) -> bool:
        """Whether this alert should be raised now (not raised for the same key recently)."""
        key = (alert.kind, alert.container_id)
        now = self._clock()
        last = self._last.get(key)
        if last is not None and now - last < self.cooldown:
            return False
        self._last[key] = now
        return True


def check_thresholds(
    disk_bytes: int,
    disk_threshold_gb: float | None,
    errors_per_minute: Mapping[str, int],
    error_rate_threshold: float,
) -> list[Alert]:
    """The alerts a measurement calls for: disk over its threshold, containers over their rate."""
    alerts: list[Alert] = []
    if disk_threshold_gb is not None and disk_bytes > disk_threshold_gb * GB:
        used = disk_bytes / GB
        alerts.append(Alert(
            "disk_usage", round(used, 6), disk_threshold_gb, None,
            f"Log tree uses {used:.3f} GB, over the {disk_threshold_gb:g} GB alert threshold",
        ))
    for cid, count in sorted(errors_per_minute.items()):
        if count > error_rate_threshold:
            alerts.append(Alert(
                "error_rate", count, error_rate_threshold, cid,
                f"Container {cid} logged {count} errors in the last minute "
                f"(threshold {error_rate_threshold:g}/min)",
            ))
    return alerts


WRITER_COUNTERS = (
    "submitted", "written", "dropped_queue_full", "dropped_closed", "write_errors",
    "queue_depth", "max_queue_depth", "last_batch_ms", "max_batch_ms", "rotations",
    "files_open", "refused_paths", "serialize_fallbacks", "dropped_write_errors",
    "api_errors", "router_errors", "last_error",
)


def writer_counters(stats: Mapping[str, Any]) -> dict[str, Any]:
    """The writer counters the manager reports, from logtool.write.runtime.stats()."""
    return {name: stats[name] for name in WRITER_COUNTERS if name in stats}
