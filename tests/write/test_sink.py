"""The writer engine in one process: queue, flush, serialization, rotation and failures."""

from __future__ import annotations

import asyncio
import collections
import gzip
import os
import random
import re
import stat
import threading
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from logtool import contract
from logtool.write.sink import Sink

ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


def read_lines(path: Path) -> list[bytes]:
    """Raw lines of a plain or gzip file."""
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return data.splitlines()


def all_records(root: Path, pattern: str = "*") -> list[dict[str, Any]]:
    """Every record in live, rotated and .gz files under root matching pattern."""
    out: list[dict[str, Any]] = []
    for path in sorted(root.rglob(pattern)):
        if path.is_file() and path.name != contract.TREE_MARKER:
            out.extend(orjson.loads(line) for line in read_lines(path))
    return out


@pytest.fixture
def sink(tmp_path: Path):
    """A sink on a fresh root, closed after the test."""
    s = Sink(tmp_path / "logs")
    yield s
    s.close()


def test_submit_flush_writes_lines_and_mirror(sink: Sink) -> None:
    """Records land as JSON lines in their file, and mirrored ones in the mirror too."""
    for i in range(10):
        sink.submit("containers/c1/comp.log", {"i": i}, mirror="master.log" if i % 2 else None)
    assert sink.flush()
    lines = read_lines(sink.root / "containers/c1/comp.log")
    assert [orjson.loads(x)["i"] for x in lines] == list(range(10))
    master = read_lines(sink.root / "master.log")
    assert [orjson.loads(x)["i"] for x in master] == [1, 3, 5, 7, 9]
    st = sink.stats()
    assert st["submitted"] == 10 and st["written"] == 10 and st["lines_written"] == 15
    assert st["pid"] == os.getpid() and st["last_error"] is None


def test_tree_marker_written_once(tmp_path: Path) -> None:
    """The first write creates logtool.json; an existing marker is left untouched."""
    s = Sink(tmp_path / "logs")
    s.submit("a.log", {"x": 1})
    s.close()
    marker = orjson.loads((tmp_path / "logs" / contract.TREE_MARKER).read_bytes())
    assert marker["format_version"] == contract.FORMAT_VERSION
    assert marker["writer"].startswith("logtool ")
    assert ISO_RE.match(marker["created"])
    (tmp_path / "logs" / contract.TREE_MARKER).write_text('{"format_version": 1, "mine": true}')
    s2 = Sink(tmp_path / "logs")
    s2.submit("a.log", {"x": 2})
    s2.close()
    assert orjson.loads((tmp_path / "logs" / contract.TREE_MARKER).read_bytes())["mine"] is True
    assert list((tmp_path / "logs").glob("*.tmp")) == []


def test_float_time_fields_become_iso_utc(sink: Sink) -> None:
    """Float timestamp/real_utc_time are written as ISO-8601 UTC with microseconds and Z."""
    record = {"timestamp": 1700000000.25, "real_utc_time": 1700000001.000002, "other": 1.5}
    sink.submit("events/positions.jsonl", record)
    sink.submit("events/positions.jsonl", {"timestamp": "given as text"})
    sink.flush()
    first, second = (orjson.loads(x) for x in read_lines(sink.root / "events/positions.jsonl"))
    assert first["timestamp"] == "2023-11-14T22:13:20.250000Z"
    assert first["real_utc_time"] == "2023-11-14T22:13:21.000002Z"
    assert first["other"] == 1.5
    assert second["timestamp"] == "given as text"
    assert record["timestamp"] == 1700000000.25  # the caller's dict is not changed


def test_unserializable_values_fall_back_to_repr(sink: Sink) -> None:
    """Values orjson cannot encode become their repr and are counted."""

    class Thing:
        def __repr__(self) -> str:
            return "<Thing 7>"

    sink.submit("a.log", {"context": {"obj": Thing(), "s": {1, 2}}})
    sink.flush()
    (line,) = read_lines(sink.root / "a.log")
    assert orjson.loads(line)["context"] == {"obj": "<Thing 7>", "s": "{1, 2}"}
    assert sink.stats()["serialize_fallbacks"] == 2


def test_record_orjson_refuses_is_kept_as_minimal_record(sink: Sink) -> None:
    """A record that fails even with repr fallback is written minimal, with its repr, not lost."""

    class Bad:
        def __repr__(self) -> str:
            raise RuntimeError("no repr either")

    sink.submit("a.log", {"message": "big", "level": "INFO", "n": 2**70})
    sink.submit("a.log", {"message": "bad", "context": {"x": Bad()}})
    sink.submit("a.log", {"message": "fine"})
    sink.flush()
    recs = [orjson.loads(x) for x in read_lines(sink.root / "a.log")]
    assert [r["message"] for r in recs] == ["big", "bad", "fine"]
    assert "serialize_error" in recs[0] and str(2**70) in recs[0]["record_repr"]
    assert "serialize_error" in recs[1] and "unrepresentable" in recs[1]["record_repr"]
    assert sink.stats()["serialize_fallbacks"] >= 2


def test_threads_and_asyncio_tasks_every_record_once(sink: Sink) -> None:
    """8 threads and 8 asyncio tasks writing shared files: every id present exactly once."""
    n = 3000
    files = ["containers/c1/x.log", "containers/c2/y.log", "master.log"]

    def worker(t: int) -> None:
        for i in range(n):
            sink.submit(files[i % 3], {"id": f"t{t}-{i}"})

    async def task(k: int) -> None:
        for i in range(n // 10):
            sink.submit(files[i % 3], {"id": f"a{k}-{i}"})
            if i % 50 == 0:
                await asyncio.sleep(0)

    async def tasks() -> None:
        await asyncio.gather(*(task(k) for k in range(8)))

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    asyncio.run(tasks())
    for th in threads:
        th.join()
    assert sink.flush(timeout=60)
    ids = collections.Counter(r["id"] for r in all_records(sink.root))
    expected = {f"t{t}-{i}" for t in range(8) for i in range(n)}
    expected |= {f"a{k}-{i}" for k in range(8) for i in range(n // 10)}
    assert set(ids) == expected
    assert max(ids.values()) == 1
    st = sink.stats()
    assert st["submitted"] == st["written"] == len(expected)
    assert st["dropped_queue_full"] == 0


def test_flush_waits_for_earlier_records(sink: Sink) -> None:
    """flush() returns only once everything submitted before it is in the file."""
    for round_ in range(5):
        for i in range(1000):
            sink.submit("a.log", {"r": round_, "i": i})
        assert sink.flush()
        assert len(read_lines(sink.root / "a.log")) == 1000 * (round_ + 1)


def test_close_then_submit_counts_dropped_closed(tmp_path: Path) -> None:
    """After close, submits are dropped and counted; close writes what was queued."""
    s = Sink(tmp_path / "logs")
    for i in range(500):
        s.submit("a.log", {"i": i})
    s.close()
    s.submit("a.log", {"i": "late"})
    s.close()  # a second close is harmless
    assert len(read_lines(tmp_path / "logs/a.log")) == 500
    st = s.stats()
    assert st["dropped_closed"] == 1 and st["files_open"] == 0 and st["closed"] is True


def _fifo_blocked_sink(tmp_path: Path, **kwargs: Any) -> tuple[Sink, Path]:
    """A sink whose writer thread is stuck opening a FIFO nobody reads yet."""
    root = tmp_path / "logs"
    root.mkdir()
    fifo = root / "blocker.log"
    os.mkfifo(fifo)
    s = Sink(root, **kwargs)
    s.submit("blocker.log", {"id": "first"})
    assert not s.flush(timeout=0.2)  # the writer is blocked in open() on the FIFO
    while s.stats()["queue_depth"]:  # it took "first" and the marker, and will take no more
        time.sleep(0.01)
    return s, fifo


def _drain_fifo(fifo: Path, sink_to_close: Sink) -> list[bytes]:
    """Open the FIFO for reading (unblocking the writer), close the sink, return all lines."""
    chunks: list[bytes] = []
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    os.set_blocking(fd, True)
    reader = threading.Thread(target=lambda: _read_until_eof(fd, chunks))
    reader.start()
    sink_to_close.close(timeout=30)
    reader.join(30)
    os.close(fd)
    return b"".join(chunks).splitlines()


def _read_until_eof(fd: int, chunks: list[bytes]) -> None:
    while data := os.read(fd, 1 << 16):
        chunks.append(data)


@pytest.mark.parametrize("policy", ["drop", "block"])
def test_full_queue_drops_are_counted_and_memory_bounded(tmp_path: Path, policy: str) -> None:
    """With the writer stuck, the queue stops at queue_size; the rest is dropped and counted."""
    s, fifo = _fifo_blocked_sink(tmp_path, queue_size=200, batch_size=10, full_policy=policy,
                                 block_timeout=0.001)
    total = 2000
    for i in range(total):
        s.submit("blocker.log", {"id": i})
    st = s.stats()
    assert st["queue_depth"] <= 200 + 1  # +1: the flush marker queued by the fixture
    assert st["dropped_queue_full"] >= total - 200 - 10
    accepted = total - st["dropped_queue_full"]
    lines = _drain_fifo(fifo, s)
    ids = [orjson.loads(x)["id"] for x in lines]
    assert ids[0] == "first"
    assert len(ids) == accepted + 1 and len(set(ids)) == len(ids)
    assert s.stats()["max_queue_depth"] <= 200 + 1


def test_unwritable_root_counts_errors_and_recovers(tmp_path: Path) -> None:
    """A root under a regular file cannot be created (even by root): counted, then recovers."""
    blocker = tmp_path / "notadir"
    blocker.write_text("I am a file")
    s = Sink(blocker / "logs")
    for i in range(100):
        s.submit("containers/c1/a.log", {"i": i})
    assert s.flush()
    st = s.stats()
    assert st["written"] == 0 and st["dropped_write_errors"] == 100
    assert st["write_errors"] >= 1 and "NotADirectoryError" in st["last_error"]
    blocker.unlink()
    blocker.mkdir()
    s.submit("containers/c1/a.log", {"i": "after"})
    s.close()
    lines = read_lines(blocker / "logs/containers/c1/a.log")
    assert [orjson.loads(x)["i"] for x in lines] == ["after"]
    assert s.stats()["written"] == 1


def test_bad_file_does_not_stop_other_files(tmp_path: Path) -> None:
    """A path that cannot be opened (a directory in its place) fails alone; others are written."""
    root = tmp_path / "logs"
    (root / "containers/c1/broken.log").mkdir(parents=True)
    s = Sink(root)
    for i in range(50):
        s.submit("containers/c1/broken.log", {"i": i})
        s.submit("containers/c1/ok.log", {"i": i})
    s.close()
    assert len(read_lines(root / "containers/c1/ok.log")) == 50
    st = s.stats()
    assert st["written"] == 50 and st["dropped_write_errors"] == 50
    assert "IsADirectoryError" in st["last_error"]


def test_symlink_escape_is_refused(tmp_path: Path) -> None:
    """Directory or file symlinks that lead outside the root are refused and counted."""
    root = tmp_path / "logs"
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "containers").mkdir(parents=True)
    (root / "containers" / "evil").symlink_to(outside, target_is_directory=True)
    (root / "containers" / "c1").mkdir()
    (root / "containers" / "c1" / "link.log").symlink_to(outside / "target.log")
    s = Sink(root)
    s.submit("containers/evil/x.log", {"i": 1})
    s.submit("containers/evil/sub/y.log", {"i": 2})
    s.submit("containers/c1/link.log", {"i": 3})
    s.submit("../outside/z.log", {"i": 4})
    s.submit("containers/c1/fine.log", {"i": 5})
    s.close()
    assert list(outside.rglob("*")) == []
    st = s.stats()
    assert st["refused_paths"] == 4 and st["written"] == 1
    assert "outside the root" in st["last_error"]


def test_size_rotation_names_and_no_loss(tmp_path: Path) -> None:
    """Small max_bytes rotates into contract-named files and every line survives."""
    root = tmp_path / "logs"
    s = Sink(root, max_bytes=4000, batch_size=100)
    for i in range(3000):
        s.submit("containers/c1/comp.log", {"id": i, "pad": "x" * 40})
        s.submit("events/positions.jsonl", {"id": i})
    s.close()
    comp = sorted((root / "containers/c1").iterdir())
    rotated = [p for p in comp if p.name != "comp.log"]
    assert len(rotated) > 10
    for p in rotated:
        m = contract.ROTATED_NAME_RE.match(p.name)
        assert m and m["stem"] == "comp" and m["ext"] == ".log"
        assert p.stat().st_size <= 4000
    events = [p.name for p in (root / "events").iterdir() if p.name != "positions.jsonl"]
    assert events and all(
        contract.ROTATED_NAME_RE.match(n)["ext"] == ".jsonl" for n in events  # type: ignore[index]
    )
    ids = sorted(r["id"] for r in all_records(root / "containers"))
    assert ids == list(range(3000))
    assert sorted(r["id"] for r in all_records(root / "events")) == list(range(3000))
    assert s.stats()["rotations"] == len(rotated) + len(events)


def test_gzip_and_backup_count(tmp_path: Path) -> None:
    """Rotated files are gzipped (no plain or temp file left) and only the newest are kept."""
    root = tmp_path / "logs"
    s = Sink(root, max_bytes=2000, batch_size=50, compress_rotated=True, backup_count=3)
    for i in range(2000):
        s.submit("a.log", {"id": i, "pad": "y" * 30})
    s.close()
    names = sorted(p.name for p in root.iterdir() if p.name != contract.TREE_MARKER)
    gz = [n for n in names if n.endswith(".gz")]
    assert len(gz) == 3 and "a.log" in names and len(names) == 4
    assert all(contract.ROTATED_NAME_RE.match(n) for n in gz)
    def order(name: str) -> tuple[str, int]:
        m = contract.ROTATED_NAME_RE.match(name)
        assert m
        return m["stamp"], int(m["seq"] or 0)

    kept = [orjson.loads(x)["id"] for n in sorted(gz, key=order) for x in read_lines(root / n)]
    kept += [orjson.loads(x)["id"] for x in read_lines(root / "a.log")]
    assert kept == list(range(2000 - len(kept), 2000))  # the newest, in order, none missing
    # Files trimmed before their turn to be compressed are simply deleted.
    assert 3 <= s.stats()["compressed"] <= s.stats()["rotations"]


def test_forced_rotate_and_set_max_bytes(tmp_path: Path) -> None:
    """rotate() moves files aside on demand; set_max_bytes changes the limit at runtime."""
    root = tmp_path / "logs"
    s = Sink(root, max_bytes=None)
    s.submit("a.log", {"i": 1})
    s.submit("b.log", {"i": 1})
    s.flush()
    s.rotate("a.log")
    assert len(list(root.glob("a.*.log"))) == 1 and not list(root.glob("b.*.log"))
    s.submit("a.log", {"i": 2})
    s.submit("b.log", {"i": 2})
    s.rotate()
    assert len(list(root.glob("a.*.log"))) == 2 and len(list(root.glob("b.*.log"))) == 1
    s.set_max_bytes(50)
    for i in range(10):
        s.submit("c.log", {"i": i, "pad": "z" * 20})
    s.close()
    assert len(list(root.glob("c.*.log"))) >= 4
    assert sorted(r["i"] for r in all_records(root, "c.*")) == list(range(10))


def test_rotation_notices_file_renamed_by_someone_else(tmp_path: Path) -> None:
    """When the live file is moved away by another process, the writer reopens the path."""
    root = tmp_path / "logs"
    s = Sink(root, max_bytes=None)
    s.submit("a.log", {"i": 1})
    s.flush()
    (root / "a.log").rename(root / "a.20200101T000000.log")
    s.submit("a.log", {"i": 2})
    s.close()
    assert [orjson.loads(x)["i"] for x in read_lines(root / "a.log")] == [2]
    assert [orjson.loads(x)["i"] for x in read_lines(root / "a.20200101T000000.log")] == [1]


def test_many_files_beyond_open_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """More files than the handle cap: least recently used handles close, nothing is lost."""
    from logtool.write import _files

    monkeypatch.setattr(_files, "MAX_OPEN_FILES", 8)
    s = Sink(tmp_path / "logs", batch_size=7)
    for i in range(600):
        s.submit(f"containers/c{i % 30}/x.log", {"i": i})
    s.flush()
    assert s.stats()["files_open"] <= 8
    s.close()
    assert sorted(r["i"] for r in all_records(tmp_path / "logs")) == list(range(600))


def test_no_thread_until_first_submit(tmp_path: Path) -> None:
    """Creating a sink starts nothing and touches no file; the first submit starts the writer."""
    def writers() -> int:
        return sum(t.name == "logtool-writer" for t in threading.enumerate())

    before = writers()
    s = Sink(tmp_path / "logs")
    assert not (tmp_path / "logs").exists()
    assert writers() == before
    s.submit("a.log", {"i": 1})
    assert writers() == before + 1
    s.close()
    assert stat.S_ISREG((tmp_path / "logs/a.log").stat().st_mode)


def test_stalled_writer_makes_blocking_callers_drop_at_once(tmp_path: Path) -> None:
    """Once a whole block wait sees no progress, callers drop without waiting until it resumes."""
    s, fifo = _fifo_blocked_sink(tmp_path, queue_size=50, batch_size=5, full_policy="block",
                                 block_timeout=0.05)
    for i in range(1000):
        s.submit("blocker.log", {"id": i})
    st = s.stats()
    assert st["blocked_waits"] == 1  # only the first caller to find the queue full waited
    assert st["dropped_queue_full"] == 1000 - (st["submitted"] - 1)
    lines = _drain_fifo(fifo, s)
    assert len(lines) == s.stats()["written"] == s.stats()["submitted"]


def test_bad_records_and_paths_never_cost_other_records(sink: Sink) -> None:
    """A non-dict record, a NUL in a path or a non-string path is contained; others land."""
    sink.submit("a.log", ["not", "a", "dict"])  # type: ignore[arg-type]
    sink.submit("bad\x00name.log", {"i": 1})
    sink.submit(None, {"i": 2})  # type: ignore[arg-type]
    sink.submit("a.log", {"i": 3})
    assert sink.flush()
    recs = [orjson.loads(x) for x in read_lines(sink.root / "a.log")]
    assert "serialize_error" in recs[0] and "not" in recs[0]["record_repr"]
    assert recs[1] == {"i": 3}
    st = sink.stats()
    assert st["refused_paths"] == 2 and st["dropped_write_errors"] == 2 and st["written"] == 2


def test_rotation_by_another_writer_is_followed(tmp_path: Path) -> None:
    """A second sink (own descriptors, like another process) rotates; the first follows."""
    root = tmp_path / "logs"
    first = Sink(root, max_bytes=None)
    other = Sink(root, max_bytes=None)
    for i in range(100):
        first.submit("containers/c1/a.log", {"i": i})
    first.flush()
    other.rotate("containers/c1/a.log")  # not open in `other` before: opened, then rotated
    for i in range(100, 200):
        first.submit("containers/c1/a.log", {"i": i})
    first.close()
    other.close()
    rotated = list((root / "containers/c1").glob("a.*.log"))
    assert len(rotated) == 1 and contract.ROTATED_NAME_RE.match(rotated[0].name)
    assert [orjson.loads(x)["i"] for x in read_lines(rotated[0])] == list(range(100))
    live = [orjson.loads(x)["i"] for x in read_lines(root / "containers/c1/a.log")]
    assert live == list(range(100, 200))
    assert other.stats()["rotations"] == 1 and first.stats()["rotations"] == 0
    other2 = Sink(root)
    other2.rotate("containers/c9/missing.log")  # a file nobody wrote: nothing is created
    other2.close()
    assert not (root / "containers/c9").exists()
    assert other2.stats()["write_errors"] == 0


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"queue_size": 0}, "queue_size"),
        ({"full_policy": "wait"}, "full_policy"),
        ({"max_bytes": 0}, "max_bytes"),
        ({"backup_count": -1}, "backup_count"),
        ({"block_timeout": -0.1}, "block_timeout"),
        ({"batch_size": 2.5}, "batch_size"),
    ],
)
def test_bad_settings_are_refused_by_name(tmp_path: Path, options: dict[str, Any],
                                          named: str) -> None:
    """Invalid settings raise BadInputError naming the setting, before anything is written."""
    from logtool.errors import BadInputError

    with pytest.raises(BadInputError, match=named):
        Sink(tmp_path / "logs", **options)
    s = Sink(tmp_path / "logs")
    with pytest.raises(BadInputError, match="max_bytes"):
        s.set_max_bytes(-5)
    assert not (tmp_path / "logs").exists()


def test_file_that_is_own_file_and_mirror_keeps_record_order(sink: Sink) -> None:
    """Lines reach a file that is both a records' own file and a mirror in submission order."""
    sink.submit("a.log", {"i": 0}, mirror="m.log")
    sink.submit("m.log", {"i": 1})
    sink.submit("a.log", {"i": 2}, mirror="m.log")
    sink.submit("m.log", {"i": 3}, mirror="m.log")
    sink.submit("b.log", {"i": 4}, mirror="m.log")
    sink.submit("m.log", {"i": 5})
    assert sink.flush()
    assert [orjson.loads(x)["i"] for x in read_lines(sink.root / "m.log")] == [0, 1, 2, 3, 3, 4, 5]
    st = sink.stats()
    assert st["written"] == 6 and st["lines_written"] == 10


def test_submit_log_items_become_log_records(sink: Sink) -> None:
    """A LogItem is written as a LOG_FIELDS record, time as ISO, mirrored, minimal if refused."""
    ctx = {"n": 1}
    sink.submit_log((("c/x.log", "master.log", "INFO", "c", "x"), 1700000000.25, "hi",
                     "component_internal", None, ctx))
    sink.submit_log((("c/x.log", None, "DEBUG", "c", "x"), 1700000000.5, "big",
                     "component_internal", "trade_1", {"n": 2**70}))
    assert sink.flush()
    first, second = (orjson.loads(x) for x in read_lines(sink.root / "c/x.log"))
    assert list(first) == list(contract.LOG_FIELDS)
    assert first["timestamp"] == "2023-11-14T22:13:20.250000Z" and first["context"] == ctx
    assert read_lines(sink.root / "master.log") == read_lines(sink.root / "c/x.log")[:1]
    assert second["timestamp"] == "2023-11-14T22:13:20.500000Z"
    assert second["message"] == "big" and second["correlation_id"] == "trade_1"
    assert str(2**70) in second["record_repr"] and "serialize_error" in second
    assert ctx == {"n": 1}


def test_non_string_keys_are_written_as_strings_and_fallbacks_counted_once(sink: Sink) -> None:
    """Int, float and None keys become JSON strings; a repr fallback in that record counts once."""

    class Thing:
        def __repr__(self) -> str:
            return "<Thing>"

    sink.submit("a.log", {"context": {"obj": Thing(), 1: "one", 2.5: "x", None: "n"}})
    sink.submit("a.log", {"context": {"plain": 1}})
    assert sink.flush()
    first, second = (orjson.loads(x) for x in read_lines(sink.root / "a.log"))
    assert first["context"] == {"obj": "<Thing>", "1": "one", "2.5": "x", "null": "n"}
    assert second == {"context": {"plain": 1}}
    assert sink.stats()["serialize_fallbacks"] == 1


def test_mixed_files_and_mirrors_keep_order_and_counts(sink: Sink) -> None:
    """Random records, first to separate own and mirror files, then to overlapping ones: each
    file gets exactly its lines, in order, and written/lines_written count them."""
    rng = random.Random(7)
    paths = ["a.log", "b.log", "m.log", "n.log"]
    expect: dict[str, list[int]] = {p: [] for p in paths}
    mirrored = 0
    rel = "a.log"
    for k in range(1200):
        if k < 600:  # runs of one file, mirrored or not, to m.log or n.log
            rel = rel if rng.random() < 0.7 else rng.choice(paths[:2])
            mirror = rng.choice([None, "m.log", "m.log", "m.log", "n.log"])
        else:  # any file, its mirror possibly itself or another records' own file
            rel = rng.choice(paths)
            mirror = rng.choice([None, "m.log", "m.log", "n.log", rel])
        if k % 2:
            sink.submit(rel, {"k": k}, mirror)
        else:
            sink.submit_log(((rel, mirror, "INFO", "c", "x"), 1700000000.0 + k, "m", "s", None,
                             {"k": k}))
        expect[rel].append(k)
        if mirror is not None:
            expect[mirror].append(k)
            mirrored += 1
        if k == 599:
            assert sink.flush()
    assert sink.flush()
    for p in paths:
        recs = [orjson.loads(x) for x in read_lines(sink.root / p)]
        assert [r.get("k", r.get("context", {}).get("k")) for r in recs] == expect[p], p
    st = sink.stats()
    assert st["written"] == 1200 and st["lines_written"] == 1200 + mirrored


def test_shared_log_head_between_plain_records_keeps_each_file(sink: Sink) -> None:
    """LogItems sharing one head, interleaved with submit() records of other files and with a
    refused record, each land in their own file with their head's fields."""
    head = ("c/x.log", "master.log", "INFO", "c", "x")
    other = ("c/y.log", None, "DEBUG", "c", "y")
    for k in range(6):
        sink.submit_log((head, 1700000000.0 + k, "m", "s", None, {"k": k}))
        if k % 2:
            sink.submit("p.log", {"k": k}, "q.log")
        if k == 3:
            sink.submit_log((head, float("nan"), "bad", "s", None, {"k": "nan"}))
            sink.submit_log((other, 1700000000.0, "o", "s", None, {"k": "o"}))
    assert sink.flush()
    own = [orjson.loads(x) for x in read_lines(sink.root / "c/x.log")]
    assert [r["message"] for r in own] == ["m", "m", "m", "m", "bad", "m", "m"]
    assert [r["context"]["k"] for r in own[:4] + own[5:]] == [0, 1, 2, 3, 4, 5]
    assert {(r["level"], r["component_name"]) for r in own} == {("INFO", "x")}
    assert "serialize_error" in own[4]
    assert len(read_lines(sink.root / "master.log")) == 7
    assert [orjson.loads(x)["k"] for x in read_lines(sink.root / "p.log")] == [1, 3, 5]
    assert read_lines(sink.root / "q.log") == read_lines(sink.root / "p.log")
    (y,) = (orjson.loads(x) for x in read_lines(sink.root / "c/y.log"))
    assert (y["level"], y["component_name"], y["context"]) == ("DEBUG", "y", {"k": "o"})
