"""Writer benchmark: caller-side ns per call and end-to-end records/s against other loggers.

Run by hand (not a test):  python bench/bench_writer.py [--records 200000] [--only NAME ...]

Each logger runs in its own fresh process (so peak RSS is its own) and writes N records with
five context fields to a file in a temporary directory. Per-call time is measured with
time.perf_counter_ns around every --sample-every'th call; end-to-end is from the first call
until the records are on disk (flushed to the OS). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ENGINES = ("stdlib", "structlog", "loguru", "logtool-sink", "logtool-sink-bigq", "logtool")
MESSAGE = "Generating signal"


def fields(i: int) -> dict[str, Any]:
    """The five context fields every engine logs."""
    return {"strength": 0.8, "symbol": "BTC-USD", "bar": i, "side": "buy", "ok": True}


# ---------------------------------------------------------------- engines: (call, finish)


def setup_stdlib(out: Path) -> tuple[Callable[[int], None], Callable[[], int]]:
    import logging

    import orjson

    class OrjsonFormatter(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return orjson.dumps({
                "timestamp": self.formatTime(record),
                "level": record.levelname,
                "logger": record.name,
                "message": record.getMessage(),
                "context": getattr(record, "ctx", None),
            }).decode()

    path = out / "stdlib.log"
    handler = logging.FileHandler(path)
    handler.setFormatter(OrjsonFormatter())
    log = logging.getLogger("bench")
    log.propagate = False
    log.setLevel(logging.INFO)
    log.addHandler(handler)

    def call(i: int) -> None:
        log.info(MESSAGE, extra={"ctx": fields(i)})

    def finish() -> int:
        handler.flush()
        handler.close()
        return count_lines(path)

    return call, finish


def setup_structlog(out: Path) -> tuple[Callable[[int], None], Callable[[], int]]:
    import orjson
    import structlog

    path = out / "structlog.log"
    fh = path.open("wb")
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.JSONRenderer(serializer=orjson.dumps),
        ],
        logger_factory=structlog.BytesLoggerFactory(file=fh),
        cache_logger_on_first_use=True,
    )
    log = structlog.get_logger()

    def call(i: int) -> None:
        log.info(MESSAGE, **fields(i))

    def finish() -> int:
        fh.close()
        return count_lines(path)

    return call, finish


def setup_loguru(out: Path) -> tuple[Callable[[int], None], Callable[[], int]]:
    from loguru import logger

    path = out / "loguru.log"
    logger.remove()
    logger.add(path, serialize=True, level="INFO")

    def call(i: int) -> None:
        logger.info(MESSAGE, **fields(i))

    def finish() -> int:
        logger.remove()
        return count_lines(path)

    return call, finish


def setup_logtool_sink(out: Path, queue_size: int = 100_000,
                       ) -> tuple[Callable[[int], None], Callable[[], int]]:
    from logtool.write.sink import Sink

    sink = Sink(out / "tree", queue_size=queue_size)
    relpath = "containers/strategy_001/momentum.log"
    now = time.time

    def call(i: int) -> None:
        # The record a container logger builds: nothing formatted, the float time is
        # turned into ISO-8601 by the writer thread.
        sink.submit(relpath, {
            "timestamp": now(), "level": "INFO", "container_id": "strategy_001",
            "component_name": "momentum", "message": MESSAGE,
            "event_scope": "component_internal", "correlation_id": None, "context": fields(i),
        })

    def finish() -> int:
        sink.flush(timeout=None)
        STATS.update(sink.stats())
        sink.close()
        return count_lines(out / "tree" / relpath)

    return call, finish


def setup_logtool(out: Path) -> tuple[Callable[[int], None], Callable[[], int]]:
    import logtool

    logtool.configure(root=out / "tree", level="INFO")
    log = logtool.get_logger("strategy_001", "momentum")

    def call(i: int) -> None:
        log.info(MESSAGE, **fields(i))

    def finish() -> int:
        logtool.flush()
        STATS.update(logtool.stats())
        logtool.shutdown()
        return count_lines(out / "tree" / "containers" / "strategy_001" / "momentum.log")

    return call, finish


def setup_logtool_sink_bigq(out: Path) -> tuple[Callable[[int], None], Callable[[], int]]:
    # A queue that never fills: the caller's own cost, without waiting for the writer.
    return setup_logtool_sink(out, queue_size=RECORDS[0] + 10)


RECORDS = [200_000]
SETUPS = {
    "stdlib": setup_stdlib,
    "structlog": setup_structlog,
    "loguru": setup_loguru,
    "logtool-sink": setup_logtool_sink,
    "logtool-sink-bigq": setup_logtool_sink_bigq,
    "logtool": setup_logtool,
}
STATS: dict[str, Any] = {}


def count_lines(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))


# ---------------------------------------------------------------- one engine, in a child


def run_one(engine: str, records: int, sample_every: int) -> dict[str, Any]:
    RECORDS[0] = records
    with tempfile.TemporaryDirectory(prefix=f"bench-{engine}-") as tmp:
        call, finish = SETUPS[engine](Path(tmp))
        call(-1)  # warm-up: imports, first open, thread start
        clock = time.perf_counter_ns
        samples: list[int] = []
        started = time.perf_counter()
        for i in range(records):
            if i % sample_every == 0:
                t0 = clock()
                call(i)
                samples.append(clock() - t0)
            else:
                call(i)
        called = time.perf_counter()
        lines = finish()
        ended = time.perf_counter()
    samples.sort()
    result = {
        "engine": engine,
        "records": records,
        "lines": lines - 1,  # minus the warm-up record
        "p50_ns": samples[len(samples) // 2],
        "p99_ns": samples[int(len(samples) * 0.99)],
        "mean_ns": statistics.fmean(samples),
        "calls_s": records / (called - started),
        "e2e_s": records / (ended - started),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if "max_queue_depth" in STATS:
        result["max_queue_depth"] = STATS["max_queue_depth"]
        result["queue_size"] = STATS.get("queue_size")
        result["dropped"] = STATS.get("dropped_queue_full")
    return result


def available(engine: str) -> bool:
    try:
        if engine == "logtool":
            import logtool

            return callable(logtool.get_logger)
        if engine in ("structlog", "loguru"):
            __import__(engine)
    except (ImportError, AttributeError):
        return False
    return True


def skip(engine: str) -> bool:
    print(f"skipping {engine}: not importable", file=sys.stderr)
    return True


def table(results: list[dict[str, Any]]) -> str:
    base = {r["engine"]: r["e2e_s"] for r in results}
    rows = [
        "| writer | caller p50 | caller p99 | caller mean | records/s end to end "
        "| vs stdlib | vs structlog | peak RSS | records on disk |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        vs_std = f"{r['e2e_s'] / base['stdlib']:.1f}x" if "stdlib" in base else "-"
        vs_sl = f"{r['e2e_s'] / base['structlog']:.1f}x" if "structlog" in base else "-"
        rows.append(
            f"| {r['engine']} | {r['p50_ns'] / 1000:.2f} µs | {r['p99_ns'] / 1000:.2f} µs "
            f"| {r['mean_ns'] / 1000:.2f} µs | {r['e2e_s'] / 1000:.0f}k | {vs_std} | {vs_sl} "
            f"| {r['peak_rss_mb']:.0f} MB | {r['lines']} |"
        )
    return "\n".join(rows)


def round_ratios(runs: dict[str, list[dict[str, Any]]]) -> str:
    """Each engine's end-to-end rate over stdlib's and structlog's of the same round.

    Engines of one round run back to back, so they meet about the same machine load; the
    median of these ratios is steadier than the ratio of medians taken from different rounds.
    """
    lines = ["\nratios within each round (median, then every round):"]
    for engine, rounds in runs.items():
        if not engine.startswith("logtool"):
            continue
        parts = []
        for base in ("stdlib", "structlog"):
            if base in runs:
                ratios = [r["e2e_s"] / b["e2e_s"] for r, b in zip(rounds, runs[base], strict=True)]
                every = ", ".join(f"{x:.1f}" for x in ratios)
                parts.append(f"vs {base} {statistics.median(ratios):.1f}x ({every})")
        callers = ", ".join(f"{r['p50_ns'] / 1000:.2f}/{r['p99_ns'] / 1000:.2f}" for r in rounds)
        parts.append(f"caller p50/p99 µs by round {callers}")
        lines.append(f"  {engine}: " + "; ".join(parts))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--sample-every", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs per engine; the median by records/s is kept")
    parser.add_argument("--only", nargs="*", choices=ENGINES, help="engines to run (default all)")
    parser.add_argument("--one", choices=ENGINES, help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help="print raw results as JSON too")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.records, args.sample_every)))
        return
    engines = [e for e in args.only or ENGINES if available(e) or not skip(e)]
    load_before = os.getloadavg()
    runs: dict[str, list[dict[str, Any]]] = {e: [] for e in engines}
    # Rounds run every engine once, in turn, so a noisy moment hits all of them alike.
    for _ in range(args.repeat):
        for engine in engines:
            proc = subprocess.run(
                [sys.executable, __file__, "--one", engine, "--records", str(args.records),
                 "--sample-every", str(args.sample_every)],
                capture_output=True, text=True, check=True, env={**os.environ},
            )
            runs[engine].append(json.loads(proc.stdout.strip().splitlines()[-1]))
            print(f"{engine}: {runs[engine][-1]['e2e_s'] / 1000:.0f}k records/s", file=sys.stderr)
    results = []
    for engine in engines:
        ordered = sorted(runs[engine], key=lambda r: r["e2e_s"])
        results.append(ordered[len(ordered) // 2])
    print(table(results))
    # Other jobs on the machine move every figure: say how busy it was.
    print(f"\nload average (1/5/15 min): {' '.join(f'{x:.2f}' for x in load_before)} before, "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} after; {os.cpu_count()} CPUs; "
          f"median of {args.repeat} round(s)")
    if args.repeat > 1:
        print(round_ratios(runs))
    queue = [r for r in results if "max_queue_depth" in r]
    for r in queue:
        print(f"\n{r['engine']}: max queue depth {r['max_queue_depth']} of {r['queue_size']}, "
              f"dropped {r['dropped']}")
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
