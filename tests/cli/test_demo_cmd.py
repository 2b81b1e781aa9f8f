"""Tests for the `logtool demo` command through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from logtool import demo
from logtool.cli import app, demo_cmd

runner = CliRunner()
SMALL = ["--containers", "6", "--duration-s", "3", "--seed", "3"]


def test_demo_writes_a_tree_and_suggests_commands(tmp_path: Path) -> None:
    """A run writes the tree and tells on stderr what was written and which ids to trace."""
    out = tmp_path / "logs"
    result = runner.invoke(app, ["demo", "--out", str(out), *SMALL])
    assert result.exit_code == 0, result.output
    assert (out / "master.log").is_file()
    assert result.stdout == ""
    assert "total" in result.stderr
    assert "logtool trace trade_3_" in result.stderr
    assert f"logtool container-health {out}" in result.stderr
    assert "6 strategy containers, seed 3" in result.stderr


def test_demo_json_summary_on_stdout(tmp_path: Path) -> None:
    """--json prints the summary on stdout with files, records and example ids."""
    out = tmp_path / "logs"
    result = runner.invoke(app, ["demo", "--out", str(out), *SMALL, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["out"] == str(out)
    assert data["records"] == sum(f["records"] for f in data["files"]) > 0
    assert {f["path"] for f in data["files"]} >= {"master.log", "events/health_status.jsonl"}
    assert all(cid.startswith("trade_3_") for cid in data["example_ids"].values())


def test_demo_defaults_to_logtool_root(tmp_path: Path) -> None:
    """Without --out the tree goes to $LOGTOOL_ROOT."""
    root = tmp_path / "env_root"
    result = runner.invoke(app, ["demo", *SMALL, "--json"], env={"LOGTOOL_ROOT": str(root)})
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["out"] == str(root)
    assert (root / "containers" / "data_001").is_dir()


def test_demo_refuses_a_foreign_directory(tmp_path: Path) -> None:
    """A non-empty directory that is not a log tree exits 2 with a message naming it."""
    (tmp_path / "thesis.tex").write_text("precious")
    result = runner.invoke(app, ["demo", "--out", str(tmp_path), *SMALL])
    assert result.exit_code == 2, result.output
    assert "not a log tree" in result.stderr
    assert str(tmp_path) in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis.tex"]


def test_demo_refuses_bad_container_count(tmp_path: Path) -> None:
    """--containers 0 exits 2 naming the option."""
    result = runner.invoke(app, ["demo", "--out", str(tmp_path / "x"), "--containers", "0"])
    assert result.exit_code == 2, result.output
    assert "--containers 0" in result.stderr


def test_cli_defaults_match_the_library() -> None:
    """The option defaults shown in --help are run_demo's defaults."""
    assert (demo_cmd.DEFAULT_CONTAINERS, demo_cmd.DEFAULT_SEED, demo_cmd.DEFAULT_DURATION_S) == (
        demo.DEFAULT_CONTAINERS, demo.DEFAULT_SEED, demo.DEFAULT_DURATION_S
    )


def test_demo_appends_to_an_existing_tree(tmp_path: Path) -> None:
    """A second run into a log tree is accepted and says it appended."""
    out = tmp_path / "logs"
    assert runner.invoke(app, ["demo", "--out", str(out), *SMALL]).exit_code == 0
    result = runner.invoke(app, ["demo", "--out", str(out), *SMALL[:4], "--seed", "4", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["appended"] is True
    assert data["records"] > 0


def test_demo_refuses_nan_duration(tmp_path: Path) -> None:
    """--duration-s nan exits 2 naming the option, before anything is written."""
    result = runner.invoke(app, ["demo", "--out", str(tmp_path / "x"), "--duration-s", "nan"])
    assert result.exit_code == 2, result.output
    assert "--duration-s nan" in result.stderr
    assert not (tmp_path / "x").exists()
