"""Tests for the `logtool` entry point: stored --cache answers, printed again in real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fixtures import build_bad_tree, build_container_tree

# Runs the entry point, then reports on stderr whether the CLI framework or the catalog
# was loaded (a stored answer loads neither).
PROBE = (
    "import sys\n"
    "from logtool.cli import main\n"
    "code = 0\n"
    "try:\n    main()\nexcept SystemExit as e:\n    code = e.code or 0\n"
    "loaded = [m for m in ('typer', 'duckdb', 'orjson') if m in sys.modules]\n"
    "sys.stderr.write('LOADED=' + ','.join(loaded) + '\\n')\n"
    "sys.exit(code)\n"
)


def run(argv: list[str], cache: Path) -> subprocess.CompletedProcess[str]:
    """`logtool argv` in a child process with its output piped."""
    env = {**os.environ, "LOGTOOL_CACHE_DIR": str(cache)}
    env.pop("COLUMNS", None)
    return subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True,
                          text=True, env=env, check=False, timeout=300)


def loaded(proc: subprocess.CompletedProcess[str]) -> str:
    """What the probe reported as loaded."""
    return proc.stderr.rsplit("LOADED=", 1)[1].strip()


@pytest.mark.parametrize("argv", [
    ["trace", "t1", "{tree}", "--json", "--cache"],
    ["container-health", "{tree}", "--json", "--cache"],
    ["tiers", "{tree}", "--cache"],
    ["summary", "{tree}", "--json", "--cache"],
])
def test_second_run_prints_the_same_answer_without_loading_the_cli(
        argv: list[str], tmp_path: Path) -> None:
    """The first --cache run stores its answer, the next prints it: cold's bytes, no typer."""
    tree = build_container_tree(tmp_path / "logs")
    argv = [a.replace("{tree}", str(tree)) for a in argv]
    cold = run([a for a in argv if a != "--cache"], tmp_path / "cache")
    assert cold.returncode == 0, cold.stderr
    first, second = (run(argv, tmp_path / "cache") for _ in range(2))
    assert first.returncode == second.returncode == 0, second.stderr
    assert "typer" in loaded(first) and loaded(second) == ""
    assert "brought up to date: " in first.stderr  # what the catalog did: a notice, not data
    assert "brought up to date" not in second.stderr
    assert cold.stdout == first.stdout == second.stdout


def test_a_grown_tree_is_answered_afresh(tmp_path: Path) -> None:
    """After a record is appended, the stored answer no longer holds: the new count is printed."""
    tree = build_container_tree(tmp_path / "logs")
    argv = ["container-health", str(tree), "--json", "--cache"]
    for _ in range(2):
        before = run(argv, tmp_path / "cache")
    risk = next(r for r in json.loads(before.stdout) if r["container_id"] == "risk_1")
    line = {"timestamp": "2026-11-21T10:00:09.000000Z", "level": "ERROR",
            "container_id": "risk_1", "component_name": "check", "message": "late",
            "event_scope": "component_internal", "correlation_id": None, "context": {}}
    with (tree / "containers/risk_1/check.log").open("a") as fh:
        fh.write(json.dumps(line) + "\n")
    after = run(argv, tmp_path / "cache")
    assert after.returncode == 0, after.stderr
    assert "duckdb" in loaded(after)
    assert "brought up to date: 1 grown file(s)" in after.stderr
    grown = next(r for r in json.loads(after.stdout) if r["container_id"] == "risk_1")
    assert (grown["records"], grown["errors"]) == (risk["records"] + 1, risk["errors"] + 1)


def test_a_replayed_answer_repeats_the_skip_notice(tmp_path: Path) -> None:
    """The skipped-lines notice of the stored run is printed again on stderr, same words."""
    tree = tmp_path / "bad"
    build_bad_tree(tree)
    argv = ["container-health", str(tree), "--json", "--cache"]
    runs = [run(argv, tmp_path / "cache") for _ in range(2)]
    assert all(r.returncode == 0 for r in runs), runs[-1].stderr
    notice = [line for line in runs[0].stderr.splitlines() if line.startswith("Skipped ")]
    assert notice and notice == [
        line for line in runs[1].stderr.splitlines() if line.startswith("Skipped ")]
    assert loaded(runs[1]) == ""


def test_failures_and_unknown_ids_are_never_stored(tmp_path: Path) -> None:
    """An unknown id exits 1 every time, through the full CLI, with its suggestion."""
    tree = build_container_tree(tmp_path / "logs")
    argv = ["trace", "no_such_id", str(tree), "--json", "--cache"]
    for _ in range(3):
        proc = run(argv, tmp_path / "cache")
        assert proc.returncode == 1, proc.stderr
        assert "typer" in loaded(proc)
