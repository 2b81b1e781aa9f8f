"""`logtool status` from disk: containers, usage, retention, writer counters and system/ history."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from logtool.contract import (
    ARCHIVED_DIR,
    CONTAINERS_DIR,
    GZIP_SUFFIX,
    SYSTEM_DIR,
    TREE_MARKER,
)
from logtool.errors import BadInputError
from logtool.ops.config import LogtoolConfig
from logtool.retention import GB, is_log_file, looks_like_tree, walk_files

# The manager's system/ files (names kept in step with logtool.ops.manager).
MANAGER_LOG = f"{SYSTEM_DIR}/log_manager.log"
ALERTS_LOG = f"{SYSTEM_DIR}/alerts.log"
WRITER_STATS_LOG = f"{SYSTEM_DIR}/writer_stats.log"
TAIL_BYTES = 1 << 20  # history is read from the last MiB of each system file
RECENT_SECONDS = 300.0  # a container that wrote within this is shown as recently active


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def tree_usage(root: str | os.PathLike[str], now: float | None = None) -> dict[str, Any]:
    """Disk facts of a tree: total and archived bytes, per-container files/bytes, oldest log."""
    base = Path(root)
    now = time.time() if now is None else now
    total = archived_bytes = archived_files = files = 0
    containers: dict[str, dict[str, Any]] = {}
    oldest: tuple[float, str] | None = None
    for rel, st in walk_files(base):
        total += st.st_size
        files += 1
        parts = rel.split("/")
        if parts[0] == ARCHIVED_DIR:
            archived_bytes += st.st_size
            archived_files += 1
            continue
        if not is_log_file(parts[-1]):
            continue
        if oldest is None or st.st_mtime < oldest[0]:
            oldest = (st.st_mtime, rel)
        if parts[0] == CONTAINERS_DIR and len(parts) >= 3:
            row = containers.setdefault(parts[1], {"files": 0, "bytes": 0, "compressed_files": 0,
                                                   "last_modified": 0.0})
            row["files"] += 1
            row["bytes"] += st.st_size
            row["compressed_files"] += parts[-1].endswith(GZIP_SUFFIX)
            row["last_modified"] = max(row["last_modified"], st.st_mtime)
    for row in containers.values():
        row["recently_active"] = now - row["last_modified"] <= RECENT_SECONDS
        row["last_modified"] = _iso(row["last_modified"])
    return {
        "total_bytes": total,
        "total_gb": round(total / GB, 6),
        "files": files,
        "archived_bytes": archived_bytes,
        "archived_files": archived_files,
        "containers": dict(sorted(containers.items())),
        "oldest_log": None if oldest is None else {"path": oldest[1], "modified": _iso(oldest[0])},
    }


def tail_records(path: Path, limit: int, max_bytes: int = TAIL_BYTES) -> tuple[list[dict[str, Any]],
                                                                              int]:
    """The last `limit` JSON records of a file (from its last max_bytes) and the lines skipped."""
    try:
        with path.open("rb") as fh:
            size = fh.seek(0, os.SEEK_END)
            start = max(0, size - max_bytes)
            fh.seek(start)
            data = fh.read()
    except FileNotFoundError:
        return [], 0
    except OSError as exc:
        raise BadInputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    lines = data.split(b"\n")
    if start > 0:
        lines = lines[1:]  # the first piece is the end of a line we did not read whole
    records: list[dict[str, Any]] = []
    skipped = 0
    for line in lines:
        if not line.strip():
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError:
            skipped += 1
            continue
        if isinstance(value, dict):
            records.append(value)
        else:
            skipped += 1
    return records[-limit:] if limit else records, skipped


def _context(record: dict[str, Any]) -> dict[str, Any]:
    ctx = record.get("context")
    return ctx if isinstance(ctx, dict) else {}


def _operation(record: dict[str, Any]) -> str | None:
    op = _context(record).get("lifecycle_operation")
    return op if isinstance(op, str) else None


def _manager_state(history: list[dict[str, Any]],
                   snapshot: dict[str, Any] | None) -> dict[str, Any]:
    """Replay register/unregister records since the manager last started."""
    starts = [i for i, r in enumerate(history) if _operation(r) == "initialization"]
    active: set[str] = set()
    begin = 0
    if starts:
        begin = starts[-1]
    elif snapshot is not None:
        active = set(_context(snapshot).get("active_containers") or [])
        cutoff = str(snapshot.get("timestamp", ""))
        history = [r for r in history if str(r.get("timestamp", "")) > cutoff]
    running: bool | None = bool(starts) or None
    init: dict[str, Any] | None = history[begin] if starts else None
    for record in history[begin:]:
        op = _operation(record)
        container = _context(record).get("container")
        if op == "container_registration" and isinstance(container, str):
            active.add(container)
        elif op == "container_cleanup" and isinstance(container, str):
            active.discard(container)
        elif op == "shutdown":
            active.clear()
            running = False
    return {"active_containers": sorted(active), "manager_running": running,
            "initialization": init}


def _summarize(record: dict[str, Any]) -> dict[str, Any]:
    ctx = dict(_context(record))
    ctx.pop("coordinator_id", None)
    return {"timestamp": record.get("timestamp"), "level": record.get("level"),
            "operation": ctx.pop("lifecycle_operation", None), "message": record.get("message"),
            "context": ctx}


def read_status(root: str | os.PathLike[str], config: LogtoolConfig | None = None,
                recent: int = 20) -> dict[str, Any]:
    """The status of a tree as found on disk (the manager may or may not be running)."""
    base = Path(root)
    if not base.is_dir():
        raise BadInputError(f"{base}: no such directory")
    if not looks_like_tree(base):
        raise BadInputError(f"{base}: does not look like a log tree (no {TREE_MARKER}, "
                            "containers/, system/ ...)")
    usage = tree_usage(base)
    history, skipped_history = tail_records(base / MANAGER_LOG, 0)
    alerts, skipped_alerts = tail_records(base / ALERTS_LOG, recent)
    stats, skipped_stats = tail_records(base / WRITER_STATS_LOG, 1)
    snapshot = stats[-1] if stats else None
    state = _manager_state(history, snapshot)
    init_ctx = _context(state["initialization"]) if state["initialization"] else {}
    if config is not None:
        from logtool.ops.manager import policy_dict

        retention = policy_dict(config.logging.retention)
        retention_source = config.source or "defaults"
        threshold = config.logging.monitoring.disk_usage_alert_threshold_gb
    elif isinstance(init_ctx.get("retention"), dict):
        retention = init_ctx["retention"]
        retention_source = "recorded by the log manager"
        threshold = init_ctx.get("disk_alert_threshold_gb")
    else:
        from logtool.ops.config import LoggingConfig
        from logtool.ops.manager import policy_dict

        defaults = LoggingConfig()
        retention = policy_dict(defaults.retention)
        retention_source = "defaults"
        threshold = defaults.monitoring.disk_usage_alert_threshold_gb
    cap = retention.get("max_total_size_gb")
    lifecycle = [_summarize(r) for r in history if _operation(r) not in (None, "writer_stats")]
    snap_ctx = _context(snapshot) if snapshot else {}
    return {
        "root": str(base.resolve()),
        "coordinator_id": init_ctx.get("coordinator_id"),
        "manager_running": state["manager_running"],
        "active_containers": state["active_containers"],
        **usage,
        "size_cap_gb": cap,
        "size_cap_used": None if not cap else round(usage["total_bytes"] / (cap * GB), 6),
        "disk_alert_threshold_gb": threshold,
        "retention": retention,
        "retention_source": retention_source,
        "writer": snap_ctx.get("writer"),
        "writer_stats_at": snapshot.get("timestamp") if snapshot else None,
        "errors_per_minute": snap_ctx.get("errors_per_minute"),
        "recent_lifecycle": lifecycle[-recent:] if recent else lifecycle,
        "recent_alerts": [_summarize(r) for r in alerts],
        "skipped_lines": skipped_history + skipped_alerts + skipped_stats,
    }
