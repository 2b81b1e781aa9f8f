"""Tests for logtool.analyze.cache: the persistent catalog kept outside the tree."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from logtool.analyze import cache
from logtool.analyze import trace as trace_mod
from logtool.errors import BadInputError


def rec(ms: int, cid: str, corr: str | None, msg: str = "m") -> str:
    """One container log line at 10:00:00 + ms."""
    return (
        json.dumps(
            {
                "timestamp": f"2026-11-21T10:00:{ms // 1000:02d}.{ms % 1000 * 1000:06d}Z",
                "level": "INFO",
                "container_id": cid,
                "component_name": "main",
                "message": msg,
                "event_scope": "internal_bus",
                "correlation_id": corr,
                "context": {},
            }
        )
        + "\n"
    )


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A tree under tmp_path/logs and a cache root beside it (not inside)."""
    root = tmp_path / "logs"
    for cid in ("a_1", "b_1"):
        (root / "containers" / cid).mkdir(parents=True)
    (root / "containers/a_1/main.log").write_text(
        rec(0, "a_1", "t_1") + rec(5, "a_1", "t_2") + rec(10, "a_1", "t_1")
    )
    (root / "containers/b_1/main.log").write_text(rec(20, "b_1", "t_1") + rec(21, "b_1", None))
    with gzip.open(root / "containers/b_1/main.20261121T090000.log.gz", "wt") as fh:
        fh.write(rec(1, "b_1", "t_3"))
    cache_root = tmp_path / "cache"
    monkeypatch.setenv(cache.CACHE_ENV, str(cache_root))
    return root, cache_root


def stored(root: Path) -> dict[str, dict[str, Any]]:
    """The catalog's files table: rel -> stored size and indexed byte offset."""
    con = sqlite3.connect(cache.cache_dir(root) / "trace.sqlite")
    try:
        return {
            r[0]: {"size": r[1], "indexed_bytes": r[2]}
            for r in con.execute("SELECT rel, size, indexed_bytes FROM files")
        }
    finally:
        con.close()


def snapshot(root: Path) -> dict[str, tuple[int, int, str]]:
    """Every file under root with size, mtime_ns and content hash."""
    return {
        str(p.relative_to(root)): (
            p.stat().st_size,
            p.stat().st_mtime_ns,
            hashlib.sha256(p.read_bytes()).hexdigest(),
        )
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def run(root: Path, cid: str) -> dict[str, Any]:
    """trace with the cache, as the --json document."""
    return trace_mod.trace(root, cid, cache=True, workers=1).to_json()


def test_first_run_builds_then_reuses_and_answers_like_the_cold_path(
    env: tuple[Path, Path],
) -> None:
    """The first cached trace builds the index, the second reuses every file, both match cold."""
    root, cache_root = env
    first = run(root, "t_1")
    assert first["cache"]["built"] is True and first["cache"]["new"] == 3
    second = run(root, "t_1")
    assert second["cache"]["built"] is False
    assert second["cache"]["reused"] == 3 and second["cache"]["bytes_indexed"] == 0
    cold = trace_mod.trace(root, "t_1", workers=1).to_json()
    for doc in (first, second):
        assert {k: v for k, v in doc.items() if k != "cache"} == {
            k: v for k, v in cold.items() if k != "cache"
        }
    assert run(root, "t_3")["records"] == 1  # found inside the .gz
    assert Path(first["cache"]["dir"]).is_relative_to(cache_root)


def test_grown_file_ingests_only_new_bytes(env: tuple[Path, Path]) -> None:
    """Appending to a file indexes from the stored offset; the new record is found."""
    root, _ = env
    run(root, "t_1")
    live = root / "containers/a_1/main.log"
    before = stored(root)["containers/a_1/main.log"]["indexed_bytes"]
    assert before == live.stat().st_size
    extra = rec(30, "a_1", "t_1", "appended")
    with live.open("a") as fh:
        fh.write(extra)
    doc = run(root, "t_1")
    assert doc["cache"]["appended"] == 1 and doc["cache"]["reused"] == 2
    assert doc["cache"]["bytes_indexed"] == len(extra.encode())
    assert stored(root)["containers/a_1/main.log"]["indexed_bytes"] == before + len(extra.encode())
    assert "appended" in [e["message"] for e in doc["entries"]]


def test_partial_last_line_is_searched_but_not_indexed(env: tuple[Path, Path]) -> None:
    """An unfinished last line stays outside the index yet is still read (and counted skipped)."""
    root, _ = env
    live = root / "containers/a_1/main.log"
    complete = live.stat().st_size
    with live.open("a") as fh:
        fh.write(rec(40, "a_1", "t_1", "tail").rstrip("\n")[:-5])
    doc = run(root, "t_1")
    assert stored(root)["containers/a_1/main.log"]["indexed_bytes"] == complete
    assert doc["skipped"] == 1 and "partial" in doc["skipped_detail"][0]["reason"]


def test_rewritten_and_removed_files_are_reindexed_and_dropped(env: tuple[Path, Path]) -> None:
    """A file replaced by different content is re-indexed; a deleted one leaves the catalog."""
    root, _ = env
    run(root, "t_1")
    live = root / "containers/a_1/main.log"
    replacement = live.with_name("main.tmp")
    replacement.write_text(rec(50, "a_1", "t_9", "replaced"))
    os.replace(replacement, live)
    (root / "containers/b_1/main.20261121T090000.log.gz").unlink()
    doc = run(root, "t_9")
    assert doc["cache"]["reindexed"] == 1 and doc["cache"]["dropped"] == 1
    assert doc["records"] == 1
    assert "containers/b_1/main.20261121T090000.log.gz" not in stored(root)
    assert run(root, "t_1")["records"] == 1  # only b_1's record is left


def test_truncated_file_is_reindexed_not_trusted(env: tuple[Path, Path]) -> None:
    """A file that shrank (same inode) is indexed again from the start."""
    root, _ = env
    run(root, "t_1")
    live = root / "containers/a_1/main.log"
    with live.open("r+") as fh:
        fh.truncate(0)
        fh.write(rec(60, "a_1", "t_1", "after truncate"))
    doc = run(root, "t_1")
    assert doc["cache"]["reindexed"] == 1
    assert [e["message"] for e in doc["entries"] if e["container_id"] == "a_1"] == [
        "after truncate"
    ]


def test_corrupt_catalog_is_rebuilt(env: tuple[Path, Path]) -> None:
    """Garbage in the catalog file is thrown away and rebuilt, never trusted."""
    root, _ = env
    run(root, "t_1")
    db = cache.cache_dir(root) / "trace.sqlite"
    for suffix in ("-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    db.write_bytes(b"this is not a database" * 100)
    doc = run(root, "t_1")
    assert doc["cache"]["built"] is True and doc["records"] == 3


def test_unknown_id_suggests_from_the_catalog(env: tuple[Path, Path]) -> None:
    """A missing id exits 1 with the closest indexed ids."""
    root, _ = env
    with pytest.raises(trace_mod.NotFoundError) as info:
        run(root, "t_4")
    assert "t_1" in str(info.value.hint)


def test_cache_never_writes_inside_the_tree(
    env: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cached runs leave the tree byte-for-byte unchanged; a cache dir inside it is refused."""
    root, _ = env
    before = snapshot(root)
    run(root, "t_1")
    run(root, "t_1")
    assert snapshot(root) == before
    monkeypatch.setenv(cache.CACHE_ENV, str(root / "cache"))
    with pytest.raises(BadInputError):
        run(root, "t_1")
    assert snapshot(root) == before


def test_default_cache_dir_is_under_the_home_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without $LOGTOOL_CACHE_DIR the catalog lives in $XDG_CACHE_HOME/logtool/<hash>."""
    monkeypatch.delenv(cache.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    where = cache.cache_dir(tmp_path / "logs")
    assert where.parent == (tmp_path / "xdg" / "logtool").resolve()
    assert where != cache.cache_dir(tmp_path / "other")
