"""CLI tests for `logtool trace` over hand-written trees (typer CliRunner on logtool.cli.app)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fixtures import after_ten, log
from typer.testing import CliRunner

from logtool.cli import app

runner = CliRunner()


def rec(ms: int, cid: str, msg: str, corr: str | None, level: str = "INFO") -> str:
    """One container log line at 10:00:00 + ms."""
    return json.dumps(log(after_ten(ms), level, cid, "main", msg, corr, "internal_bus"))


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """sig_1 at 0 and 20 ms in data_a, 50 ms in exec_b (ERROR); a fast flow between them."""
    root = tmp_path / "logs"
    (root / "containers/data_a").mkdir(parents=True)
    (root / "containers/exec_b").mkdir(parents=True)
    (root / "flows").mkdir()
    (root / "containers/data_a/main.log").write_text(
        "\n".join(
            [
                rec(0, "data_a", "got tick", "sig_1"),
                rec(20, "data_a", "sent", "sig_1"),
                rec(30, "data_a", "see sig_1", "sig_2"),
                '{"correlation_id": "sig_1", oops',
            ]
        )
        + "\n"
    )
    (root / "containers/exec_b/main.log").write_text(
        rec(50, "exec_b", "rejected", "sig_1", level="ERROR") + "\n"
    )
    (root / "flows/main_event_flows.log").write_text(
        json.dumps(
            {
                "timestamp": "2026-11-21T10:00:00.020000Z",
                "event_id": "e1",
                "correlation_id": "sig_1",
                "source": "data_a",
                "target": "exec_b",
                "flow_type": "external",
                "tier": "fast",
                "container_id": "data_a",
                "latency_ms": 25.0,
            }
        )
        + "\n"
    )
    return root


def test_json_output_has_the_documented_shape(tree: Path) -> None:
    """--json prints path, visits, hops, totals computed by hand, and the skipped count."""
    result = runner.invoke(app, ["trace", "sig_1", str(tree), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["correlation_id"] == "sig_1"
    assert data["path"] == ["data_a", "exec_b"]
    assert data["visits"] == [
        {
            "container_id": "data_a",
            "start": "2026-11-21T10:00:00.000000Z",
            "end": "2026-11-21T10:00:00.020000Z",
            "duration_ms": 20.0,
            "records": 2,
            "errors": 0,
        },
        {
            "container_id": "exec_b",
            "start": "2026-11-21T10:00:00.050000Z",
            "end": "2026-11-21T10:00:00.050000Z",
            "duration_ms": 0.0,
            "records": 1,
            "errors": 1,
        },
    ]
    assert data["hops"] == [
        {
            "from": "data_a",
            "to": "exec_b",
            "tier": "fast",
            "latency_ms": 30.0,
            "flow_latency_ms": 25.0,
        }
    ]
    assert (data["total_ms"], data["records"], data["errors"], data["skipped"]) == (50.0, 3, 1, 1)
    assert "Skipped 1 unreadable line" in result.stderr
    assert "containers/data_a/main.log line 4" in result.stderr


def test_waterfall_names_containers_tiers_and_errors(tree: Path) -> None:
    """The rich view shows each visit, the hop tier, the error message and the total."""
    result = runner.invoke(app, ["trace", "sig_1", str(tree)])
    assert result.exit_code == 0, result.output
    for text in ("data_a", "exec_b", "fast", "rejected", "Total 50.000 ms"):
        assert text in result.stdout


def test_default_root_comes_from_the_environment(tree: Path) -> None:
    """Without PATH, $LOGTOOL_ROOT is read."""
    result = runner.invoke(app, ["trace", "sig_1", "--json"], env={"LOGTOOL_ROOT": str(tree)})
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["records"] == 3


def test_unknown_id_exits_1_with_a_suggestion(tree: Path) -> None:
    """A missing id exits 1 and suggests the closest existing ids."""
    result = runner.invoke(app, ["trace", "sig_3", str(tree)])
    assert result.exit_code == 1, result.output
    assert "not found" in result.stderr
    assert (
        "Did you mean: sig_1, sig_2" in result.stderr
        or "Did you mean: sig_2, sig_1" in result.stderr
    )


def test_bad_input_exits_2(tree: Path) -> None:
    """An empty id or a path that does not exist is bad input (exit 2)."""
    result = runner.invoke(app, ["trace", "", str(tree)])
    assert result.exit_code == 2, result.output
    result = runner.invoke(app, ["trace", "sig_1", str(tree / "missing")])
    assert result.exit_code == 2, result.output
    assert "no such file or directory" in result.stderr


def test_trace_process_imports_neither_duckdb_nor_pydantic(tree: Path, tmp_path: Path) -> None:
    """A `logtool trace --json` process (cached too) never imports duckdb, pyarrow, pydantic."""
    import os
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from logtool.cli import main\n"
        "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
        "heavy = [m for m in ('duckdb', 'pyarrow', 'pydantic') if m in sys.modules]\n"
        "sys.stderr.write('HEAVY=' + ','.join(heavy) + '\\n')\n"
    )
    env = {**os.environ, "LOGTOOL_CACHE_DIR": str(tmp_path / "cache")}
    for extra in ([], ["--cache"], ["--cache"]):
        proc = subprocess.run(
            [sys.executable, "-c", probe, "trace", "sig_1", str(tree), "--json", *extra],
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=120,
        )
        assert json.loads(proc.stdout)["records"] == 3, proc.stderr
        assert "HEAVY=\n" in proc.stderr, proc.stderr


SAMPLE = Path(__file__).resolve().parents[2] / "sample_logs"


def test_trace_over_sample_logs_follows_a_trade_across_containers() -> None:
    """A trade id of the committed sample tree crosses containers with known tiers."""
    import re

    text = "".join(p.read_text() for p in sorted((SAMPLE / "containers").glob("risk_*/*.log")))
    cid = re.search(r'"correlation_id": ?"(trade_[^"]+)"', text)
    assert cid is not None, "sample_logs has no trade ids in risk containers"
    result = runner.invoke(app, ["trace", cid.group(1), str(SAMPLE), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["path"]) >= 2
    assert all(h["tier"] in ("fast", "standard", "reliable", None) for h in data["hops"])
    parts = sum(v["duration_ms"] for v in data["visits"]) + sum(
        h["latency_ms"] for h in data["hops"]
    )
    assert data["total_ms"] == pytest.approx(parts, abs=0.01)
