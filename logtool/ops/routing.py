"""The Router: rules from the config send each record to named backends, off the caller's thread."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from logtool.errors import ConfigError
from logtool.ops import backends as registry
from logtool.ops.backends import Backend, BackendContext
from logtool.ops.config import LogtoolConfig, RoutingRule

COUNTERS = ("routed", "written", "skipped", "failed", "dropped")


@dataclass
class _Flush:
    """A marker in the queue: everything before it has been handed to the backends."""

    done: threading.Event = field(default_factory=threading.Event)


class Router:
    """Routes (kind, record) pairs to backends by rules; dispatch() only enqueues.

    Per backend it counts routed (a rule sent the record there), written (write() returned),
    skipped (the backend's should_handle refused it: disabled, below its min_level, a kind it
    does not take), failed (write() raised) and dropped (the router's queue was full).
    """

    def __init__(self, backends: Mapping[str, Backend], rules: Sequence[RoutingRule], *,
                 environment: str = "dev", global_context: Mapping[str, Any] | None = None,
                 queue_size: int = 10_000, flush_interval_seconds: float = 1.0,
                 batch_size: int = 1000) -> None:
        self.backends = dict(backends)
        self.rules = tuple(rules)
        self.environment = environment
        self.global_context = dict(global_context or {})
        self.flush_interval_seconds = flush_interval_seconds
        # Backends are flushed every flush_interval_seconds or every batch_size records
        # delivered, whichever comes first (the config's performance section).
        self.batch_size = batch_size
        # A deque: append/popleft are atomic under the GIL, so the caller takes no lock. The
        # bound is checked before appending (it may be exceeded by a few records under races).
        self._queue: deque[tuple[str, Mapping[str, Any]] | _Flush | None] = deque()
        self.queue_size = queue_size
        self._wake = threading.Event()
        self._sleeping = False
        self._counts = {name: dict.fromkeys(COUNTERS, 0) for name in self.backends}
        self._lock = threading.Lock()
        self.unrouted = 0  # records no rule sent anywhere
        self.last_errors: dict[str, str] = {}
        # (kind, level) -> backend names; rules are fixed, so decisions are cached.
        self._targets: dict[tuple[str, str], tuple[str, ...]] = {}
        self._thread: threading.Thread | None = None
        self._closed = False

    # ---------------------------------------------------------------- building

    @classmethod
    def from_config(cls, config: LogtoolConfig, *,
                    tree_sink: Callable[[str, Mapping[str, Any]], None] | None = None,
                    queue_size: int = 10_000) -> Router:
        """Build every enabled backend of config.logging.backends (not started yet: start())."""
        lg = config.logging
        context = BackendContext(root=config.coordinator.log_dir, environment=lg.environment,
                                 coordinator_id=config.coordinator.coordinator_id,
                                 tree_sink=tree_sink)
        built: dict[str, Backend] = {}
        try:
            for name, spec in lg.backends.items():
                if not spec.enabled:
                    continue
                try:
                    built[name] = registry.create_backend(
                        name, spec.type, spec.options, context, min_level=spec.min_level)
                except registry.OptionError as exc:
                    raise ConfigError(exc.message, source=config.source,
                                      key=f"logging.backends.{name}.config.{exc.key}") from None
        except BaseException:
            for backend in built.values():
                backend.close()
            raise
        return cls(built, lg.routing_rules, environment=lg.environment,
                   global_context=lg.global_context, queue_size=queue_size,
                   flush_interval_seconds=lg.performance.flush_interval_seconds,
                   batch_size=lg.performance.batch_size)

    # ---------------------------------------------------------------- the caller's side

    def targets(self, kind: str, level: str | None = None) -> tuple[str, ...]:
        """The backends the rules send a record of this kind and level to (in rule order)."""
        key = (kind, level or "INFO")
        found = self._targets.get(key)
        if found is None:
            names: dict[str, None] = {}
            for rule in self.rules:
                if rule.matches(kind, key[1], self.environment):
                    names.update(dict.fromkeys(n for n in rule.backends if n in self.backends))
            found = self._targets[key] = tuple(names)
        return found

    def dispatch(self, kind: str, record: Mapping[str, Any]) -> None:
        """Queue one record for routing; never blocks: a full queue (or a closed router) drops
        it and counts it."""
        if self._closed or len(self._queue) >= self.queue_size:
            level = record.get("level")
            with self._lock:
                for name in self.targets(kind, level if isinstance(level, str) else None):
                    self._counts[name]["dropped"] += 1
            return
        self._queue.append((kind, record))
        if self._sleeping:
            self._wake.set()

    # ---------------------------------------------------------------- the router's thread

    def start(self) -> Router:
        """Start the draining thread (idempotent); returns self."""
        if self._thread is None and not self._closed:
            self._thread = threading.Thread(target=self._run, name="logtool-router", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        next_flush = time.monotonic() + self.flush_interval_seconds
        pending = 0  # records delivered since the last flush
        pop = self._queue.popleft
        while True:
            try:
                item = pop()
            except IndexError:
                waited = self._idle_wait(next_flush)
                if waited is False:
                    continue
                self._flush_backends(periodic=True)
                next_flush = time.monotonic() + self.flush_interval_seconds
                pending = 0
                continue
            if time.monotonic() >= next_flush and not isinstance(item, _Flush):
                self._flush_backends(periodic=True)
                next_flush = time.monotonic() + self.flush_interval_seconds
                pending = 0
            if item is None:
                self._flush_backends()
                return
            if isinstance(item, _Flush):
                self._flush_backends()
                item.done.set()
                next_flush = time.monotonic() + self.flush_interval_seconds
                pending = 0
                continue
            self._deliver(*item)
            pending += 1
            if pending >= self.batch_size:
                self._flush_backends(periodic=True)
                next_flush = time.monotonic() + self.flush_interval_seconds
                pending = 0

    def _idle_wait(self, next_flush: float) -> bool:
        """Sleep until a record arrives (False: look again) or the periodic flush is due (True)."""
        self._sleeping = True
        if self._queue:  # arrived between the failed pop and the flag: no wake-up was sent
            self._sleeping = False
            return False
        woke = self._wake.wait(max(0.0, next_flush - time.monotonic()))
        self._sleeping = False
        self._wake.clear()
        return not woke

    def _deliver(self, kind: str, record: Mapping[str, Any]) -> None:
        level = record.get("level")
        names = self.targets(kind, level if isinstance(level, str) else None)
        if not names:
            self.unrouted += 1
            return
        routed = self._prepare(kind, record)
        for name in names:
            backend = self.backends[name]
            counts = self._counts[name]
            counts["routed"] += 1
            try:
                if not backend.should_handle(routed):
                    counts["skipped"] += 1
                    continue
                backend.write(routed)
                counts["written"] += 1
            except Exception as exc:  # noqa: BLE001 - a backend's failure is counted, never raised
                counts["failed"] += 1
                self.last_errors[name] = f"{type(exc).__name__}: {exc}"

    def _prepare(self, kind: str, record: Mapping[str, Any]) -> dict[str, Any]:
        routed = dict(record)
        routed["kind"] = kind
        if self.global_context:
            own = record.get("context")
            routed["context"] = ({**self.global_context, **own} if isinstance(own, Mapping)
                                 else dict(self.global_context))
        return routed

    def _flush_backends(self, *, periodic: bool = False) -> None:
        for name, backend in self.backends.items():
            # Backends with their own sender thread and timer (webhook, push gateway) are only
            # flushed on request: a slow target must not stall this thread every interval.
            if periodic and getattr(backend, "self_flushing", False):
                continue
            try:
                backend.flush()
            except Exception as exc:  # noqa: BLE001 - counted like a failed write
                self._counts[name]["failed"] += 1
                self.last_errors[name] = f"flush: {type(exc).__name__}: {exc}"

    # ---------------------------------------------------------------- control

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every record queued before this call reached its backends and they
        flushed; False when that took longer than timeout (or the router is not running)."""
        if self._thread is None or not self._thread.is_alive():
            return False
        marker = _Flush()
        self._queue.append(marker)  # markers bypass the bound: they are tiny and few
        self._wake.set()
        return marker.done.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Deliver what is queued (bounded by timeout), stop the thread, close every backend."""
        if self._closed:
            return
        self._closed = True
        if self._thread is not None and self._thread.is_alive():
            self._queue.append(None)
            self._wake.set()
            self._thread.join(timeout)
        for name, backend in self.backends.items():
            try:
                backend.close()
            except Exception as exc:  # noqa: BLE001 - closing one backend must not stop the rest
                self.last_errors[name] = f"close: {type(exc).__name__}: {exc}"

    def __enter__(self) -> Router:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def stats(self) -> dict[str, Any]:
        """Per backend: routed, written, skipped, failed, dropped (and the backend's own
        counters under "backend" when it has a stats() method); plus queue depth and unrouted."""
        per: dict[str, Any] = {}
        with self._lock:
            for name, counts in self._counts.items():
                per[name] = dict(counts)
        for name, backend in self.backends.items():
            own = getattr(backend, "stats", None)
            if callable(own):
                per[name]["backend"] = own()
            if name in self.last_errors:
                per[name]["last_error"] = self.last_errors[name]
        return {"backends": per, "queued": len(self._queue), "unrouted": self.unrouted}

    # ---------------------------------------------------------------- the writer hook

    def install(self) -> Router:
        """Start and make the writer hand every record it builds to this router."""
        from logtool.write import runtime

        self.start()
        runtime.set_router(self)
        return self

    def uninstall(self) -> None:
        """Stop the writer handing records to this router (the router keeps running)."""
        from logtool.write import runtime

        if runtime.state().router is self:
            runtime.set_router(None)

