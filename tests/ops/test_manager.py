"""Tests for logtool.ops.manager: a real writer, real threads and real files in tmp_path."""

from __future__ import annotations

import gzip
import json
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from logtool.errors import BadInputError
from logtool.ops.config import LogtoolConfig, MonitoringConfig, PerformanceConfig
from logtool.ops.manager import LogManager
from logtool.retention import RetentionPolicy
from logtool.write import runtime

DAY = 86_400


def make_config(retention: RetentionPolicy | None = None, *, max_file_size_mb: float = 100.0,
                disk_gb: float | None = None, error_rate: float = 10.0,
                check_interval: float = 3600.0, compression: bool = True) -> LogtoolConfig:
    """A config built in code (the file loader has its own tests)."""
    base = LogtoolConfig()
    logging_cfg = replace(
        base.logging,
        retention=retention or RetentionPolicy(),
        performance=PerformanceConfig(max_file_size_mb=max_file_size_mb,
                                      enable_compression=compression),
        monitoring=MonitoringConfig(disk_usage_alert_threshold_gb=disk_gb,
                                    error_rate_alert_threshold=error_rate,
                                    check_interval_seconds=check_interval),
    )
    return replace(base, logging=logging_cfg)


@pytest.fixture
def managers() -> Iterator[list[LogManager]]:
    """Collects managers made by a test; shuts them down and restores the writer afterwards."""
    made: list[LogManager] = []
    saved = runtime.get_configuration()
    yield made
    for manager in made:
        manager.shutdown()
    runtime.set_router(None)
    runtime.set_global_context()
    runtime.shutdown()
    runtime.configure(**saved)


def records(path: Path) -> list[dict[str, Any]]:
    """Every JSON record of a plain or gzipped file."""
    data = gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()
    return [json.loads(line) for line in data.splitlines() if line.strip()]


def system_records(root: Path, name: str) -> list[dict[str, Any]]:
    """Records of system/<name>.log (live file only)."""
    path = root / "system" / f"{name}.log"
    return records(path) if path.exists() else []


def all_system_records(root: Path, name: str) -> list[dict[str, Any]]:
    """Records of system/<name>.log across live, rotated and archived copies, by time."""
    found: list[dict[str, Any]] = []
    for path in root.rglob(f"{name}*.log*"):
        rel = path.relative_to(root).as_posix()
        if "/system/" in f"/{rel}" and ".logtool-tmp" not in path.name:
            found.extend(records(path))
    return sorted(found, key=lambda r: r["timestamp"])


def operations(root: Path) -> list[str]:
    """The lifecycle_operation of every record in system/log_manager.log, in order."""
    return [r["context"]["lifecycle_operation"] for r in system_records(root, "log_manager")]


def wait_for(check: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    """Poll check() until truthy (bounded wait, never a timed assertion on speed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


def age(path: Path, days: float) -> None:
    """Set a file's mtime days in the past."""
    t = time.time() - days * DAY
    os.utime(path, (t, t))


def test_init_creates_tree_and_records_initialization(tmp_path: Path,
                                                      managers: list[LogManager]) -> None:
    """The manager creates the layout and its first system record is the initialization."""
    root = tmp_path / "logs"
    managers.append(LogManager("coord", root, make_config(), start_thread=False))
    assert runtime.flush()
    for name in ("containers", "flows", "system", "correlations", "events", "archived"):
        assert (root / name).is_dir()
    (first,) = system_records(root, "log_manager")
    assert first["event_scope"] == "lifecycle_management"
    assert first["context"]["lifecycle_operation"] == "initialization"
    assert set(first) >= {"timestamp", "level", "container_id", "component_name", "message",
                          "event_scope", "correlation_id", "context"}
    assert (root / "logtool.json").exists()


def test_register_unregister_flushes_and_closes(tmp_path: Path,
                                                managers: list[LogManager]) -> None:
    """Unregistering flushes: every record is on disk when it returns; the registry is closed."""
    root = tmp_path / "logs"
    manager = LogManager("coord", root, make_config(), start_thread=False)
    managers.append(manager)
    registry = manager.register_container("strat_1")
    assert manager.register_container("strat_1") is registry
    log = registry.get_logger("momentum")
    for i in range(500):
        log.info("tick", i=i)
    assert manager.active_containers == ["strat_1"]
    assert manager.unregister_container("strat_1") is True
    assert len(records(root / "containers/strat_1/momentum.log")) == 500
    assert manager.active_containers == []
    assert manager.unregister_container("strat_1") is False
    with pytest.raises(BadInputError):
        registry.get_logger("momentum")
    ops = operations(root)
    assert ops[-2:] == ["container_registration", "container_cleanup"]
    cleanup = system_records(root, "log_manager")[-1]["context"]
    assert cleanup["container"] == "strat_1" and cleanup["records"] == 500


def test_per_container_level_from_config(tmp_path: Path, managers: list[LogManager]) -> None:
    """containers.<id>.logging.level decides what that container's loggers write."""
    from logtool.ops.config import ContainerConfig

    cfg = replace(make_config(), containers={"quiet": ContainerConfig("quiet", level="WARNING")})
    manager = LogManager("coord", tmp_path / "logs", cfg, start_thread=False)
    managers.append(manager)
    quiet = manager.register_container("quiet").get_logger("c")
    loud = manager.register_container("loud").get_logger("c")
    quiet.info("dropped")
    quiet.warning("kept")
    loud.debug("kept too")
    assert runtime.flush()
    assert [r["message"] for r in records(tmp_path / "logs/containers/quiet/c.log")] == ["kept"]
    assert [r["message"] for r in records(tmp_path / "logs/containers/loud/c.log")] == [
        "kept too"]


def test_bad_ids_are_refused(tmp_path: Path, managers: list[LogManager]) -> None:
    """Ids that cannot be path parts are a BadInputError, nothing is created outside the root."""
    manager = LogManager("coord", tmp_path / "logs", make_config(), start_thread=False)
    managers.append(manager)
    with pytest.raises(BadInputError):
        manager.register_container("../escape")
    with pytest.raises(BadInputError):
        manager.register_container("ok").get_logger("a/b")
    assert not (tmp_path / "escape").exists()


def all_container_ids(root: Path) -> Counter[str]:
    """Record ids (context.rid) across live, rotated, .gz and archived container files."""
    ids: Counter[str] = Counter()
    for path in root.rglob("*"):
        rel = path.relative_to(root).as_posix()
        in_containers = rel.startswith("containers/") or (
            rel.startswith("archived/") and "/containers/" in rel)
        if path.is_file() and in_containers and ".logtool-tmp" not in path.name:
            ids.update(r["context"]["rid"] for r in records(path) if "rid" in r["context"])
    return ids


def test_maintenance_under_running_writer_loses_nothing(tmp_path: Path,
                                                        managers: list[LogManager]) -> None:
    """Rotation, compression and archiving while 4 threads log: every record exists once."""
    root = tmp_path / "logs"
    policy = RetentionPolicy(archive_after_days=0, delete_after_days=None, min_age_minutes=0)
    manager = LogManager("coord", root, make_config(policy, max_file_size_mb=0.02),
                         maintenance_interval_seconds=0.25)
    managers.append(manager)
    per_thread = 1500
    loggers = [manager.register_container(f"strat_{i % 2}").get_logger(f"comp_{i}")
               for i in range(4)]

    def work(n: int) -> None:
        for i in range(per_thread):
            loggers[n].info("signal", rid=f"{n}-{i}", strength=i / per_thread)
            if i % 300 == 0:
                time.sleep(0.1)  # let maintenance passes interleave with writing

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wait_for(lambda: manager.maintenance_passes >= 3, "three maintenance passes")
    manager.shutdown()
    expected = Counter(f"{n}-{i}" for n in range(4) for i in range(per_thread))
    assert all_container_ids(root) == expected
    archived = [p for p in (root / "archived").rglob("*.gz") if "/containers/" in p.as_posix()]
    assert archived, "maintenance archived container files"
    ops = Counter(r["context"]["lifecycle_operation"]
                  for r in all_system_records(root, "log_manager"))
    assert ops["archive"] >= 1
    assert ops["maintenance_complete"] >= 3
    # Size rotations by the writer happened too.
    last_stats = all_system_records(root, "writer_stats")[-1]["context"]["writer"]
    assert last_stats["rotations"] > 0


@pytest.mark.parametrize("compression", [True, False])
def test_rotated_files_are_compressed_in_place(tmp_path: Path, managers: list[LogManager],
                                              compression: bool) -> None:
    """Files the writer rotated by size are gzipped beside themselves by a maintenance pass,
    unless performance.enable_compression is off."""
    root = tmp_path / "logs"
    policy = RetentionPolicy(archive_after_days=None, delete_after_days=None, min_age_minutes=0)
    manager = LogManager("coord", root, make_config(policy, max_file_size_mb=0.01,
                                                    compression=compression),
                         start_thread=False)
    managers.append(manager)
    log = manager.register_container("strat_1").get_logger("m")
    for i in range(400):
        log.info("tick", rid=f"r{i}", pad="p" * 50)
    assert runtime.flush()
    summary = manager.run_maintenance()
    names = [p.name for p in (root / "containers/strat_1").iterdir()]
    assert "m.log" in names
    if compression:
        assert summary["compressed"] >= 2
        assert all(n == "m.log" or n.endswith(".log.gz") for n in names)
    else:
        assert summary["compressed"] == 0
        assert len(names) >= 3 and not any(n.endswith(".gz") for n in names)
    assert all_container_ids(root) == Counter(f"r{i}" for i in range(400))


def test_delete_and_size_cap_through_manager(tmp_path: Path,
                                             managers: list[LogManager]) -> None:
    """Archives past max_age are deleted, then the cap removes the oldest remaining archives."""
    root = tmp_path / "logs"
    day_dir = root / "archived/2020-01-01/containers/old"
    day_dir.mkdir(parents=True)
    for name, days in (("expired.log.gz", 40), ("a.log.gz", 20), ("b.log.gz", 10),
                       ("c.log.gz", 5)):
        (day_dir / name).write_bytes(os.urandom(40_000))
        age(day_dir / name, days)
    cap_gb = 90_000 / 1024**3
    policy = RetentionPolicy(archive_after_days=None, delete_after_days=30,
                             max_total_size_gb=cap_gb)
    manager = LogManager("coord", root, make_config(policy), start_thread=False)
    managers.append(manager)
    summary = manager.run_maintenance()
    assert summary["deleted"] == 2
    assert sorted(p.name for p in day_dir.iterdir()) == ["b.log.gz", "c.log.gz"]
    deletes = [r["context"]["path"] for r in system_records(root, "log_manager")
               if r["context"]["lifecycle_operation"] == "delete"]
    assert deletes == ["archived/2020-01-01/containers/old/expired.log.gz",
                       "archived/2020-01-01/containers/old/a.log.gz"]


def test_disk_alert_fires_and_triggers_emergency_pass(tmp_path: Path,
                                                      managers: list[LogManager]) -> None:
    """Over the disk threshold, the background check writes an alert and an emergency pass."""
    root = tmp_path / "logs"
    old = root / "archived/2020-01-01/containers/x/old.log.gz"
    old.parent.mkdir(parents=True)
    old.write_bytes(os.urandom(300_000))
    age(old, 3)
    threshold = 200_000 / 1024**3
    manager = LogManager("coord", root, make_config(disk_gb=threshold, check_interval=0.1))
    managers.append(manager)
    alert = wait_for(lambda: system_records(root, "alerts"), "a disk alert")[0]
    assert alert["event_scope"] == "lifecycle_management"
    assert alert["context"]["alert"] == "disk_usage"
    assert alert["context"]["threshold"] == threshold
    assert alert["level"] == "WARNING"

    def emergency_done() -> bool:
        return any(r["context"].get("reason") == "emergency"
                   and r["context"]["lifecycle_operation"] == "maintenance_complete"
                   for r in system_records(root, "log_manager"))

    wait_for(emergency_done, "the emergency maintenance pass")
    assert not old.exists(), "the emergency pass deleted the oldest archive to get under"


def test_error_rate_alert_per_container(tmp_path: Path, managers: list[LogManager]) -> None:
    """More ERROR records per minute than the threshold in one container raises one alert."""
    root = tmp_path / "logs"
    manager = LogManager("coord", root, make_config(error_rate=3), start_thread=False)
    managers.append(manager)
    noisy = manager.register_container("noisy").get_logger("exec")
    calm = manager.register_container("calm").get_logger("exec")
    for i in range(5):
        noisy.error("order rejected", i=i)
    noisy.info("not an error")
    calm.error("one error")
    calm.critical("two")
    raised = manager.check_now()
    assert [(a.kind, a.container_id, a.value) for a in raised] == [("error_rate", "noisy", 5)]
    assert manager.check_now() == []  # the same alert is not repeated within the cooldown
    assert runtime.flush()
    (alert,) = system_records(root, "alerts")
    assert alert["context"]["container_id"] == "noisy"
    assert alert["context"]["alert"] == "error_rate"
    stats = system_records(root, "writer_stats")[-1]["context"]
    assert stats["errors_per_minute"] == {"noisy": 5, "calm": 2}
    assert stats["writer"]["submitted"] > 0


def test_shutdown_runs_final_pass_and_unregisters(tmp_path: Path,
                                                  managers: list[LogManager]) -> None:
    """shutdown() unregisters every container, archives what is due and records it all."""
    root = tmp_path / "logs"
    stale = root / "containers/old_strat/model.log"
    stale.parent.mkdir(parents=True)
    stale.write_text(json.dumps({"message": "from last week", "context": {"rid": "w"}}) + "\n")
    age(stale, 9)
    manager = LogManager("coord", root, make_config(RetentionPolicy(archive_after_days=7)),
                         start_thread=False)
    managers.append(manager)
    manager.register_container("live").get_logger("c").info("hello")
    summary = manager.shutdown()
    assert summary is not None and summary["reason"] == "shutdown"
    assert summary["archived"] == 1
    assert manager.shutdown() is None
    ops = operations(root)
    assert ops.index("container_cleanup") < ops.index("maintenance_start")
    assert "archive" in ops[ops.index("maintenance_start"):]
    assert ops[-1] == "shutdown"
    assert not stale.exists()
    assert len(list((root / "archived").rglob("model.*.log.gz"))) == 1
    assert runtime.state().router is None


def test_get_status_live_view(tmp_path: Path, managers: list[LogManager]) -> None:
    """get_status() reports containers, bytes, retention and writer counters."""
    root = tmp_path / "logs"
    manager = LogManager("coord", root, make_config(), start_thread=False)
    managers.append(manager)
    manager.register_container("strat_1").get_logger("m").info("x")
    assert runtime.flush()
    status = manager.get_status()
    assert status["active_containers"] == ["strat_1"]
    assert status["containers"]["strat_1"]["files"] == 1
    assert status["containers"]["strat_1"]["bytes"] > 0
    assert status["retention"]["archive_after_days"] == 7
    assert status["writer"]["written"] >= 2


def test_config_file_with_backends_starts_the_router(tmp_path: Path,
                                                     managers: list[LogManager]) -> None:
    """A config file naming backends and rules makes the manager route records through them."""
    root = tmp_path / "logs"
    cfg = tmp_path / "logtool.yaml"
    cfg.write_text(
        "logging:\n"
        "  backends:\n"
        "    warnings:\n"
        "      type: file\n"
        "      config: {path: routed/warnings.ndjson, format: json}\n"
        "  routing_rules:\n"
        "    - {name: warn, log_types: [text], min_level: WARNING, backends: [warnings]}\n"
    )
    manager = LogManager("coord", root, cfg, start_thread=False)
    managers.append(manager)
    assert manager.router is not None
    log = manager.register_container("exec_1").get_logger("orders")
    log.info("routine")
    log.warning("slippage high", bps=12)
    log.error("rejected")
    manager.shutdown()
    routed = [json.loads(line) for line in
              (root / "routed/warnings.ndjson").read_text().splitlines()]
    assert [r["message"] for r in routed if r.get("container_id") == "exec_1"] == [
        "slippage high", "rejected"]
    # The tree has every record regardless of routing.
    assert len(records(root / "containers/exec_1/orders.log")) == 3


def test_default_config_starts_no_router(tmp_path: Path, managers: list[LogManager]) -> None:
    """With the built-in defaults no router is started (the tree alone is written)."""
    manager = LogManager("coord", tmp_path / "logs", LogtoolConfig(), start_thread=False)
    managers.append(manager)
    assert manager.router is None


def test_trigger_maintenance_runs_a_pass_on_the_thread(tmp_path: Path,
                                                       managers: list[LogManager]) -> None:
    """trigger_maintenance() returns at once and the background thread runs a pass."""
    root = tmp_path / "logs"
    manager = LogManager("coord", root, make_config(), maintenance_interval_seconds=3600)
    managers.append(manager)
    assert manager.maintenance_passes == 0
    manager.trigger_maintenance()
    wait_for(lambda: manager.maintenance_passes >= 1, "a requested pass")
    assert manager.last_maintenance is not None
    assert manager.last_maintenance["reason"] == "requested"
