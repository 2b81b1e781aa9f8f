"""The writer engine across processes: shared files, fork, exit flush and RLIMIT_FSIZE."""

from __future__ import annotations

import asyncio
import collections
import gzip
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import orjson

from logtool import contract
from logtool.write.sink import Sink

# A writer process: <root> <tag> <records per thread> <threads> <max_bytes or 0> <compress 0/1>
# <go file>; it starts writing when the go file appears, so all writers overlap.
WORKER = r"""
import os, sys, threading, time
from logtool.write.sink import Sink
root, tag, n, nthreads, max_bytes, compress, go = sys.argv[1:8]
open(go + "." + tag, "w").close()
while not os.path.exists(go):
    time.sleep(0.001)
sink = Sink(root, max_bytes=int(max_bytes) or None, compress_rotated=compress == "1",
            batch_size=200)
files = ["containers/c1/x.log", "containers/c2/y.log", "events/positions.jsonl"]
def work(t):
    for i in range(int(n)):
        sink.submit(files[i % 3], {"id": f"{tag}-{t}-{i}", "pad": "p" * 60},
                    mirror="master.log" if i % 5 == 0 else None)
threads = [threading.Thread(target=work, args=(t,)) for t in range(int(nthreads))]
for t in threads: t.start()
for t in threads: t.join()
sink.close(timeout=120)
st = sink.stats()
print(st["written"], st["dropped_write_errors"], st["write_errors"], st["last_error"])
"""


def run_python(code: str, *args: str) -> subprocess.Popen[str]:
    """Start a Python process running code with args (stdout/stderr captured)."""
    return subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def lines_under(root: Path) -> list[bytes]:
    """Every line of every live, rotated and .gz file under root (the marker excluded)."""
    out: list[bytes] = []
    for path in root.rglob("*"):
        if not path.is_file() or path.name == contract.TREE_MARKER:
            continue
        data = path.read_bytes()
        out.extend((gzip.decompress(data) if path.name.endswith(".gz") else data).splitlines())
    return out


def check_exact(root: Path, expected: set[str], mirrored: set[str]) -> None:
    """Each line parses; ids appear exactly once outside master.log, mirrored ones in it once."""
    main: collections.Counter[str] = collections.Counter()
    master: collections.Counter[str] = collections.Counter()
    for path in root.rglob("*"):
        if not path.is_file() or path.name == contract.TREE_MARKER:
            continue
        data = path.read_bytes()
        data = gzip.decompress(data) if path.name.endswith(".gz") else data
        target = master if path.name.startswith("master.") else main
        target.update(orjson.loads(line)["id"] for line in data.splitlines())
    assert set(main) == expected and max(main.values()) == 1
    assert set(master) == mirrored and max(master.values()) == 1


def test_processes_threads_and_tasks_share_files_with_rotation(tmp_path: Path) -> None:
    """2 processes x 4 threads, 8 threads and asyncio tasks here, rotating + gzip: all exact."""
    root = tmp_path / "logs"
    n = 3000
    max_bytes = 60_000
    go = tmp_path / "go"
    procs = [run_python(WORKER, str(root), f"p{k}", str(n), "4", str(max_bytes), "1", str(go))
             for k in range(2)]
    while not all((tmp_path / f"go.p{k}").exists() for k in range(2)):
        assert all(p.poll() is None for p in procs), procs[0].communicate()
        time.sleep(0.005)
    go.touch()
    sink = Sink(root, max_bytes=max_bytes, compress_rotated=True, batch_size=200)
    files = ["containers/c1/x.log", "containers/c2/y.log", "events/positions.jsonl"]

    def work(t: int) -> None:
        for i in range(n):
            sink.submit(files[i % 3], {"id": f"me-{t}-{i}", "pad": "p" * 60},
                        mirror="master.log" if i % 5 == 0 else None)

    async def task(k: int) -> None:
        for i in range(n // 5):
            sink.submit(files[i % 3], {"id": f"task-{k}-{i}", "pad": "p" * 60})
            if i % 20 == 0:
                await asyncio.sleep(0)

    async def tasks() -> None:
        await asyncio.gather(*(task(k) for k in range(4)))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    asyncio.run(tasks())
    for th in threads:
        th.join()
    sink.close(timeout=120)
    for p in procs:
        out, err = p.communicate(timeout=240)
        assert p.returncode == 0, err
        written, dropped, errors, _ = out.split(" ", 3)
        assert (int(written), int(dropped), int(errors)) == (4 * n, 0, 0), out

    expected = {f"p{k}-{t}-{i}" for k in range(2) for t in range(4) for i in range(n)}
    expected |= {f"me-{t}-{i}" for t in range(8) for i in range(n)}
    expected |= {f"task-{k}-{i}" for k in range(4) for i in range(n // 5)}
    mirrored = {f"p{k}-{t}-{i}" for k in range(2) for t in range(4) for i in range(0, n, 5)}
    mirrored |= {f"me-{t}-{i}" for t in range(8) for i in range(0, n, 5)}
    check_exact(root, expected, mirrored)

    rotated = list(root.rglob("*.gz"))
    assert len(rotated) > 10
    assert all(contract.ROTATED_NAME_RE.match(p.name) for p in rotated)
    # Every file stays near max_bytes: a batch never overshoots the limit by more than a line.
    for path in root.rglob("*"):
        if path.is_file() and not path.name.endswith(".gz") and path.name != contract.TREE_MARKER:
            assert path.stat().st_size <= max_bytes
    assert not list(root.rglob("*.tmp"))
    assert sink.stats()["written"] == 8 * n + 4 * (n // 5)


def test_exit_without_close_flushes_at_exit(tmp_path: Path) -> None:
    """A program that just returns still has every queued record written (atexit flush)."""
    code = (
        "import sys\nfrom logtool.write.sink import Sink\n"
        "s = Sink(sys.argv[1])\n"
        "for i in range(20000): s.submit('a.log', {'id': i})\n"
    )
    p = run_python(code, str(tmp_path / "logs"))
    _, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    ids = [orjson.loads(x)["id"] for x in (tmp_path / "logs/a.log").read_bytes().splitlines()]
    assert ids == list(range(20000))


def test_fork_child_writes_and_parent_pending_not_duplicated(tmp_path: Path) -> None:
    """Records queued in the parent at fork are written once (by the parent); the child writes."""
    root = tmp_path / "logs"
    root.mkdir()
    fifo = root / "blocker.log"
    os.mkfifo(fifo)
    sink = Sink(root)
    sink.submit("blocker.log", {"id": "block"})
    assert not sink.flush(timeout=0.2)  # the parent's writer is stuck opening the FIFO
    for i in range(300):
        sink.submit("shared.log", {"id": f"parent-{i}"})
    pid = os.fork()
    if pid == 0:  # child: never return into pytest
        code = 1
        try:
            st = sink.stats()
            if st["queue_depth"] == 0 and st["submitted"] == 0:
                for i in range(200):
                    sink.submit("shared.log", {"id": f"child-{i}"})
                sink.close(timeout=30)
                code = 0 if sink.stats()["written"] == 200 else 3
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    child_only = [orjson.loads(x)["id"] for x in (root / "shared.log").read_bytes().splitlines()]
    assert child_only == [f"child-{i}" for i in range(200)]

    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # unblock the parent's writer
    os.set_blocking(fd, True)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.extend(iter(lambda: os.read(fd, 65536), b"")))
    reader.start()
    sink.close(timeout=30)
    reader.join(30)
    os.close(fd)
    ids = collections.Counter(
        orjson.loads(x)["id"] for x in (root / "shared.log").read_bytes().splitlines()
    )
    expected = {f"parent-{i}" for i in range(300)} | {f"child-{i}" for i in range(200)}
    assert set(ids) == expected and max(ids.values()) == 1
    assert b"".join(got).splitlines() == [b'{"id":"block"}']


FSIZE_SCRIPT = r"""
import json, resource, sys
from logtool.write.sink import Sink
root, phase_max = sys.argv[1], sys.argv[2]
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, hard))
sink = Sink(root, max_bytes=int(phase_max) or None)
for i in range(1000):
    sink.submit("big.log", {"id": i, "pad": "q" * 80})
ok = sink.flush(30)
before = sink.stats()
resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
for i in range(1000, 1100):
    sink.submit("after.log", {"id": i})
sink.close(30)
after = sink.stats()
print(json.dumps({"ok": ok, "before": before, "after": after, "alive": True}))
"""


def _run_fsize(root: Path, max_bytes: int) -> dict[str, Any]:
    p = run_python(FSIZE_SCRIPT, str(root), str(max_bytes))
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    result: dict[str, Any] = json.loads(out)
    return result


def test_rlimit_fsize_counts_efbig_and_program_goes_on(tmp_path: Path) -> None:
    """Past RLIMIT_FSIZE writes fail with EFBIG: counted, no exception, lines stay whole."""
    root = tmp_path / "logs"
    res = _run_fsize(root, 0)
    before = res["before"]
    assert res["alive"] and res["ok"]
    assert before["write_errors"] >= 1 and "File too large" in before["last_error"]
    assert before["written"] + before["dropped_write_errors"] == 1000
    assert 0 < before["written"] < 1000
    big = (root / "big.log").read_bytes()
    assert len(big) <= 20_000
    lines = big.split(b"\n")
    whole = [orjson.loads(x)["id"] for x in lines[:-1]]
    assert whole == list(range(before["written"]))  # the cut tail (if any) is the only loss
    after = res["after"]
    assert after["written"] == before["written"] + 100  # writing resumed once the limit went
    ids = [orjson.loads(x)["id"] for x in (root / "after.log").read_bytes().splitlines()]
    assert ids == list(range(1000, 1100))


def test_rlimit_fsize_with_rotation_keeps_every_record(tmp_path: Path) -> None:
    """When max_bytes is under the file-size limit, rotation keeps every file writable."""
    root = tmp_path / "logs"
    res = _run_fsize(root, 15_000)
    assert res["before"]["written"] == 1000 and res["before"]["write_errors"] == 0
    ids = sorted(orjson.loads(x)["id"] for x in lines_under(root) if b'"pad"' in x)
    assert ids == list(range(1000))


_MP_SINK: Sink | None = None


def _mp_child(tag: str) -> None:
    """Body of a multiprocessing child: submit and return without closing the sink."""
    assert _MP_SINK is not None
    for i in range(5000):
        _MP_SINK.submit("mp.log", {"id": f"{tag}-{i}"})


def test_multiprocessing_fork_children_flush_on_exit(tmp_path: Path) -> None:
    """Children started by multiprocessing's fork method (which skip atexit) lose nothing."""
    import multiprocessing

    global _MP_SINK
    _MP_SINK = Sink(tmp_path / "logs")
    try:
        _MP_SINK.submit("mp.log", {"id": "parent"})
        ctx = multiprocessing.get_context("fork")
        procs = [ctx.Process(target=_mp_child, args=(f"c{k}",)) for k in range(2)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(120)
            assert p.exitcode == 0
        _MP_SINK.close()
    finally:
        _MP_SINK = None
    ids = collections.Counter(
        orjson.loads(x)["id"] for x in (tmp_path / "logs/mp.log").read_bytes().splitlines()
    )
    expected = {"parent"} | {f"c{k}-{i}" for k in range(2) for i in range(5000)}
    assert set(ids) == expected and max(ids.values()) == 1
