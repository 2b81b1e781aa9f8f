"""Correlation ids in contextvars: blocks, set/get, threads and asyncio tasks (point 3)."""

from __future__ import annotations

import asyncio
import contextvars
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import logtool
from logtool.write.context import get_correlation_id


def test_correlation_block_sets_and_restores() -> None:
    """Nested blocks restore the outer id; the block yields the id it set."""
    assert get_correlation_id() is None
    with logtool.correlation("trade_a") as outer:
        assert outer == "trade_a"
        with logtool.correlation("trade_b"):
            assert logtool.get_correlation_id() == "trade_b"
        assert logtool.get_correlation_id() == "trade_a"
    assert logtool.get_correlation_id() is None


def test_generated_ids_use_the_prefix() -> None:
    """correlation() without an id makes a fresh one with the given prefix."""
    with logtool.correlation(prefix="signal") as cid:
        assert cid.startswith("signal_") and len(cid) > len("signal_")
    assert logtool.new_correlation_id() != logtool.new_correlation_id()


def test_set_and_reset_correlation_id() -> None:
    """set_correlation_id returns a token that reset_correlation_id restores."""
    token = logtool.set_correlation_id("trade_set")
    try:
        assert logtool.get_correlation_id() == "trade_set"
    finally:
        logtool.reset_correlation_id(token)
    assert logtool.get_correlation_id() is None


def test_threads_follow_with_propagate_or_copy_context() -> None:
    """A thread started via propagate() or copy_context().run sees the id; a bare one does not."""
    seen: dict[str, str | None] = {}

    def probe(name: str) -> None:
        seen[name] = logtool.get_correlation_id()

    with logtool.correlation("trade_thr"):
        threads = [
            threading.Thread(target=logtool.propagate(probe), args=("propagate",)),
            threading.Thread(target=contextvars.copy_context().run, args=(probe, "copy")),
            threading.Thread(target=probe, args=("bare",)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert seen == {"propagate": "trade_thr", "copy": "trade_thr", "bare": None}


def test_eight_threads_write_their_own_ids(tree: Path, read: Any) -> None:
    """8 threads with their own ids: every record is present once with the right id."""
    log = logtool.get_logger("thr_c", "comp")
    per_thread = 200

    def work(n: int) -> None:
        with logtool.correlation(f"trade_t{n}"):
            for i in range(per_thread):
                log.info("tick", n=n, i=i)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    recs = read("containers/thr_c/comp.log")
    assert len(recs) == 8 * per_thread
    assert all(r["correlation_id"] == f"trade_t{r['context']['n']}" for r in recs)
    assert Counter((r["context"]["n"], r["context"]["i"]) for r in recs) == Counter(
        {(n, i): 1 for n in range(8) for i in range(per_thread)})
    trade = read("correlations/trade_correlations.log")
    assert len(trade) == 8 * per_thread


def test_asyncio_tasks_inherit_and_stay_isolated(tree: Path, read: Any) -> None:
    """Tasks inherit the creator's id; setting one inside a task does not leak to others."""
    log = logtool.get_logger("aio_c", "comp")

    async def child(n: int) -> None:
        inherited = logtool.get_correlation_id()
        log.info("inherited", n=n, seen=inherited)
        logtool.set_correlation_id(f"signal_task{n}")
        await asyncio.sleep(0)
        log.info("own", n=n)

    async def main() -> None:
        with logtool.correlation("trade_parent"):
            await asyncio.gather(*(asyncio.create_task(child(n)) for n in range(5)))
            assert logtool.get_correlation_id() == "trade_parent"

    asyncio.run(main())
    recs = read("containers/aio_c/comp.log")
    inherited = [r for r in recs if r["message"] == "inherited"]
    own = [r for r in recs if r["message"] == "own"]
    assert {r["correlation_id"] for r in inherited} == {"trade_parent"}
    assert sorted(r["correlation_id"] for r in own) == [f"signal_task{n}" for n in range(5)]


CHILD = """
import sys, logtool
logtool.configure(root=sys.argv[1])
log = logtool.get_logger("mp_c", "comp")
n = sys.argv[2]
with logtool.correlation(f"trade_p{n}"):
    for i in range(int(sys.argv[3])):
        log.info("tick", n=f"p{n}", i=i)
logtool.shutdown()
"""


def test_threads_tasks_and_two_processes_share_one_tree(tree: Path, read: Any) -> None:
    """8 threads + asyncio tasks + 2 processes into one file: every record once, ids right."""
    per = 300
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, str(tree), str(n), str(per)])
             for n in range(2)]
    log = logtool.get_logger("mp_c", "comp")

    def work(n: int) -> None:
        with logtool.correlation(f"trade_t{n}"):
            for i in range(per):
                log.info("tick", n=f"t{n}", i=i)

    async def task(n: int) -> None:
        with logtool.correlation(f"trade_a{n}"):
            for i in range(per):
                log.info("tick", n=f"a{n}", i=i)
                if i % 50 == 0:
                    await asyncio.sleep(0)

    async def tasks() -> None:
        await asyncio.gather(*(task(n) for n in range(4)))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    asyncio.run(tasks())
    for t in threads:
        t.join()
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    recs = read("containers/mp_c/comp.log")
    names = [f"t{n}" for n in range(8)] + [f"a{n}" for n in range(4)] + ["p0", "p1"]
    assert Counter((r["context"]["n"], r["context"]["i"]) for r in recs) == Counter(
        {(name, i): 1 for name in names for i in range(per)})
    assert all(r["correlation_id"] == f"trade_{r['context']['n']}" for r in recs)
