"""Run-scoped trees: <root>/<run_id>/<pid>/ with run_metadata.json, logs and events (point 6)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import logtool
from logtool import contract


def test_run_tree_layout_metadata_logs_and_events(tree: Path, read: Any) -> None:
    """create_run_logs writes the metadata file, component logs and events beside them."""
    run = logtool.create_run_logs("bt_20250115", pid=321, strategy="pure_lending", capital=1e5)
    run_dir = tree / "bt_20250115" / "321"
    meta = json.loads((run_dir / contract.RUN_METADATA).read_text())
    assert meta["run_id"] == "bt_20250115" and meta["pid"] == 321
    assert meta["metadata"] == {"strategy": "pure_lending", "capital": 1e5}
    assert meta["created"].endswith("Z") and meta["format_version"] == contract.FORMAT_VERSION
    log = run.get_logger("position_monitor")
    assert log is run.get_logger("position_monitor")
    log.info("Position updated", positions_count=2)
    run.events.log_position_snapshot(positions={"a": 1.0}, total_value_usd=1.0)
    (rec,) = read("bt_20250115/321/position_monitor.log")
    assert rec["container_id"] == "bt_20250115"
    assert rec["component_name"] == "position_monitor"
    (event,) = read("bt_20250115/321/events/positions.jsonl")
    assert event["pid"] == 321 and event["correlation_id"] == "bt_20250115"
    assert read("master.log") == []
    status = run.get_status()
    assert status["metadata_written"] and status["components"] == ["position_monitor"]
    assert status["events"] == {"positions": 1}
    assert isinstance(run, logtool.LifecycleManaged)


def test_run_correlations_and_metrics_stay_in_the_run_tree(tree: Path, read: Any) -> None:
    """Correlation and metric records of run loggers go below the run directory."""
    run = logtool.create_run_logs("bt_corr", pid=1)
    log = run.get_logger("execution_manager")
    with logtool.correlation("trade_r1"):
        log.error("fill failed")
    log.latency("fill", 3.0)
    assert len(read("bt_corr/1/correlations/error_correlations.log")) == 1
    assert len(read("bt_corr/1/correlations/trade_correlations.log")) == 1
    assert read("bt_corr/1/metrics/bt_corr.log")[0]["record_type"] == "latency"
    assert not (tree / "correlations").exists()


def test_default_pid_is_the_process_id(tree: Path) -> None:
    """Without pid the run directory is named after os.getpid()."""
    run = logtool.create_run_logs("bt_pid")
    assert run.pid == os.getpid()
    assert (tree / "bt_pid" / str(os.getpid()) / contract.RUN_METADATA).is_file()


def test_hostile_run_id_is_escaped_inside_root(tree: Path) -> None:
    """A run id like ../../x is escaped to one directory below the root."""
    run = logtool.create_run_logs("../../x", pid=5)
    run.get_logger("c").info("m")
    logtool.flush()
    assert run.path.parent.parent == tree
    assert (run.path / contract.RUN_METADATA).is_file()
    assert all(tree in p.parents for p in tree.parent.rglob("*") if p.is_file())
    assert run.path.parent.name == "%2E.%2F..%2Fx"


def test_unwritable_root_does_not_raise(tmp_path: Path) -> None:
    """A root below a regular file cannot be created (even as root): counted, not raised."""
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    logtool.configure(root=blocker / "logs")
    try:
        run = logtool.create_run_logs("bt_fail", pid=1, a=1)
        run.get_logger("c").info("m")
        assert not run.metadata_written
        assert logtool.stats()["api_errors"] >= 1
        logtool.flush(2.0)
    finally:
        logtool.shutdown()
        logtool.configure(root=tmp_path / "after")
