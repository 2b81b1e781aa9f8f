"""Tests for `logtool prune` through the typer CliRunner on real trees."""

from __future__ import annotations

import gzip
import json
import os
import re
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from logtool.cli import app

DAY = 86_400


def make_tree(tmp_path: Path) -> Path:
    """A tree with one 20-day-old log, one fresh log and a 40-day-old archive."""
    root = tmp_path / "logs"
    now = time.time()
    for rel, age, body in [
        ("containers/strat_1/momentum.log", 20, b'{"message": "old"}\n'),
        ("containers/strat_1/fresh.log", 0, b'{"message": "new"}\n'),
        ("archived/2020-01-01/containers/x/y.log.gz", 40, gzip.compress(b'{"m": 1}\n')),
    ]:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(body)
        os.utime(p, (now - age * DAY, now - age * DAY))
    (root / "logtool.json").write_text("{}")
    return root


def test_dry_run_json_prints_plan_and_changes_nothing(tmp_path: Path) -> None:
    """--dry-run --json prints [{action, path, bytes}] relative to the root; tree unchanged."""
    root = make_tree(tmp_path)
    before = sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))
    result = CliRunner().invoke(app, ["prune", str(root), "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert [{k: a[k] for k in ("action", "path", "bytes")} for a in plan] == [
        {"action": "archive", "path": "containers/strat_1/momentum.log", "bytes": 19},
        {"action": "delete", "path": "archived/2020-01-01/containers/x/y.log.gz",
         "bytes": (root / "archived/2020-01-01/containers/x/y.log.gz").stat().st_size},
    ]
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) == before


def test_real_run_reports_what_it_did(tmp_path: Path) -> None:
    """A real run archives and deletes, prints the actions and the bytes freed."""
    root = make_tree(tmp_path)
    result = CliRunner().invoke(app, ["prune", str(root)])
    assert result.exit_code == 0, result.output
    assert "freed 29 B" in result.stdout and "momentum" in result.stdout
    assert not (root / "containers/strat_1/momentum.log").exists()
    assert (root / "containers/strat_1/fresh.log").exists()
    assert len(list((root / "archived").rglob("momentum.*.log.gz"))) == 1
    assert not (root / "archived/2020-01-01").exists()


def test_real_run_json_shape(tmp_path: Path) -> None:
    """--json on a real run prints the plan, the done actions and bytes_freed."""
    root = make_tree(tmp_path)
    result = CliRunner().invoke(app, ["prune", str(root), "--json", "--delete-after-days", "100"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["archived"] == 1 and data["deleted"] == 0
    assert data["done"][0]["path"] == "containers/strat_1/momentum.log"
    name = r"archived/\d{4}-\d\d-\d\d/containers/strat_1/momentum\.\d{8}T\d{6}\.log\.gz"
    assert re.fullmatch(name, data["done"][0]["to"])
    assert data["bytes_freed"] >= 0 and data["errors"] == []


def test_min_age_and_size_options(tmp_path: Path) -> None:
    """--archive-after-days 0 with --min-age-minutes 0 archives the fresh file as well."""
    root = make_tree(tmp_path)
    result = CliRunner().invoke(app, ["prune", str(root), "--dry-run", "--json",
                                      "--archive-after-days", "0", "--min-age-minutes", "0",
                                      "--max-size-gb", "1"])
    assert result.exit_code == 0, result.output
    assert {a["path"] for a in json.loads(result.stdout)} >= {"containers/strat_1/fresh.log"}


def test_nothing_to_do_exits_zero(tmp_path: Path) -> None:
    """An up-to-date tree prints an empty plan and exits 0."""
    root = tmp_path / "logs"
    (root / "containers").mkdir(parents=True)
    result = CliRunner().invoke(app, ["prune", str(root), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"plan": [], "done": [], "archived": 0, "deleted": 0,
                                         "compressed": 0,
                                         "bytes_freed": 0, "skipped": [], "errors": [],
                                         "temp_files_removed": 0}


@pytest.mark.parametrize("args", [["/"], ["{plain}"], ["{tree}", "--archive-after-days", "-1"]])
def test_bad_input_exits_2(tmp_path: Path, args: list[str]) -> None:
    """Refusing / or a non-tree directory, or a negative age, exits 2 with a message."""
    plain = tmp_path / "plain"
    plain.mkdir()
    tree = make_tree(tmp_path)
    argv = ["prune"] + [a.format(plain=plain, tree=tree) for a in args]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 2, result.output
    assert (tree / "containers/strat_1/momentum.log").exists()


def test_default_root_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without PATH, $LOGTOOL_ROOT is pruned."""
    root = make_tree(tmp_path)
    monkeypatch.setenv("LOGTOOL_ROOT", str(root))
    result = CliRunner().invoke(app, ["prune", "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)) == 2
