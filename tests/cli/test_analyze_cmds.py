"""CLI tests for container-health, tiers, errors, export, query and summary (typer CliRunner)."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fixtures import build_run_tree, snapshot
from typer.testing import CliRunner

from logtool.cli import app

SAMPLE = Path(__file__).resolve().parents[2] / "sample_logs"


def run(*args: str):
    """Invoke logtool with args."""
    return CliRunner().invoke(app, [str(a) for a in args])


def test_container_health_json_shape(ctree: Path) -> None:
    """--json prints the documented keys per container, statuses by hand."""
    result = run("container-health", ctree, "--json")
    assert result.exit_code == 0, result.output
    rows = {r["container_id"]: r for r in json.loads(result.stdout)}
    assert set(rows["strat_1"]) >= {"container_id", "records", "warnings", "errors",
                                    "components", "last_activity", "bytes", "status"}
    assert (rows["strat_1"]["records"], rows["strat_1"]["status"]) == (5, "failing")
    assert rows["quiet_1"]["status"] == "silent"
    assert rows["strat_1"]["last_activity"] == "2026-11-21T10:00:03.000000Z"


def test_container_health_table_and_thresholds(ctree: Path) -> None:
    """The table shows thresholds; options change them."""
    result = run("container-health", ctree, "--failing-rate", "0.6", "--degraded-rate", "0.15")
    assert result.exit_code == 0, result.output
    assert "failing: error rate ≥ 60.0%" in result.stdout
    assert "degraded" in result.stdout


def test_path_defaults_to_env_root(ctree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without PATH, $LOGTOOL_ROOT is read."""
    monkeypatch.setenv("LOGTOOL_ROOT", str(ctree))
    result = run("tiers", "--json")
    assert result.exit_code == 0, result.output
    assert [r["tier"] for r in json.loads(result.stdout)] == ["fast", "standard"]


def test_tiers_json_by_hand(ctree: Path) -> None:
    """p50/p90/p99/max for the fast tier: 3, 7.6, 9.76, 10."""
    result = run("tiers", ctree, "--json")
    assert result.exit_code == 0, result.output
    fast = json.loads(result.stdout)[0]
    assert fast["tier"] == "fast" and fast["count"] == 5
    assert (fast["p50_ms"], fast["max_ms"]) == (3.0, 10.0)
    assert fast["p90_ms"] == pytest.approx(7.6) and fast["p99_ms"] == pytest.approx(9.76)
    routes = run("tiers", ctree, "--by-route")
    assert routes.exit_code == 0, routes.output
    route_lines = [ln for ln in routes.stdout.splitlines() if "risk_1" in ln and "exec_1" in ln]
    assert route_lines and "20.000" in route_lines[0]


def test_errors_histogram_and_window(ctree: Path) -> None:
    """The table view draws bars; --since past every error exits 1."""
    result = run("errors", ctree)
    assert result.exit_code == 0, result.output
    assert "█" in result.stdout and "EXEC-005" in result.stdout
    data = json.loads(run("errors", ctree, "--json", "--top", "1").stdout)
    assert data["containers"] == [{"key": "exec_1", "count": 2}]
    late = run("errors", ctree, "--since", "2026-11-21T11:00:00Z")
    assert late.exit_code == 1, late.output
    bad = run("errors", ctree, "--since", "yesterday-ish")
    assert bad.exit_code == 2, bad.output
    assert "--since" in bad.output


def test_export_round_trip_and_refusals(ctree: Path, tmp_path: Path) -> None:
    """Parquet export reads back in pyarrow; inside-tree out and unknown table exit 2."""
    out = tmp_path / "flows.parquet"
    result = run("export", ctree, "--table", "flows", "--format", "parquet", "--out", out,
                 "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["rows"] == 8 == pq.read_table(out).num_rows
    assert "Wrote 8 row(s)" in result.stderr
    inside = run("export", ctree, "--table", "logs", "--format", "csv",
                 "--out", ctree / "x.csv")
    assert inside.exit_code == 2, inside.output
    assert "inside the tree" in inside.output
    unknown = run("export", ctree, "--table", "nope", "--format", "csv", "--out", tmp_path / "y")
    assert unknown.exit_code == 2, unknown.output
    parts = run("export", ctree, "--table", "logs", "--out", tmp_path / "ds",
                "--partition-by", "container,date")
    assert parts.exit_code == 0, parts.output
    assert (tmp_path / "ds" / "container_id=exec_1" / "date=2026-11-21").is_dir()


def test_query_named_free_and_bad(ctree: Path) -> None:
    """Named query with --param, free SQL as csv, --list --json, bad SQL exit 2, empty exit 1."""
    named = run("query", "slow_operations", ctree, "--param", "threshold_ms=1000", "--json")
    assert named.exit_code == 0, named.output
    assert [r["operation_id"] for r in json.loads(named.stdout)] == ["op_2"]
    free = run("query", "SELECT container_id, count(*) AS n FROM logs GROUP BY 1 ORDER BY 1",
               ctree, "--format", "csv")
    assert free.exit_code == 0, free.output
    assert free.stdout.splitlines()[:2] == ["container_id,n", "exec_1,4"]
    listing = run("query", "--list", "--json")
    assert listing.exit_code == 0, listing.output
    assert "operation_trail" in {q["name"] for q in json.loads(listing.stdout)}
    bad = run("query", "SELEKT 1", ctree)
    assert bad.exit_code == 2, bad.output
    assert "Parser Error" in bad.output
    write = run("query", f"COPY logs TO '{ctree}/out.csv'", ctree)
    assert write.exit_code == 2, write.output
    empty = run("query", "SELECT * FROM logs WHERE container_id = 'nobody'", ctree)
    assert empty.exit_code == 1, empty.output


def test_summary_and_run_scoped_tree(tmp_path: Path) -> None:
    """summary --json over a run-scoped tree names the run container and its component."""
    root = build_run_tree(tmp_path / "runs")
    result = run("summary", root, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["components"] == {"run_a.777": ["position_monitor"]}
    assert data["records_by_level"] == {"INFO": 1, "ERROR": 1}
    assert data["events_by_type"] == {"operation_executions": 1}


def test_skipped_lines_reported_on_stderr(btree: Path) -> None:
    """Every command over the bad tree says how many lines it skipped; JSON stays clean."""
    health = run("container-health", btree, "--json")
    assert health.exit_code == 0, health.output
    assert "Skipped 8 unreadable line(s)" in health.stderr
    assert json.loads(health.stdout)[0]["records"] > 0
    summary = run("summary", btree, "--json")
    assert summary.exit_code == 0, summary.output
    assert json.loads(summary.stdout)["skipped"]["total"] == 8
    query = run("query", "SELECT count(*) AS n FROM logs", btree)
    assert query.exit_code == 0, query.output
    assert "Skipped 8" in query.stderr


def test_archived_only_with_the_flag(ctree: Path) -> None:
    """The archived strat_1 record counts only with --archived."""
    plain = json.loads(run("container-health", ctree, "--json").stdout)
    with_archive = json.loads(run("container-health", ctree, "--json", "--archived").stdout)
    records = {r["container_id"]: r["records"] for r in plain}
    archived = {r["container_id"]: r["records"] for r in with_archive}
    assert (records["strat_1"], archived["strat_1"]) == (5, 6)


def test_cache_gives_the_same_answers(ctree: Path, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """With --cache (catalog outside the tree) health, tiers and errors answer the same."""
    monkeypatch.setenv("LOGTOOL_CACHE_DIR", str(tmp_path / "cache"))
    before = snapshot(ctree)
    for command in ("container-health", "tiers", "errors", "summary"):
        cold = run(command, ctree, "--json")
        cached = run(command, ctree, "--json", "--cache")
        again = run(command, ctree, "--json", "--cache")
        assert cold.exit_code == cached.exit_code == again.exit_code == 0, cached.output
        assert json.loads(cold.stdout) == json.loads(cached.stdout) == json.loads(again.stdout)
    assert snapshot(ctree) == before


def test_nonexistent_path_and_empty_tree(tmp_path: Path) -> None:
    """A missing path exits 2; a tree with no records exits 1."""
    missing = run("container-health", tmp_path / "missing")
    assert missing.exit_code == 2, missing.output
    assert "no such file" in missing.output
    (tmp_path / "empty").mkdir()
    for command in ("container-health", "tiers", "errors", "summary"):
        empty = run(command, tmp_path / "empty")
        assert empty.exit_code == 1, (command, empty.output)


def test_commands_never_write_inside_the_tree(ctree: Path, btree: Path, tmp_path: Path) -> None:
    """Every analyzer command leaves the tree's files, sizes, mtimes and hashes unchanged."""
    for root in (ctree, btree):
        before = snapshot(root)
        for args in (("container-health", root), ("tiers", root), ("errors", root),
                     ("summary", root, "--archived"), ("query", "SELECT * FROM events", root),
                     ("export", root, "--out", tmp_path / f"{root.name}.parquet")):
            result = run(*args)
            assert result.exit_code in (0, 1), result.output
        assert snapshot(root) == before


def test_sample_logs_health_matches_an_independent_count() -> None:
    """container-health over sample_logs agrees with counting the JSON lines in Python."""
    expected: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    for path in (SAMPLE / "containers").rglob("*.log"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rec = json.loads(line)
                expected[rec["container_id"]] += 1
                errors[rec["container_id"]] += rec["level"] in ("ERROR", "CRITICAL")
    result = run("container-health", SAMPLE, "--json")
    assert result.exit_code == 0, result.output
    got = {r["container_id"]: (r["records"], r["errors"]) for r in json.loads(result.stdout)}
    assert {c: got[c] for c in expected} == {c: (expected[c], errors[c]) for c in expected}
    assert len(expected) >= 50


def test_sample_logs_tiers_and_named_queries() -> None:
    """tiers, errors and the seed workflows run over sample_logs with rows and no skips."""
    tiers = run("tiers", SAMPLE, "--json")
    assert tiers.exit_code == 0, tiers.output
    assert {r["tier"] for r in json.loads(tiers.stdout)} == {"fast", "standard", "reliable"}
    for name in ("failed_operations", "reconciliation_failures"):
        result = run("query", name, SAMPLE, "--json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)
    assert "Skipped" not in run("summary", SAMPLE).stderr


def test_json_runs_never_import_rich(btree: Path, ctree: Path) -> None:
    """Piped --json runs (skip notice included) of the analyzer commands never import rich."""
    import os
    import subprocess

    code = (
        "import json, sys\n"
        "from logtool.cli import app\n"
        "for argv in json.loads(sys.argv[1]):\n"
        "    try:\n"
        "        app(argv)\n"
        "    except SystemExit as exc:\n"
        "        assert not exc.code, (argv, exc.code)\n"
        "print('RICH' if any(m.split('.')[0] == 'rich' for m in sys.modules) else 'NO RICH')\n"
    )
    runs = [["container-health", "--json", str(btree)], ["summary", "--json", str(btree)],
            ["tiers", "--json", str(ctree)], ["errors", "--json", str(ctree)]]
    env = {k: v for k, v in os.environ.items() if k not in ("TTY_COMPATIBLE", "FORCE_COLOR")}
    done = subprocess.run([sys.executable, "-c", code, json.dumps(runs)], capture_output=True,
                          text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith("NO RICH"), done.stdout[-200:]
    assert done.stderr.count("Skipped 8 unreadable line(s)") == 2
