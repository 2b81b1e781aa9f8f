"""The log manager: a tree's lifecycle (containers, maintenance thread, monitoring, system/)."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import deque
from dataclasses import replace
from pathlib import Path
from typing import Any, Final

from logtool import retention
from logtool.contract import (
    ARCHIVED_DIR,
    CONTAINERS_DIR,
    CORRELATIONS_DIR,
    EVENTS_DIR,
    FLOWS_DIR,
    LOG_SUFFIX,
    METRICS_DIR,
    SYSTEM_DIR,
    is_valid_path_part,
)
from logtool.errors import BadInputError
from logtool.ops import monitor
from logtool.ops.config import LogtoolConfig, default_backends, default_rules, load_config
from logtool.write import runtime
from logtool.write.logger import ContainerLogger, get_logger

# system/ files the manager writes (and `logtool status` reads back).
MANAGER_LOG: Final = "log_manager"
ALERTS_LOG: Final = "alerts"
WRITER_STATS_LOG: Final = "writer_stats"
MANAGER_COMPONENT: Final = "log_manager"
DEFAULT_MAINTENANCE_INTERVAL: Final = 3600.0


def system_relpath(name: str) -> str:
    """system/<name>.log relative to the root."""
    return f"{SYSTEM_DIR}/{name}{LOG_SUFFIX}"


class ContainerLogRegistry:
    """Hands out one container's component loggers; the manager closes it on unregister."""

    def __init__(self, container_id: str, manager: LogManager) -> None:
        self.container_id = container_id
        self.created = time.time()
        self._manager = manager
        self._loggers: dict[str, ContainerLogger] = {}
        self.closed = False

    def get_logger(self, component: str) -> ContainerLogger:
        """The logger for a component of this container (containers/<id>/<component>.log)."""
        if self.closed:
            raise BadInputError(f"container {self.container_id!r} was unregistered")
        if not is_valid_path_part(component):
            raise BadInputError(f"component name {component!r} is not a valid file name part")
        logger = self._loggers.get(component)
        if logger is None:
            logger = self._loggers[component] = get_logger(self.container_id, component)
        return logger

    create_component_logger = get_logger  # the seed's name

    @property
    def components(self) -> list[str]:
        """Component names handed out so far."""
        return sorted(self._loggers)

    def stats(self) -> dict[str, Any]:
        """Registry facts for get_status()."""
        return {"container_id": self.container_id, "components": self.components,
                "created": self.created, "closed": self.closed}


class _Observer:
    """The writer's router hook: counts records/errors per container, then forwards to a Router."""

    def __init__(self, tracker: monitor.ErrorRateTracker, downstream: Any | None) -> None:
        self.tracker = tracker
        self.downstream = downstream

    def dispatch(self, kind: str, record: dict[str, Any]) -> None:
        self.tracker.observe(kind, record)
        if self.downstream is not None:
            self.downstream.dispatch(kind, record)


class LogManager:
    """Coordinator-level owner of a log tree.

    Configures the process's writer for `root`, hands out per-container registries, runs
    maintenance (rotation, compression, archive, deletion, size cap: logtool.retention) and
    monitoring (disk usage, error rate, writer counters) on one background thread, and records
    every lifecycle action and alert in system/ with event_scope lifecycle_management.
    One LogManager per process: the writer it configures is process-wide.
    """

    def __init__(
        self,
        coordinator_id: str,
        root: str | os.PathLike[str] | None = None,
        config: LogtoolConfig | str | os.PathLike[str] | None = None,
        *,
        maintenance_interval_seconds: float = DEFAULT_MAINTENANCE_INTERVAL,
        start_thread: bool = True,
        routing: bool | None = None,
    ) -> None:
        if not is_valid_path_part(coordinator_id):
            raise BadInputError(f"coordinator id {coordinator_id!r} is not a valid file name part")
        if maintenance_interval_seconds <= 0:
            raise BadInputError("maintenance_interval_seconds must be greater than 0")
        cfg = config if isinstance(config, LogtoolConfig) else load_config(
            None if config is None else Path(config))
        self.coordinator_id = coordinator_id
        self.root = Path(root if root is not None else cfg.coordinator.log_dir).absolute()
        self.config = replace(cfg, coordinator=replace(cfg.coordinator, log_dir=self.root,
                                                       coordinator_id=coordinator_id))
        self.policy = self.config.logging.retention
        self.monitoring = self.config.logging.monitoring
        self.maintenance_interval = maintenance_interval_seconds
        self.registries: dict[str, ContainerLogRegistry] = {}
        self.tracker = monitor.ErrorRateTracker()
        cooldown = max(monitor.WINDOW_SECONDS, self.monitoring.check_interval_seconds)
        self.gate = monitor.AlertGate(cooldown)
        self.alerts: deque[monitor.Alert] = deque(maxlen=100)
        self.last_maintenance: dict[str, Any] | None = None
        self.maintenance_passes = 0
        self._lock = threading.RLock()
        self._maintenance_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._emergency = False
        self._closed = False
        self._thread: threading.Thread | None = None

        self._init_tree()
        self._configure_writer()
        self.router = self._start_router(routing)
        self._observer = _Observer(self.tracker, self.router)
        runtime.set_router(self._observer)
        self._system = ContainerLogger(coordinator_id, MANAGER_COMPONENT,
                                       relpath=system_relpath(MANAGER_LOG), mirror=None)
        self._alerts_log = ContainerLogger(coordinator_id, MANAGER_COMPONENT,
                                           relpath=system_relpath(ALERTS_LOG), mirror=None)
        self._stats_log = ContainerLogger(coordinator_id, MANAGER_COMPONENT,
                                          relpath=system_relpath(WRITER_STATS_LOG), mirror=None)
        self._lifecycle("info", "Log management system initialized", "initialization",
                        root=str(self.root), config_source=self.config.source,
                        retention=policy_dict(self.policy),
                        maintenance_interval_seconds=self.maintenance_interval,
                        check_interval_seconds=self.monitoring.check_interval_seconds,
                        disk_alert_threshold_gb=self.monitoring.disk_usage_alert_threshold_gb,
                        error_rate_alert_threshold=self.monitoring.error_rate_alert_threshold,
                        routing=self.router is not None)
        if start_thread:
            self._thread = threading.Thread(target=self._run, name="logtool-manager", daemon=True)
            self._thread.start()

    # ------------------------------------------------------------ setup

    def _init_tree(self) -> None:
        for name in (CONTAINERS_DIR, FLOWS_DIR, SYSTEM_DIR, CORRELATIONS_DIR, EVENTS_DIR,
                     METRICS_DIR, ARCHIVED_DIR):
            (self.root / name).mkdir(parents=True, exist_ok=True)

    def _configure_writer(self) -> None:
        lg = self.config.logging
        levels = {cid: c.level for cid, c in self.config.containers.items()}
        levels[self.coordinator_id] = lg.log_levels.lifecycle_management
        # Rotated files are compressed by the maintenance pass (not the writer) so that
        # compression and archiving never work on the same file at once.
        runtime.configure(
            self.root, lg.log_levels.containers,
            max_file_size_mb=lg.performance.max_file_size_mb,
            compress_rotated=False,
            container_levels=levels,
        )
        if lg.global_context:
            runtime.set_global_context(**lg.global_context)

    def _start_router(self, routing: bool | None) -> Any | None:
        lg = self.config.logging
        if routing is None:
            # Built-in defaults (or a config made in code without backends) mean "tree only";
            # a file that names its own backends or rules asks for routing.
            customized = (dict(lg.backends) != default_backends(lg.environment)
                          or tuple(lg.routing_rules) != default_rules(lg.environment))
            routing = bool(lg.backends) and bool(lg.routing_rules) and customized
        if not routing:
            return None
        from logtool.ops.routing import Router

        return Router.from_config(self.config).start()

    # ------------------------------------------------------------ containers

    def register_container(self, container_id: str) -> ContainerLogRegistry:
        """Start logging for a container; returns its registry (the same one if registered)."""
        if not is_valid_path_part(container_id):
            raise BadInputError(f"container id {container_id!r} is not a valid file name part")
        with self._lock:
            registry = self.registries.get(container_id)
            if registry is not None:
                return registry
            (self.root / CONTAINERS_DIR / container_id).mkdir(parents=True, exist_ok=True)
            runtime.set_level(self.config.container_level(container_id), container_id)
            registry = self.registries[container_id] = ContainerLogRegistry(container_id, self)
        self._lifecycle("info", "Registered container for logging", "container_registration",
                        container=container_id,
                        level=self.config.container_level(container_id),
                        log_dir=f"{CONTAINERS_DIR}/{container_id}")
        return registry

    def unregister_container(self, container_id: str) -> bool:
        """Close a container's loggers and flush its records; False if it was not registered."""
        with self._lock:
            registry = self.registries.pop(container_id, None)
        if registry is None:
            return False
        registry.closed = True
        flushed = runtime.flush()
        counts = self.tracker.totals().get(container_id, {"records": 0, "errors": 0})
        self._lifecycle("info", "Unregistered container logging", "container_cleanup",
                        container=container_id, components=registry.components,
                        flushed=flushed, **counts)
        runtime.flush()  # the cleanup record too, so that `logtool status` sees it at once
        return True

    @property
    def active_containers(self) -> list[str]:
        """Containers registered and not yet unregistered."""
        with self._lock:
            return sorted(self.registries)

    # ------------------------------------------------------------ system records

    def _lifecycle(self, severity: str, message: str, operation: str, **context: Any) -> None:
        getattr(self._system, severity)(message, lifecycle_operation=operation,
                                     coordinator_id=self.coordinator_id, **context)

    def _raise_alert(self, alert: monitor.Alert) -> None:
        self.alerts.append(alert)
        self._alerts_log.warning(alert.message, lifecycle_operation="alert",
                                 coordinator_id=self.coordinator_id, **alert.as_context())

    def write_writer_stats(self) -> dict[str, Any]:
        """Record the writer's counters, error rates and active containers in system/."""
        counters = monitor.writer_counters(runtime.stats())
        snapshot = {
            "writer": counters,
            "active_containers": self.active_containers,
            "errors_per_minute": self.tracker.per_minute(),
            "containers": self.tracker.totals(),
        }
        self._stats_log.info("writer_stats", lifecycle_operation="writer_stats",
                             coordinator_id=self.coordinator_id, **snapshot)
        return snapshot

    # ------------------------------------------------------------ monitoring

    def check_now(self) -> list[monitor.Alert]:
        """Measure, raise alerts past thresholds (an emergency pass for disk), record stats."""
        usage = retention.tree_size(self.root)
        alerts = monitor.check_thresholds(
            usage, self.monitoring.disk_usage_alert_threshold_gb,
            self.tracker.per_minute(), self.monitoring.error_rate_alert_threshold,
        )
        raised = [a for a in alerts if self.gate.admit(a)]
        for alert in raised:
            self._raise_alert(alert)
        if self.monitoring.performance_metrics_enabled:
            self.write_writer_stats()
        if any(a.kind == "disk_usage" for a in raised):
            self.run_maintenance(reason="emergency")
        return raised

    # ------------------------------------------------------------ maintenance

    def run_maintenance(self, reason: str = "manual") -> dict[str, Any]:
        """One maintenance pass now: rotate and archive old live files, compress rotated
        files, delete expired archives, enforce the size cap; every action recorded."""
        with self._maintenance_lock:
            return self._maintain(reason)

    def _pass_policy(self, reason: str) -> retention.RetentionPolicy:
        threshold = self.monitoring.disk_usage_alert_threshold_gb
        if reason != "emergency" or threshold is None:
            return self.policy
        # Under disk pressure the alert threshold is the cap, unless the policy's is lower.
        cap = self.policy.max_total_size_gb
        return replace(self.policy, max_total_size_gb=threshold if cap is None
                       else min(cap, threshold))

    def _maintain(self, reason: str) -> dict[str, Any]:
        started = time.monotonic()
        policy = self._pass_policy(reason)
        self._lifecycle("info", "Starting log maintenance", "maintenance_start", reason=reason)
        summary: dict[str, Any] = {"reason": reason, "archived": 0, "deleted": 0,
                                   "compressed": 0, "bytes_freed": 0, "errors": [],
                                   "skipped": []}
        try:
            sink = runtime.current_sink()
            max_mb = self.config.logging.performance.max_file_size_mb
            sink.set_max_bytes(int(max_mb * 2**20))
            runtime.flush()
            # Live files due for archiving are renamed aside under an exclusive flock by
            # retention (the writer's own rotation protocol): the writer reopens a fresh file
            # and nothing lands in the one being archived.
            compress = (policy.compression_enabled
                        and self.config.logging.performance.enable_compression)
            actions = retention.plan(self.root, policy, compress_rotated=compress)
            result = retention.apply(self.root, actions, policy=policy)
        except BadInputError as exc:
            summary["errors"].append(str(exc))
            self._lifecycle("warning", "Log maintenance skipped", "maintenance_error",
                            reason=reason, error=str(exc))
            return self._finish(summary, started)
        except Exception as exc:  # noqa: BLE001 - maintenance must never kill the host
            summary["errors"].append(f"{type(exc).__name__}: {exc}")
            self._lifecycle("error", "Error during log maintenance", "maintenance_error",
                            reason=reason, error=f"{type(exc).__name__}: {exc}")
            return self._finish(summary, started)
        for action in result.done:
            verb = {"archive": "Archived", "delete": "Deleted", "compress": "Compressed"}
            self._lifecycle("info", f"{verb[action.action]} {action.path}", action.action,
                            path=action.path, bytes=action.bytes, why=action.reason,
                            to=result.archived_to.get(action.path))
        data = result.as_dict()
        for key in ("archived", "deleted", "compressed", "bytes_freed", "errors", "skipped"):
            summary[key] = data[key]
        summary["temp_files_removed"] = result.temp_files_removed
        return self._finish(summary, started)

    def _finish(self, summary: dict[str, Any], started: float) -> dict[str, Any]:
        summary["duration_ms"] = round((time.monotonic() - started) * 1000, 3)
        summary["tree_bytes"] = retention.tree_size(self.root)
        self.last_maintenance = summary
        self.maintenance_passes += 1
        self._lifecycle("warning" if summary["errors"] else "info", "Log maintenance completed",
                        "maintenance_complete", **summary)
        runtime.flush()  # lifecycle records on disk for `logtool status`
        return summary

    def trigger_maintenance(self) -> None:
        """Ask the background thread for a pass now (returns at once)."""
        self._emergency = True
        self._wake.set()

    def _run(self) -> None:
        next_check = time.monotonic() + self.monitoring.check_interval_seconds
        next_pass = time.monotonic() + self.maintenance_interval
        while not self._stop.is_set():
            self._wake.wait(max(0.0, min(next_check, next_pass) - time.monotonic()))
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                now = time.monotonic()
                if self._emergency or now >= next_pass:
                    reason = "requested" if self._emergency else "scheduled"
                    self._emergency = False
                    self.run_maintenance(reason)
                    next_pass = time.monotonic() + self.maintenance_interval
                if now >= next_check:
                    self.check_now()
                    next_check = time.monotonic() + self.monitoring.check_interval_seconds
            except Exception as exc:  # noqa: BLE001 - the thread keeps going
                with contextlib.suppress(Exception):
                    self._lifecycle("error", "Error in the manager thread", "maintenance_error",
                                    error=f"{type(exc).__name__}: {exc}")

    # ------------------------------------------------------------ status and shutdown

    def get_status(self) -> dict[str, Any]:
        """This manager's live view: containers, disk, retention, writer counters, alerts."""
        from logtool.ops import status

        disk = status.tree_usage(self.root)
        return {
            "coordinator_id": self.coordinator_id,
            "root": str(self.root),
            "active_containers": self.active_containers,
            "registries": {cid: r.stats() for cid, r in dict(self.registries).items()},
            **disk,
            "disk_alert_threshold_gb": self.monitoring.disk_usage_alert_threshold_gb,
            "retention": policy_dict(self.policy),
            "writer": monitor.writer_counters(runtime.stats()),
            "errors_per_minute": self.tracker.per_minute(),
            "alerts": [a.as_context() | {"message": a.message} for a in self.alerts],
            "last_maintenance": self.last_maintenance,
            "maintenance_passes": self.maintenance_passes,
            "router": self.router.stats() if self.router is not None else None,
        }

    def shutdown(self, timeout: float = 30.0) -> dict[str, Any] | None:
        """Unregister every container, stop the thread, run a final maintenance pass, close
        the router and the writer. Idempotent; returns the final pass's summary."""
        if self._closed:
            return None
        self._closed = True
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        for cid in self.active_containers:
            self.unregister_container(cid)
        summary = self.run_maintenance("shutdown")
        if self.monitoring.performance_metrics_enabled:
            self.write_writer_stats()
        self._lifecycle("info", "Log manager shut down", "shutdown")
        if runtime.state().router is self._observer:
            runtime.set_router(None)
        if self.router is not None:
            self.router.close(timeout)
        runtime.shutdown(timeout)
        return summary

    def __enter__(self) -> LogManager:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


def policy_dict(policy: retention.RetentionPolicy) -> dict[str, Any]:
    """Retention settings as recorded and shown by status (max_age_days = delete_after_days)."""
    return {
        "archive_after_days": policy.archive_after_days,
        "max_age_days": policy.delete_after_days,
        "max_total_size_gb": policy.max_total_size_gb,
        "compression_enabled": policy.compression_enabled,
        "min_age_minutes": policy.min_age_minutes,
    }
