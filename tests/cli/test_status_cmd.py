"""Tests for `logtool status` through the CliRunner, over trees made by a real LogManager."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from logtool.cli import app
from logtool.ops.config import LogtoolConfig
from logtool.ops.manager import LogManager
from logtool.write import runtime


@pytest.fixture
def restore_writer() -> Iterator[None]:
    """Put the process-wide writer back as it was after the manager used it."""
    saved = runtime.get_configuration()
    yield
    runtime.set_router(None)
    runtime.shutdown()
    runtime.configure(**saved)


def run_manager(root: Path, *, shut_down: bool) -> LogManager:
    """A manager that registered two containers and logged a little (and maybe shut down)."""
    manager = LogManager("coord", root, LogtoolConfig(), start_thread=False)
    for cid in ("strat_1", "risk_1"):
        log = manager.register_container(cid).get_logger("main")
        log.info("hello", n=1)
        log.error("boom")
    manager.unregister_container("risk_1")
    manager.check_now()
    if shut_down:
        manager.shutdown()
    else:
        assert runtime.flush()
    return manager


def test_status_json_over_running_manager_tree(tmp_path: Path, restore_writer: None) -> None:
    """While the manager runs, status shows the active container, files, counters, history."""
    root = tmp_path / "logs"
    manager = run_manager(root, shut_down=False)
    try:
        result = CliRunner().invoke(app, ["status", str(root), "--json"])
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        assert data["coordinator_id"] == "coord"
        assert data["active_containers"] == ["strat_1"]
        assert set(data["containers"]) == {"strat_1", "risk_1"}
        assert data["containers"]["strat_1"]["files"] == 1
        assert data["writer"]["submitted"] > 0
        assert data["errors_per_minute"] == {"strat_1": 1, "risk_1": 1}
        ops = [r["operation"] for r in data["recent_lifecycle"]]
        assert ops[0] == "initialization" and "container_cleanup" in ops
        assert data["retention"]["archive_after_days"] == 7
    finally:
        manager.shutdown()


def test_status_after_shutdown_and_rich_view(tmp_path: Path, restore_writer: None) -> None:
    """After shutdown no container is active; the table view names the tree and sections."""
    root = tmp_path / "logs"
    run_manager(root, shut_down=True)
    result = CliRunner().invoke(app, ["status", str(root), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["active_containers"] == [] and data["manager_running"] is False
    assert data["recent_lifecycle"][-1]["operation"] == "shutdown"
    view = CliRunner().invoke(app, ["status", str(root)])
    assert view.exit_code == 0, view.output
    for text in ("coordinator", "shut down", "Containers", "strat_1", "Writer counters",
                 "Recent lifecycle actions", "Recent alerts"):
        assert text in view.stdout


def test_status_with_config_file(tmp_path: Path, restore_writer: None) -> None:
    """--config supplies retention settings; without PATH the config's log_dir is used."""
    root = tmp_path / "logs"
    run_manager(root, shut_down=True)
    cfg = tmp_path / "logtool.yaml"
    cfg.write_text(f"coordinator:\n  log_dir: {root}\nlogging:\n  retention_policy:\n"
                   "    archive_after_days: 2\n    max_age_days: 5\n    max_total_size_gb: 4\n")
    result = CliRunner().invoke(app, ["status", "--config", str(cfg), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["retention"]["archive_after_days"] == 2
    assert data["size_cap_gb"] == 4
    assert data["retention_source"] == str(cfg)


def test_broken_config_exits_2_naming_the_key(tmp_path: Path) -> None:
    """An invalid config file is exit 2 with the file and the key path in the message."""
    root = tmp_path / "logs"
    (root / "system").mkdir(parents=True)
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("logging:\n  retention_policy:\n    max_age_days: -3\n")
    result = CliRunner().invoke(app, ["status", str(root), "--config", str(cfg)])
    assert result.exit_code == 2, result.output
    assert "logging.retention_policy.max_age_days" in result.output
    assert "bad.yaml" in result.output


def test_status_of_non_tree_exits_2(tmp_path: Path) -> None:
    """A directory that is not a log tree is refused with exit 2."""
    result = CliRunner().invoke(app, ["status", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "does not look like a log tree" in result.output
