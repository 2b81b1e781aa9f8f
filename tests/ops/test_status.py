"""Tests for logtool.ops.status on hand-written trees (not only trees made by the manager)."""

from __future__ import annotations

import json
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from logtool.errors import BadInputError
from logtool.ops.config import LogtoolConfig
from logtool.ops.status import read_status, tail_records, tree_usage
from logtool.retention import RetentionPolicy


def rec(ts: str, op: str, message: str = "m", level: str = "INFO", **ctx: Any) -> str:
    """One system/ record line with the contract fields."""
    return json.dumps({
        "timestamp": ts, "level": level, "container_id": "coord",
        "component_name": "log_manager", "message": message,
        "event_scope": "lifecycle_management", "correlation_id": None,
        "context": {"lifecycle_operation": op, "coordinator_id": "coord", **ctx},
    }) + "\n"


def write(path: Path, text: str | bytes, age_s: float = 0.0) -> None:
    """Write a file and set its mtime age_s seconds ago."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    t = time.time() - age_s
    os.utime(path, (t, t))


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A tree with two containers, an archive and a manager history in system/."""
    root = tmp_path / "logs"
    write(root / "logtool.json", "{}")
    write(root / "containers/a/x.log", "1" * 100, age_s=10)
    write(root / "containers/a/x.20260101T000000.log.gz", "2" * 50, age_s=3 * 86400)
    write(root / "containers/b/y.log", "3" * 30, age_s=3600)
    write(root / "archived/2026-01-01/containers/a/x.log.gz", "4" * 20, age_s=40 * 86400)
    write(root / "system/log_manager.log", "".join([
        rec("2026-11-20T10:00:00.000000Z", "initialization", retention={
            "archive_after_days": 3, "max_age_days": 9, "max_total_size_gb": 1.0,
            "compression_enabled": True, "min_age_minutes": 10}, disk_alert_threshold_gb=2.0),
        rec("2026-11-20T10:00:01.000000Z", "container_registration", container="a"),
        rec("2026-11-20T10:00:02.000000Z", "container_registration", container="b"),
        "{not json\n",
        rec("2026-11-20T10:00:03.000000Z", "container_cleanup", container="b"),
        rec("2026-11-20T10:00:04.000000Z", "writer_stats"),
        rec("2026-11-20T10:00:05.000000Z", "archive", "Archived x", path="containers/a/x.log"),
    ]))
    write(root / "system/alerts.log", rec("2026-11-20T10:00:06.000000Z", "alert",
                                          "Container a logged 12 errors", "WARNING",
                                          alert="error_rate", value=12, threshold=10,
                                          container_id="a"))
    write(root / "system/writer_stats.log", rec("2026-11-20T10:00:04.000000Z", "writer_stats",
                                                writer={"written": 42},
                                                active_containers=["a"],
                                                errors_per_minute={"a": 12}))
    return root


def test_tree_usage_counts_files_bytes_and_oldest(tree: Path) -> None:
    """Per-container files and bytes, archived totals, and the oldest non-archived log."""
    usage = tree_usage(tree)
    assert usage["containers"]["a"]["files"] == 2
    assert usage["containers"]["a"]["bytes"] == 150
    assert usage["containers"]["a"]["compressed_files"] == 1
    assert usage["containers"]["a"]["recently_active"] is True
    assert usage["containers"]["b"]["recently_active"] is False
    assert usage["archived_files"] == 1 and usage["archived_bytes"] == 20
    assert usage["oldest_log"]["path"] == "containers/a/x.20260101T000000.log.gz"
    assert usage["total_bytes"] == sum(p.stat().st_size for p in tree.rglob("*") if p.is_file())


def test_read_status_replays_lifecycle(tree: Path) -> None:
    """Active containers come from register/cleanup records since the last initialization."""
    status = read_status(tree)
    assert status["coordinator_id"] == "coord"
    assert status["active_containers"] == ["a"]
    assert status["manager_running"] is True
    assert status["retention"]["archive_after_days"] == 3
    assert status["retention_source"] == "recorded by the log manager"
    assert status["size_cap_gb"] == 1.0
    assert status["disk_alert_threshold_gb"] == 2.0
    assert status["writer"] == {"written": 42}
    assert [r["operation"] for r in status["recent_lifecycle"]] == [
        "initialization", "container_registration", "container_registration",
        "container_cleanup", "archive"]
    assert status["recent_alerts"][0]["context"]["alert"] == "error_rate"
    assert status["skipped_lines"] == 1


def test_shutdown_record_clears_active(tree: Path) -> None:
    """After a shutdown record no container is active and the manager is shown as stopped."""
    with (tree / "system/log_manager.log").open("a") as fh:
        fh.write(rec("2026-11-20T11:00:00.000000Z", "shutdown"))
    status = read_status(tree)
    assert status["active_containers"] == []
    assert status["manager_running"] is False


def test_config_overrides_recorded_retention(tree: Path) -> None:
    """With a config, retention and thresholds come from it."""
    base = LogtoolConfig()
    cfg = replace(base, logging=replace(base.logging, retention=RetentionPolicy(
        archive_after_days=1, delete_after_days=2)))
    status = read_status(tree, cfg)
    assert status["retention"]["archive_after_days"] == 1
    assert status["retention"]["max_age_days"] == 2
    assert status["retention_source"] == "defaults"


def test_without_initialization_in_tail_uses_snapshot(tree: Path) -> None:
    """When the history tail lacks the start, the last writer_stats snapshot is the base."""
    write(tree / "system/log_manager.log",
          rec("2026-11-20T10:00:09.000000Z", "container_registration", container="c"))
    status = read_status(tree)
    assert status["active_containers"] == ["a", "c"]


def test_tail_records_drops_partial_first_line(tmp_path: Path) -> None:
    """Reading only the end of a file never parses a cut-off first line."""
    path = tmp_path / "f.log"
    lines = [json.dumps({"i": i, "pad": "x" * 50}) for i in range(100)]
    path.write_text("\n".join(lines) + "\n")
    got, skipped = tail_records(path, 5, max_bytes=500)
    assert [r["i"] for r in got] == [95, 96, 97, 98, 99]
    assert skipped == 0
    assert tail_records(tmp_path / "missing.log", 5) == ([], 0)


def test_non_tree_and_missing_are_bad_input(tmp_path: Path) -> None:
    """A directory that is not a log tree, or a missing path, is a BadInputError (exit 2)."""
    (tmp_path / "plain").mkdir()
    with pytest.raises(BadInputError, match="does not look like a log tree"):
        read_status(tmp_path / "plain")
    with pytest.raises(BadInputError, match="no such directory"):
        read_status(tmp_path / "nope")
