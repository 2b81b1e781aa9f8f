"""Make a large, deterministic log tree (~N GB, many containers) for the analyzer benchmark.

Lines are written directly in the documented format (not through the writer, which would be
far too slow for a gigabyte): container component logs, flows with tiers and latencies,
correlation records, domain events, master.log, some errors, one rotated .gz per data
container. Usage: python bench/make_big_tree.py --out /tmp/bigtree --size-gb 1 --containers 60
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROLES = ("data", "strategy", "risk", "execution")
COMPONENTS = {
    "data": ("feed", "normalizer"),
    "strategy": ("signal", "sizing", "portfolio"),
    "risk": ("limits", "exposure"),
    "execution": ("router", "fills"),
}
TIERS = ("fast", "standard", "reliable")
ROUTE_TIER = {
    ("data", "strategy"): "fast",
    ("strategy", "risk"): "standard",
    ("risk", "execution"): "reliable",
}
FLUSH_BYTES = 1 << 20
START = datetime(2026, 11, 21, 8, 0, 0, tzinfo=UTC)


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Out:
    """Buffered appenders, one per file."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.buffers: dict[str, list[str]] = {}
        self.sizes: dict[str, int] = {}
        self.total = 0

    def add(self, rel: str, line: str) -> None:
        buf = self.buffers.setdefault(rel, [])
        buf.append(line)
        size = self.sizes.get(rel, 0) + len(line) + 1
        self.sizes[rel] = size
        self.total += len(line) + 1
        if size >= FLUSH_BYTES:
            self.flush(rel)

    def flush(self, rel: str) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write("\n".join(self.buffers[rel]) + "\n")
        self.buffers[rel] = []
        self.sizes[rel] = 0

    def close(self) -> None:
        for rel, buf in self.buffers.items():
            if buf:
                self.flush(rel)


def log_line(
    t: datetime, level: str, cid: str, comp: str, msg: str, scope: str, corr: str | None, ctx: str
) -> str:
    corr_json = "null" if corr is None else f'"{corr}"'
    return (
        f'{{"timestamp": "{iso(t)}", "level": "{level}", "container_id": "{cid}", '
        f'"component_name": "{comp}", "message": "{msg}", "event_scope": "{scope}", '
        f'"correlation_id": {corr_json}, "context": {ctx}}}'
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--size-gb", type=float, default=1.0)
    parser.add_argument("--containers", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if args.out.exists() and any(args.out.iterdir()):
        print(f"{args.out} is not empty; refusing to write into it", file=sys.stderr)
        return 2
    rng = random.Random(args.seed)
    target = int(args.size_gb * 1024**3)
    per_role = max(1, args.containers // len(ROLES))
    containers = {role: [f"{role}_{i:02d}" for i in range(per_role)] for role in ROLES}
    out = Out(args.out)
    (args.out).mkdir(parents=True, exist_ok=True)
    (args.out / "logtool.json").write_text(json.dumps({"format_version": 1, "writer": "bench"}))
    started = time.perf_counter()
    t = START
    n = 0
    trade_ids: list[str] = []
    while out.total < target:
        n += 1
        corr = f"trade_{n:08d}_{rng.randrange(16**6):06x}"
        trade_ids.append(corr)
        t += timedelta(microseconds=rng.randrange(200, 3000))
        path = [rng.choice(containers[role]) for role in ROLES]
        now = t
        prev_cid = None
        prev_role = None
        for role, cid in zip(ROLES, path, strict=True):
            if prev_cid is not None and prev_role is not None:
                tier = ROUTE_TIER[(prev_role, role)]
                latency = round(rng.uniform(0.2, 4.0) * (1 + TIERS.index(tier)), 3)
                out.add(
                    f"flows/main_coordinator{FLOWS}",
                    (
                        f'{{"timestamp": "{iso(now)}", "event_id": "ev_{n}_{role}", '
                        f'"correlation_id": "{corr}", "source": "{prev_cid}", "target": "{cid}", '
                        f'"flow_type": "external", "tier": "{tier}", "container_id": "{prev_cid}", '
                        f'"latency_ms": {latency}, "event_type": "{role.upper()}_REQUEST"}}'
                    ),
                )
                now += timedelta(microseconds=int(latency * 1000))
            for comp in COMPONENTS[role]:
                for k in range(rng.randrange(1, 4)):
                    level = "INFO" if rng.random() > 0.01 else rng.choice(("WARNING", "ERROR"))
                    msg = f"{comp} step {k} for order {n}"
                    if rng.random() < 0.002 and len(trade_ids) > 10:
                        msg += f" (see also {trade_ids[-5]})"
                    ctx = (
                        f'{{"qty": {rng.randrange(1, 500)}, "px": {rng.uniform(10, 500):.4f}, '
                        f'"venue": "v{rng.randrange(5)}"}}'
                    )
                    line = log_line(now, level, cid, comp, msg, "internal_bus", corr, ctx)
                    out.add(f"containers/{cid}/{comp}.log", line)
                    if level != "INFO" or rng.random() < 0.05:
                        out.add("master.log", line)
                    now += timedelta(microseconds=rng.randrange(20, 400))
            prev_cid, prev_role = cid, role
        # Background chatter without a correlation id: most of a real tree's volume.
        for _ in range(rng.randrange(2, 6)):
            cid = rng.choice(containers[rng.choice(ROLES)])
            role = cid.rsplit("_", 1)[0]
            comp = rng.choice(COMPONENTS[role])
            out.add(
                f"containers/{cid}/{comp}.log",
                log_line(
                    now,
                    "DEBUG",
                    cid,
                    comp,
                    f"heartbeat queue_depth={rng.randrange(100)}",
                    "component_internal",
                    None,
                    '{"lag_ms": 1}',
                ),
            )
        topic = "trade"
        out.add(
            f"correlations/{topic}_correlations.log",
            (
                f'{{"timestamp": "{iso(t)}", "correlation_id": "{corr}", '
                f'"container_id": "{path[0]}", "component_name": "feed", '
                f'"message": "trade started", "topic": "{topic}"}}'
            ),
        )
        status = "success" if rng.random() > 0.02 else "failed"
        out.add(
            "events/operation_executions.jsonl",
            (
                f'{{"timestamp": "{iso(now)}", "real_utc_time": "{iso(now)}", "correlation_id": '
                f'"{corr}", "pid": 4242, "operation_id": "op_{n}", "operation_type": "spot_trade", '
                f'"venue": "v1", "status": "{status}", "execution_duration_ms": '
                f'{rng.uniform(1, 90):.3f}, "simulated": false}}'
            ),
        )
        if n % 4 == 0:
            out.add(
                "events/strategy_decisions.jsonl",
                (
                    f'{{"timestamp": "{iso(t)}", "real_utc_time": "{iso(t)}", "correlation_id": '
                    f'"{corr}", "pid": 4242, "strategy_name": "momo", "decision_type": "entry", '
                    f'"orders_generated": 1, "total_order_value_usd": {rng.uniform(100, 1e5):.2f}}}'
                ),
            )
        t = now
    out.close()
    # One rotated, gzipped file per data container (what rotation + gzip leaves behind).
    for cid in containers["data"]:
        rotated = args.out / "containers" / cid / "feed.20261121T070000.log.gz"
        with gzip.open(rotated, "wt", encoding="utf-8") as fh:
            for i in range(2000):
                fh.write(
                    log_line(
                        START - timedelta(seconds=2000 - i),
                        "INFO",
                        cid,
                        "feed",
                        f"warmup {i}",
                        "component_internal",
                        None,
                        "{}",
                    )
                    + "\n"
                )
    (args.out / "trade_ids.txt").write_text("\n".join(trade_ids[:: max(1, len(trade_ids) // 100)]))
    took = time.perf_counter() - started
    files = sum(1 for p in args.out.rglob("*") if p.is_file())
    print(
        f"wrote {out.total / 1024**2:.0f} MB, {n} trades, {files} files in {took:.1f} s "
        f"to {args.out}",
        file=sys.stderr,
    )
    return 0


FLOWS = "_event_flows.log"

if __name__ == "__main__":
    sys.exit(main())
