"""Tests for logtool.analyze.tree: discovery and classification of tree files."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from logtool.analyze.tree import discover, split_name
from logtool.errors import BadInputError


def _touch(path: Path, text: str = "{}\n") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A tree with every kind of file in both layouts, plus archived and stray files."""
    root = tmp_path / "logs"
    for rel in (
        "containers/strat_1/signal.log",
        "containers/strat_1/signal.20261121T101010.log.gz",
        "containers/strat_1/signal.20261121T101011-2.log",
        "flows/coord_event_flows.log",
        "correlations/trade_correlations.log",
        "events/positions.jsonl",
        "system/manager.log",
        "metrics/strat_1.log",
        "master.log",
        "archived/2026-11-20/containers/strat_1/signal.log.gz",
        "archived/2026-11-20/master.log.gz",
        "run1/123/comp.log",
        "run1/123/events/tight_loop.jsonl",
    ):
        _touch(root / rel)
    (root / "run1/123/run_metadata.json").write_text("{}")
    (root / "logtool.json").write_text('{"format_version": 1}')
    (root / "containers/strat_1/notes.txt").write_text("not a log")
    return root


def _by_rel(files: list) -> dict:
    return {f.rel: f for f in files}


def test_discover_classifies_every_kind(tree: Path) -> None:
    """Each live file gets the kind, hints and flags its path implies; archived is left out."""
    files = _by_rel(discover(tree))
    assert set(files) == {
        "containers/strat_1/signal.log",
        "containers/strat_1/signal.20261121T101010.log.gz",
        "containers/strat_1/signal.20261121T101011-2.log",
        "flows/coord_event_flows.log",
        "correlations/trade_correlations.log",
        "events/positions.jsonl",
        "system/manager.log",
        "metrics/strat_1.log",
        "master.log",
        "run1/123/comp.log",
        "run1/123/events/tight_loop.jsonl",
    }
    rotated = files["containers/strat_1/signal.20261121T101010.log.gz"]
    assert (rotated.kind, rotated.container_hint, rotated.component_hint) == (
        "logs", "strat_1", "signal")
    assert rotated.compressed and not rotated.archived
    assert files["containers/strat_1/signal.20261121T101011-2.log"].component_hint == "signal"
    assert files["flows/coord_event_flows.log"].kind == "flows"
    assert files["correlations/trade_correlations.log"].kind == "correlations"
    assert files["events/positions.jsonl"].event_type == "positions"
    assert files["events/positions.jsonl"].container_hint is None
    assert files["system/manager.log"].kind == "system"
    assert files["metrics/strat_1.log"].container_hint == "strat_1"
    assert files["master.log"].kind == "master"
    run_log = files["run1/123/comp.log"]
    assert (run_log.kind, run_log.container_hint, run_log.component_hint) == (
        "logs", "run1.123", "comp")
    run_events = files["run1/123/events/tight_loop.jsonl"]
    assert (run_events.event_type, run_events.container_hint) == ("tight_loop", "run1.123")
    assert all(f.path.is_absolute() and f.size > 0 for f in files.values())


def test_archived_only_when_asked(tree: Path) -> None:
    """archived/<date>/ files appear with archived=True and keep their original classification."""
    files = _by_rel(discover(tree, archived=True))
    arch = files["archived/2026-11-20/containers/strat_1/signal.log.gz"]
    assert (arch.kind, arch.container_hint, arch.archived, arch.compressed) == (
        "logs", "strat_1", True, True)
    assert files["archived/2026-11-20/master.log.gz"].kind == "master"
    assert len(files) == 13


def test_subdirectory_and_single_file(tree: Path) -> None:
    """A directory below the root or one file can be opened; rel is relative to what was opened."""
    sub = _by_rel(discover(tree / "containers" / "strat_1"))
    assert set(sub) == {
        "signal.log", "signal.20261121T101010.log.gz", "signal.20261121T101011-2.log"}
    assert sub["signal.log"].container_hint == "strat_1"
    (one,) = discover(tree / "flows" / "coord_event_flows.log")
    assert (one.rel, one.kind) == ("coord_event_flows.log", "flows")


def test_symlink_out_of_tree_not_followed(tree: Path, tmp_path: Path) -> None:
    """A symlink pointing outside the opened directory, file or directory, is ignored."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.log").write_text("{}\n")
    os.symlink(outside / "secret.log", tree / "containers/strat_1/evil.log")
    os.symlink(outside, tree / "containers/linked")
    os.symlink(tree / "master.log", tree / "system/inside.log")
    rels = {f.rel for f in discover(tree)}
    assert "containers/strat_1/evil.log" not in rels
    assert not any(r.startswith("containers/linked") for r in rels)
    assert "system/inside.log" in rels


def test_missing_path_is_bad_input(tmp_path: Path) -> None:
    """A path that does not exist raises BadInputError naming it."""
    with pytest.raises(BadInputError, match="nope"):
        discover(tmp_path / "nope")


def test_split_name() -> None:
    """Rotation stamps, sequence numbers and .gz are stripped from the stem."""
    assert split_name("a.20261121T101010-3.jsonl.gz") == ("a", ".jsonl")
    assert split_name("a.log.gz") == ("a", ".log")
    assert split_name("run_metadata.json") is None
