"""configure/flush/shutdown/stats, path-part escaping and the never-raise guarantee (point 12)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import logtool
from logtool.errors import BadInputError
from logtool.write import runtime


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"level": "LOUD"}, "invalid log level"),
        ({"queue_size": 0}, "queue_size"),
        ({"full_policy": "spill"}, "full_policy"),
        ({"max_file_size_mb": -1}, "max_file_size_mb"),
        ({"container_levels": {"c": "NOPE"}}, "invalid log level"),
        ({"clock": 3}, "clock"),
        ({"backup_count": -2}, "backup_count"),
    ],
)
def test_configure_rejects_bad_settings(tmp_path: Path, kwargs: dict[str, Any],
                                        fragment: str) -> None:
    """Invalid settings are a BadInputError naming the setting; the old config stays."""
    before = logtool.get_configuration()
    with pytest.raises(BadInputError, match=fragment):
        logtool.configure(root=tmp_path, **kwargs)
    assert logtool.get_configuration() == before


def test_get_configuration_round_trips(tree: Path) -> None:
    """configure(**get_configuration()) restores the same settings (the demo relies on it)."""

    def clock() -> float:
        return 1.0

    logtool.configure(root=tree, level="WARNING", clock=clock, queue_size=500,
                      full_policy="drop", max_file_size_mb=2, compress_rotated=True,
                      container_levels={"a": "DEBUG"})
    saved = logtool.get_configuration()
    assert saved["clock"] is clock and saved["container_levels"] == {"a": "DEBUG"}
    logtool.configure(root=tree / "other")
    logtool.configure(**saved)
    assert logtool.get_configuration() == saved


@pytest.mark.parametrize("bad", ["../x", "/abs/path", "a\x00b", "a/b", "a\\b", "..", ".hidden",
                                 "", "x" * 300])
def test_hostile_ids_are_escaped_inside_root(tree: Path, bad: str) -> None:
    """Container ids and component names that are not path parts are escaped, never raised."""
    logtool.get_logger(bad, bad).info("m")
    logtool.get_logger("ok_c", bad).info("m")
    assert logtool.flush()
    files = [p for p in tree.parent.rglob("*") if p.is_file()]
    assert files and all(tree in p.parents for p in files)
    component_files = [p for p in files if "containers" in p.parts]
    assert len(component_files) == 2
    for path in component_files:
        rel = path.relative_to(tree / "containers")
        assert len(rel.parts) == 2
    assert logtool.stats()["escaped_path_parts"] >= 2


def test_record_keeps_the_given_container_id(tree: Path, read: Any) -> None:
    """The record says what the caller gave; only the file name is escaped."""
    logtool.get_logger("../up", "comp").info("m")
    (rec,) = read("containers/%2E.%2Fup/comp.log")
    assert rec["container_id"] == "../up"


def test_unwritable_root_never_raises(tmp_path: Path) -> None:
    """A root below a regular file fails for every user: the caller goes on, errors counted."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    logtool.configure(root=blocker / "logs")
    try:
        log = logtool.get_logger("nowhere", "comp")
        for i in range(50):
            log.info("m", i=i)
            log.metric("x", i)
        logtool.DomainEventLogger().log_health_status(overall_status="ok")
        logtool.flush(5.0)
        stats = logtool.stats()
        assert stats["write_errors"] >= 1 and stats["last_error"]
        assert not (blocker / "logs").exists()
    finally:
        logtool.shutdown()
        logtool.configure(root=tmp_path / "after")


def test_shutdown_then_logging_reopens(tree: Path, read: Any) -> None:
    """After shutdown() the next record opens the writer again; nothing is lost."""
    log = logtool.get_logger("reopen_c", "comp")
    log.info("before")
    logtool.shutdown()
    assert not logtool.stats()["sink_open"]
    log.info("after")
    assert [r["message"] for r in read("containers/reopen_c/comp.log")] == ["before", "after"]


def test_configure_switches_roots_flushing_the_old(tree: Path, tmp_path: Path) -> None:
    """Records logged before a root switch are in the old root, later ones in the new."""
    log = logtool.get_logger("switch_c", "comp")
    log.info("old")
    new_root = tmp_path / "second"
    logtool.configure(root=new_root, level="DEBUG")
    log.info("new")
    logtool.flush()
    assert "old" in (tree / "containers/switch_c/comp.log").read_text()
    assert "new" in (new_root / "containers/switch_c/comp.log").read_text()
    assert "new" not in (tree / "containers/switch_c/comp.log").read_text()


def test_stats_has_sink_and_api_counters(tree: Path) -> None:
    """stats() merges the sink's counters and this layer's."""
    logtool.get_logger("st_c", "comp").info("m")
    logtool.flush()
    stats = logtool.stats()
    for key in ("submitted", "written", "dropped_queue_full", "write_errors", "queue_depth",
                *runtime.API_COUNTERS, "root", "last_error"):
        assert key in stats, key
    assert stats["root"] == str(tree) and stats["submitted"] >= 1


def test_default_root_from_environment(tmp_path: Path) -> None:
    """configure() without root uses $LOGTOOL_ROOT (and ./logs without it)."""
    env = {**os.environ, "LOGTOOL_ROOT": str(tmp_path / "envroot")}
    code = ("import logtool; logtool.get_logger('env_c','c').info('m'); logtool.flush();"
            "print(logtool.stats()['root'])")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True, cwd=tmp_path)
    assert out.stdout.strip() == str(tmp_path / "envroot")
    assert (tmp_path / "envroot/containers/env_c/c.log").is_file()
    env.pop("LOGTOOL_ROOT")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True, cwd=tmp_path)
    assert out.stdout.strip() == str(tmp_path / "logs")


def test_records_are_flushed_at_exit_without_explicit_flush(tmp_path: Path) -> None:
    """A program that never calls flush/shutdown still gets every record written."""
    root = str(tmp_path / "t")
    code = (f"import logtool\nlogtool.configure(root={root!r})\n"
            "log = logtool.get_logger('x','y')\nfor i in range(5000): log.info('m', i=i)\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path)
    assert len((tmp_path / "t/containers/x/y.log").read_text().splitlines()) == 5000


def test_import_is_cheap() -> None:
    """`import logtool` loads no writer module, no duckdb, and starts no thread."""
    code = ("import sys, threading, logtool, logtool.errors\n"
            "bad = [m for m in sys.modules if m.startswith(('duckdb', 'logtool.write'))]\n"
            "print(bad, threading.active_count())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[] 1"


def test_logging_after_interpreter_exit_hook_is_counted() -> None:
    """Once the exit hook ran, records are counted as dropped instead of reopening files."""
    code = ("import logtool\nfrom logtool.write import runtime\nruntime._at_exit()\n"
            "logtool.get_logger('late','c').info('m')\n"
            "print(logtool.stats()['dropped_after_exit'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "1"


def test_get_logger_with_unprintable_id_never_raises(tree: Path) -> None:
    """An id whose __str__ raises still gives a working logger (named by repr) and a count."""

    class Weird:
        def __str__(self) -> str:
            raise RuntimeError("no str")

        def __repr__(self) -> str:
            return "Weird()"

    log = logtool.get_logger(Weird(), "comp")  # type: ignore[arg-type]
    log.info("m")
    logtool.flush()
    assert log.container_id == "Weird()"
    assert (tree / "containers/Weird%28%29/comp.log").is_file()
    assert logtool.stats()["api_errors"] == 1


def test_loggers_keep_working_in_a_forked_child(tree: Path, read: Any) -> None:
    """A logger made before fork writes from the child; parent records are not duplicated."""
    log = logtool.get_logger("fork_c", "comp")
    for i in range(100):
        log.info("parent", i=i)
    pid = os.fork()
    if pid == 0:  # child: never return into pytest
        code = 1
        try:
            log.info("child")
            code = 0 if logtool.flush(10.0) else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    messages = [r["message"] for r in read("containers/fork_c/comp.log")]
    assert messages.count("parent") == 100 and messages.count("child") == 1
