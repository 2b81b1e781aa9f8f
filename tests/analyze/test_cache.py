"""Tests for logtool.analyze.cache: the persistent catalog kept outside the tree."""

from __future__ import annotations

import gzip
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fixtures import after_ten, log, snapshot

from logtool.analyze import cache
from logtool.analyze import trace as trace_mod
from logtool.errors import BadInputError


def rec(ms: int, cid: str, corr: str | None, msg: str = "m") -> str:
    """One container log line at 10:00:00 + ms."""
    return json.dumps(log(after_ten(ms), "INFO", cid, "main", msg, corr, "internal_bus")) + "\n"


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


def run(root: Path, cid: str) -> dict[str, Any]:
    """trace with the cache, as the --json document."""
    return trace_mod.trace(root, cid, cache=True, workers=1).to_json()


def test_index_built_by_forked_workers_equals_one_built_in_process(
    env: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Splitting the indexing over a forked worker gives the same rows and the same answer."""
    root, _ = env
    one = trace_mod.trace(root, "t_1", cache=True, workers=1).to_json()
    rows_one = sqlite3.connect(cache.cache_dir(root) / "trace.sqlite").execute(
        "SELECT * FROM files ORDER BY rel"
    ).fetchall()
    monkeypatch.setattr(cache, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "cache-forked"))
    two = trace_mod.trace(root, "t_1", cache=True, workers=2).to_json()
    assert two["cache"]["built"] is True and two["cache"]["new"] == 3
    rows_two = sqlite3.connect(cache.cache_dir(root) / "trace.sqlite").execute(
        "SELECT * FROM files ORDER BY rel"
    ).fetchall()
    assert [r[:5] for r in rows_two] == [r[:5] for r in rows_one]
    assert {k: v for k, v in two.items() if k != "cache"} == {
        k: v for k, v in one.items() if k != "cache"
    }


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


# ---------------------------------------------------------------- DuckDB catalog (open_tree)

VIEW_QUERIES = (
    "SELECT container_id, component_name, level, message, file, line, ts FROM logs ORDER BY ALL",
    "SELECT * EXCLUDE (record) FROM flows ORDER BY ALL",
    "SELECT event_type, correlation_id, file, line FROM events ORDER BY ALL",
    # A grown file's new lines are groups of their own in the catalog: compare the totals.
    "SELECT file, source_kind, container_id, component_name, level, sum(records), "
    "min(first_ts), max(last_ts), sum(bad) FROM _health GROUP BY ALL ORDER BY ALL",
    "SELECT rel, kind, size FROM _files ORDER BY ALL",
)


def views(tree: Any) -> list[list[Any]]:
    """The rows of the main views of an opened tree."""
    return [tree.con.execute(q).fetchall() for q in VIEW_QUERIES]


def catalog_tree(root: Path) -> Path:
    """A tree with logs, master.log, a flow, an event and two bad lines."""
    (root / "flows").mkdir(parents=True)
    (root / "events").mkdir()
    (root / "containers/a_1").mkdir(parents=True)
    (root / "containers/a_1/main.log").write_text(
        rec(0, "a_1", "t_1") + "{broken\n" + rec(10, "a_1", "t_2")
    )
    (root / "master.log").write_text(rec(0, "a_1", "t_1") + rec(11, "z_9", "t_3", "master only"))
    (root / "flows/main_event_flows.log").write_text(
        json.dumps(
            {
                "timestamp": "2026-11-21T10:00:00.005000Z",
                "event_id": "e",
                "correlation_id": "t_1",
                "source": "a_1",
                "target": "b_1",
                "flow_type": "external",
                "tier": "fast",
                "container_id": "a_1",
                "latency_ms": 2.5,
            }
        )
        + "\n"
    )
    (root / "events/positions.jsonl").write_text(
        json.dumps(
            {
                "timestamp": "2026-11-21T10:00:00.007000Z",
                "real_utc_time": "2026-11-21T10:00:00Z",
                "correlation_id": "t_1",
                "pid": 1,
            }
        )
        + "\nnot json\n"
    )
    return root


def test_catalog_views_equal_the_uncached_views(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Built and reused, the cached views hold the same rows and skipped counts as a cold open."""
    from logtool.analyze import load

    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "cache"))
    root = catalog_tree(tmp_path / "logs")
    before = snapshot(root)
    with load.open_tree(root) as cold:
        expected, skipped = views(cold), cold.skipped.to_json()
    with load.open_tree(root, cache=True) as first:
        assert first.cache_stats["new"] == 4
        assert views(first) == expected and first.skipped.to_json() == skipped
    with load.open_tree(root, cache=True) as second:
        assert second.cache_stats["reused"] == 4 and second.cache_stats["bytes_parsed"] == 0
        assert views(second) == expected and second.skipped.to_json() == skipped
    assert skipped["total"] == 2
    assert snapshot(root) == before


def test_catalog_grown_file_parses_only_new_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After an append the catalog parses the new bytes only and line numbers continue."""
    import duckdb

    from logtool.analyze import catalog, load

    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "cache"))
    root = catalog_tree(tmp_path / "logs")
    load.open_tree(root, cache=True).close()
    live = root / "containers/a_1/main.log"
    old_size = live.stat().st_size
    extra = rec(20, "a_1", "t_1", "grown") + "{also broken\n"
    with live.open("a") as fh:
        fh.write(extra)
    with load.open_tree(root, cache=True) as tree:
        assert tree.cache_stats["appended"] == 1 and tree.cache_stats["reused"] == 3
        assert tree.cache_stats["bytes_parsed"] == len(extra.encode())
        got = views(tree)
        skipped = tree.skipped.to_json()
    with load.open_tree(root) as cold:
        assert got == views(cold) and skipped == cold.skipped.to_json()
    assert ("a_1", "main", "INFO", "grown", "containers/a_1/main.log", 4) in [r[:6] for r in got[0]]
    db = catalog.Catalog(root).path
    con = duckdb.connect(str(db), read_only=True)
    try:
        ingested = con.execute(
            "SELECT ingested, lines FROM files WHERE rel = 'containers/a_1/main.log'"
        ).fetchone()
    finally:
        con.close()
    assert ingested == (old_size + len(extra.encode()), 5)


def test_catalog_rewritten_file_and_partial_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A replaced file is parsed again; an unfinished last line is counted, not parsed."""
    from logtool.analyze import load

    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "cache"))
    root = catalog_tree(tmp_path / "logs")
    load.open_tree(root, cache=True).close()
    live = root / "containers/a_1/main.log"
    tmp = live.with_name("new.tmp")
    tmp.write_text(rec(30, "a_1", "t_5", "rewritten") + rec(31, "a_1", "t_5")[:40])
    os.replace(tmp, live)
    with load.open_tree(root, cache=True) as tree:
        assert tree.cache_stats["reparsed"] == 1
        messages = [r[3] for r in views(tree)[0] if r[4] == "containers/a_1/main.log"]
        assert messages == ["rewritten"]
        assert tree.skipped.files["containers/a_1/main.log"].count == 1


def test_catalog_locked_by_another_process_is_waited_for_not_deleted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While another process holds the catalog, a run waits for it and then reuses it."""
    import subprocess
    import sys

    from logtool.analyze import catalog, load

    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "cache"))
    root = catalog_tree(tmp_path / "logs")
    load.open_tree(root, cache=True).close()
    db = catalog.Catalog(root).path
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys; c = duckdb.connect({str(db)!r}); print('held', flush=True); "
            "sys.stdin.readline()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        import threading

        release = threading.Timer(1.0, lambda: holder.communicate(""))
        release.start()
        with load.open_tree(root, cache=True) as tree:
            assert tree.cache_stats["reused"] == 4
        release.join()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


def test_cached_container_health_equals_cold_built_reused_and_grown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """container-health's light cached open answers as the cold one: first, repeated, grown."""
    from logtool.analyze import load
    from logtool.analyze.health import container_health

    def report(**kw: Any) -> tuple[list[dict[str, Any]], int, Any]:
        with load.open_tree(root, light=True, **kw) as tree:
            got = container_health(tree)
            assert not tree.has_view("logs")  # light: only _files and _health
            return ([c.to_json() for c in got.containers], got.skipped_lines,
                    getattr(tree, "cache_stats", None))

    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "cache"))
    root = catalog_tree(tmp_path / "logs")
    cold = report()[:2]
    assert cold[1] == 1  # the broken line of a_1/main.log
    first, second = report(cache=True), report(cache=True)
    assert first[:2] == cold and first[2]["new"] == 4
    assert second[:2] == cold and second[2]["reused"] == 4
    with (root / "containers/a_1/main.log").open("a") as fh:
        fh.write(rec(30, "a_1", "t_4", "grown") + "{bad\n")
    grown = report(cache=True)
    assert grown[2]["appended"] == 1 and grown[:2] == report()[:2]
    assert grown[1] == 2 and grown[0][0]["records"] == cold[0][0]["records"] + 1


def test_catalog_one_scan_per_view_keeps_line_numbers_per_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many files read in one catalog scan keep each file's own line numbers and bad lines."""
    from logtool.analyze import load

    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "cache"))
    root = catalog_tree(tmp_path / "logs")
    for n in range(6):
        body = "".join(rec(n * 10 + k, f"b_{n}", f"t_{n}_{k}") for k in range(n + 1))
        bad = b"{\"level\": \"INFO\", \"message\": \"\xff\xfe\"}\n" if n % 2 else b"nope\n"
        path = root / f"containers/b_{n}/main.log"
        path.parent.mkdir(parents=True)
        path.write_bytes(body.encode() + bad + rec(n * 10 + 9, f"b_{n}", None, "tail").encode())
    with load.open_tree(root) as cold:
        expected, skipped = views(cold), cold.skipped.to_json()
    with load.open_tree(root, cache=True) as cached:
        assert cached.cache_stats["new"] == 10
        assert views(cached) == expected and cached.skipped.to_json() == skipped
    assert skipped["files"]["containers/b_5/main.log"]["first_line"] == 7
    assert ("b_5", "main", "INFO", "tail", "containers/b_5/main.log", 8) in [
        r[:6] for r in expected[0]]


def test_catalog_append_after_blank_lines_keeps_cold_line_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blank lines are no rows: an append continues from the rows read, as a cold read does."""
    from logtool.analyze import load

    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "cache"))
    root = catalog_tree(tmp_path / "logs")
    live = root / "containers/a_1/main.log"
    live.write_text(rec(0, "a_1", "t_1") + "\n\n" + rec(1, "a_1", "t_1") + "\n")
    load.open_tree(root, cache=True).close()
    with live.open("a") as fh:
        fh.write(rec(2, "a_1", None, "after") + "nope\n")
    with load.open_tree(root) as cold:
        expected, skipped = views(cold), cold.skipped.to_json()
    with load.open_tree(root, cache=True) as cached:
        assert cached.cache_stats["appended"] == 1
        assert views(cached) == expected and cached.skipped.to_json() == skipped
    assert ("a_1", "main", "INFO", "after", "containers/a_1/main.log", 3) in [
        r[:6] for r in expected[0]]
    assert skipped["files"]["containers/a_1/main.log"]["first_line"] == 4


def test_catalog_append_to_events_and_a_new_event_type(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An append binding only its own views still equals a cold read: grown and new events."""
    from logtool.analyze import load

    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "cache"))
    root = catalog_tree(tmp_path / "logs")
    load.open_tree(root, cache=True).close()
    event = {"timestamp": "2026-11-21T10:00:01.000000Z", "real_utc_time": "2026-11-21T10:00:01Z",
             "correlation_id": "t_9", "pid": 2}
    with (root / "events/positions.jsonl").open("a") as fh:
        fh.write(json.dumps(event) + "\n")
    (root / "events/custom_thing.jsonl").write_text(json.dumps(event) + "\n")
    with load.open_tree(root) as cold:
        expected, skipped = views(cold), cold.skipped.to_json()
        custom = cold.con.execute("SELECT correlation_id FROM events_custom_thing").fetchall()
    with load.open_tree(root, cache=True) as cached:
        assert cached.cache_stats["appended"] == 1 and cached.cache_stats["new"] == 1
        assert views(cached) == expected and cached.skipped.to_json() == skipped
        assert cached.con.execute(
            "SELECT correlation_id FROM events_custom_thing").fetchall() == custom == [("t_9",)]
    assert ("positions", "t_9") in [r[:2] for r in expected[2]]
