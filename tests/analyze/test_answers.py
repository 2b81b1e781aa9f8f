"""Tests for logtool.analyze.answers: tree state, which runs are stored, when an answer holds."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from fixtures import build_container_tree, build_run_tree, put

from logtool.analyze import answers

ARGV = ["container-health", "TREE", "--json", "--cache"]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private cache home for the store."""
    where = tmp_path / "cache"
    monkeypatch.setenv(answers.CACHE_ENV, str(where))
    return where


def record(argv: list[str], tree: Path, output: str,
           skips: list[tuple[int, str]] = ()) -> bool:
    """One recording run over tree that printed output; whether it was stored."""
    recording = answers.start(argv, stdout_is_terminal=False)
    assert recording is not None
    recording.tree(tree, False)
    for count, detail in skips:
        recording.skipped(count, detail)
    return recording.save(output)


def test_state_is_stable_and_changes_with_every_kind_of_change(tmp_path: Path) -> None:
    """Appending, touching, adding, removing, renaming, editing the marker: each is a new state."""
    tree = build_container_tree(tmp_path / "logs")
    first = answers.tree_state(str(tree), False)
    assert first is not None and first == answers.tree_state(str(tree), False)
    assert answers.tree_state(str(tree), True) != first  # archived/ read or not: other answers

    states = {first}

    def changed() -> None:
        state = answers.tree_state(str(tree), False)
        assert state not in states
        states.add(state)

    log = tree / "containers/risk_1/check.log"
    with log.open("ab") as fh:
        fh.write(b'{"timestamp": "2026-11-21T10:00:09.000000Z"}\n')
    changed()
    os.utime(log, ns=(1, 1))
    changed()
    put(tree / "containers/new_1/main.log", b"")
    changed()
    (tree / "containers/new_1/main.log").rename(tree / "containers/new_1/other.log")
    changed()
    (tree / "containers/new_1/other.log").unlink()
    changed()
    (tree / "logtool.json").write_text('{"format_version": 1, "writer": "other hand"}')
    changed()


def test_state_of_a_subdirectory_sees_the_marker_above_and_a_symlink_target(tmp_path: Path) -> None:
    """Opened below the root, the state still covers logtool.json; a symlink's target counts."""
    tree = build_container_tree(tmp_path / "logs")
    below = tree / "containers"
    before = answers.tree_state(str(below), False)
    (tree / "logtool.json").write_text('{"format_version": 2}')
    assert answers.tree_state(str(below), False) != before
    target = tree / "containers/exec_1/order.log"
    (tree / "containers/exec_1/alias.log").symlink_to(target)
    with_link = answers.tree_state(str(below), False)
    with target.open("ab") as fh:
        fh.write(b"\n")
    assert answers.tree_state(str(below), False) != with_link


def test_state_of_one_file_and_of_a_missing_path(tmp_path: Path) -> None:
    """A lone file's state follows the file and its run metadata; a missing path has none."""
    tree = build_run_tree(tmp_path / "logs")
    events = tree / "run_a/777/events/operation_executions.jsonl"
    before = answers.tree_state(str(events), False)
    assert before is not None
    (tree / "run_a/777/run_metadata.json").write_text('{"mode": "live"}')
    assert answers.tree_state(str(events), False) != before
    assert answers.tree_state(str(tmp_path / "nowhere"), False) is None


def test_only_replayable_piped_cache_runs_have_a_key() -> None:
    """A terminal, no --cache, --help, export or query: no key, so never stored or replayed."""
    assert answers.answer_key(ARGV, stdout_is_terminal=False) is not None
    assert answers.answer_key(ARGV, stdout_is_terminal=True) is None
    assert answers.answer_key(ARGV[:-1], stdout_is_terminal=False) is None
    assert answers.answer_key([*ARGV, "--help"], stdout_is_terminal=False) is None
    assert answers.answer_key(["export", "T", "--cache"], stdout_is_terminal=False) is None
    assert answers.answer_key(["query", "SELECT now()", "--cache"],
                              stdout_is_terminal=False) is None
    assert answers.answer_key([], stdout_is_terminal=False) is None


def test_key_follows_arguments_directory_and_output_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Other arguments, another working directory or another COLUMNS are other answers."""
    key = answers.answer_key(ARGV, stdout_is_terminal=False)
    assert answers.answer_key([*ARGV[:-1], "--archived", "--cache"],
                              stdout_is_terminal=False) != key
    monkeypatch.setenv("COLUMNS", "80")
    assert answers.answer_key(ARGV, stdout_is_terminal=False) != key
    monkeypatch.delenv("COLUMNS")
    monkeypatch.chdir(tmp_path)
    assert answers.answer_key(ARGV, stdout_is_terminal=False) != key


def test_a_stored_answer_is_replayed_until_the_tree_changes(tmp_path: Path, home: Path) -> None:
    """lookup returns the stored output and skip notice, then nothing once a file grows."""
    tree = build_container_tree(tmp_path / "logs")
    assert record(ARGV, tree, "[1, 2]\n", skips=[(3, " (first: a line 2)")])
    assert answers.lookup(ARGV, stdout_is_terminal=False) == ("[1, 2]\n", 3, " (first: a line 2)")
    assert answers.lookup(ARGV, stdout_is_terminal=True) is None
    assert answers.lookup(["tiers", "TREE", "--json", "--cache"], stdout_is_terminal=False) is None
    with (tree / "master.log").open("ab") as fh:
        fh.write(b"{}\n")
    assert answers.lookup(ARGV, stdout_is_terminal=False) is None


def test_runs_that_saw_a_change_read_two_trees_or_none_are_not_stored(
        tmp_path: Path, home: Path) -> None:
    """No tree noted, two trees, two skip notices, a change mid-run: nothing is stored."""
    tree = build_container_tree(tmp_path / "logs")
    recording = answers.start(ARGV, stdout_is_terminal=False)
    assert recording is not None
    assert not recording.save("no tree")
    recording.tree(tree, False)
    recording.tree(tmp_path, False)
    assert not recording.save("two trees")
    assert not record(ARGV, tree, "x", skips=[(1, ""), (2, "")])
    recording = answers.start(ARGV, stdout_is_terminal=False)
    assert recording is not None
    recording.tree(tree, False)
    put(tree / "containers/late_1/main.log", b"")
    assert not recording.save("changed while running")
    assert answers.lookup(ARGV, stdout_is_terminal=False) is None
    assert record(ARGV, tree, "unchanged")
    assert answers.lookup(ARGV, stdout_is_terminal=False) == ("unchanged", 0, "")


def test_store_keeps_the_newest_answers_and_survives_a_corrupt_file(
        tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past MAX_ANSWERS the oldest go; a file that is not a database is replaced, never fatal."""
    tree = build_container_tree(tmp_path / "logs")
    monkeypatch.setattr(answers, "MAX_ANSWERS", 2)
    for n in range(3):
        assert record(["tiers", str(n), "--cache"], tree, f"answer {n}")
    with sqlite3.connect(home / answers.FILE_NAME) as con:
        kept = sorted(r[0] for r in con.execute("SELECT output FROM answers"))
    assert kept == ["answer 1", "answer 2"]
    (home / answers.FILE_NAME).write_bytes(b"not a database" * 100)
    assert answers.lookup(["tiers", "2", "--cache"], stdout_is_terminal=False) is None
    assert not record(ARGV, tree, "after corruption")
    assert record(ARGV, tree, "after corruption")
    assert answers.lookup(ARGV, stdout_is_terminal=False) == ("after corruption", 0, "")
