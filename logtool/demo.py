"""The `logtool demo` simulation: a seeded trading workflow written through the public writer."""

from __future__ import annotations

import contextvars
import heapq
import math
import os
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import logtool
from logtool import contract
from logtool.errors import BadInputError

MAX_CONTAINERS = 999  # strategy ids are strategy_001..strategy_999
MAX_DURATION_S = 600.0  # a guard against a typo filling the disk; ten simulated minutes is plenty
DEFAULT_SEED = 7
DEFAULT_CONTAINERS = 50
DEFAULT_DURATION_S = 10.0

# Simulated time starts at a fixed market open so the same seed gives the same timestamps.
SIM_START_US = 1_767_623_400_000_000  # 2026-01-05T14:30:00Z
SIM_PID_BASE = 40_000  # each simulated container gets a fixed "process id" (the seed's pid field)

COORDINATOR = "main_coordinator"
DATA = "data_001"
RISK = "risk_001"
EXECUTION = "execution_001"
SYMBOLS = ("BTC-USDT", "ETH-USDT", "SOL-USDT", "AVAX-USDT", "LINK-USDT")
START_PRICES = {"BTC-USDT": 97_000.0, "ETH-USDT": 3_400.0, "SOL-USDT": 190.0,
                "AVAX-USDT": 38.0, "LINK-USDT": 21.0}
STYLES = ("momentum", "mean_reversion", "breakout", "pairs_arbitrage", "ml_model")
VENUES = ("binance", "bybit", "okx", "aave_v3", "uniswap_v3")

MEAN_TICK_GAP_US = 25_000  # market data about 40 times a second
SIGNAL_PROBABILITY = 0.02  # per subscribed strategy per tick
REJECT_PROBABILITY = 0.12  # risk limit breached (RISK-001)
FAIL_PROBABILITY = 0.08  # venue rejects or times out (EXEC-001)
RECON_TIMEOUT_PROBABILITY = 0.03  # reconciliation times out after a fill (EXEC-005)
POSITION_MISMATCH_PROBABILITY = 0.03  # position monitor disagrees with the venue (POS-005)
ATOMIC_PROBABILITY = 0.2  # DeFi orders made of a supply + borrow pair
HEALTH_EVERY_US = 1_000_000
FLUSH_EVERY_TICKS = 200

# Per-hop latency models (µs): a log-normal body kept inside the tier's usual band, a rare tail.
TIER_LATENCY: dict[str, tuple[float, float, int, int, float, float]] = {
    # tier: (median, sigma, clip_low, clip_high, tail_probability, tail_max_factor)
    "fast": (300.0, 0.5, 100, 1_000, 0.01, 12.0),
    "standard": (2_500.0, 0.4, 1_000, 5_000, 0.02, 8.0),
    "reliable": (15_000.0, 0.6, 5_000, 50_000, 0.02, 5.0),
}


@dataclass(frozen=True)
class DemoFile:
    """One file the demo wrote to: its path relative to the tree root and what it added."""

    path: str
    records: int
    bytes: int


@dataclass(frozen=True)
class DemoResult:
    """What a demo run wrote and which correlation ids are worth tracing."""

    out: Path
    seed: int
    containers: int
    duration_s: float
    appended: bool
    files: tuple[DemoFile, ...]
    records: int
    bytes: int
    signals: int
    filled: int
    rejected: int
    failed: int
    example_ids: dict[str, str]
    writer_problems: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (used by `logtool demo --json`)."""
        return {
            "out": str(self.out),
            "seed": self.seed,
            "containers": self.containers,
            "duration_s": self.duration_s,
            "appended": self.appended,
            "records": self.records,
            "bytes": self.bytes,
            "signals": self.signals,
            "filled": self.filled,
            "rejected": self.rejected,
            "failed": self.failed,
            "example_ids": dict(self.example_ids),
            "writer_problems": dict(self.writer_problems),
            "files": [{"path": f.path, "records": f.records, "bytes": f.bytes} for f in self.files],
        }


# ---------------------------------------------------------------- the output directory


def is_log_tree(path: Path) -> bool:
    """Whether a directory already looks like a logtool tree (marker or a known top-level dir)."""
    if (path / contract.TREE_MARKER).is_file():
        return True
    known = (contract.CONTAINERS_DIR, contract.FLOWS_DIR, contract.CORRELATIONS_DIR,
             contract.EVENTS_DIR)
    return any((path / name).is_dir() for name in known)


def check_out_dir(out: Path) -> bool:
    """Refuse an output that is a file or a non-empty non-tree directory; True if it has content."""
    if out.exists() and not out.is_dir():
        raise BadInputError(f"--out {out}: exists and is not a directory")
    if not out.exists():
        return False
    try:
        entries = sorted(p.name for p in out.iterdir())
    except OSError as exc:
        raise BadInputError(f"--out {out}: cannot list it ({exc.strerror})") from None
    if entries and not is_log_tree(out):
        shown = ", ".join(entries[:5]) + (", ..." if len(entries) > 5 else "")
        raise BadInputError(
            f"--out {out}: not empty and not a log tree (contains {shown})",
            hint="Choose a new or empty directory, or an existing logtool tree.",
        )
    return bool(entries)


def prepare_out_dir(out: Path) -> None:
    """Create out, or refuse it (the writer itself would only count the failures, silently)."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInputError(f"--out {out}: cannot create it ({exc.strerror or exc})") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise BadInputError(f"--out {out}: not writable")


def _snapshot(root: Path) -> dict[str, int]:
    """Size of every regular file under root, keyed by '/'-separated relative path."""
    if not root.is_dir():
        return {}
    return {
        p.relative_to(root).as_posix(): p.stat().st_size
        for p in root.rglob("*")
        if p.is_file() and not p.is_symlink()
    }


def _written_since(root: Path, before: dict[str, int]) -> list[DemoFile]:
    """The files that grew since `before`, with the lines and bytes added (read back from disk)."""
    changed: list[DemoFile] = []
    for rel, size in sorted(_snapshot(root).items()):
        old = before.get(rel, 0)
        if size == old:
            continue
        start = old if size > old else 0  # a file that shrank was replaced: count all of it
        with (root / rel).open("rb") as fh:
            fh.seek(start)
            added = fh.read()
        # Only log and event files hold one record a line (the tree marker is indented JSON).
        lines = rel.endswith((contract.LOG_SUFFIX, contract.EVENTS_SUFFIX))
        changed.append(DemoFile(rel, added.count(b"\n") if lines else 0, len(added)))
    return changed


# ---------------------------------------------------------------- the simulation


class SimClock:
    """Simulated wall clock in integer microseconds; the writer reads it through __call__."""

    def __init__(self, start_us: int) -> None:
        self.now_us = start_us

    def __call__(self) -> float:
        return self.now_us / 1_000_000


@dataclass
class Trade:
    """One signal's journey: strategy → risk → execution → fill report."""

    cid: str
    strategy: str
    style: str
    symbol: str
    side: str
    price: float
    quantity: float
    strength: float
    tick_id: str
    outcome: str = "pending"


@dataclass
class _Portfolio:
    """Risk's running view of positions and realised PnL, for the snapshot events."""

    cash_usd: float = 5_000_000.0
    quantities: dict[str, float] = field(default_factory=dict)
    marks: dict[str, float] = field(default_factory=dict)
    realised_pnl: float = 0.0


class Simulation:
    """A discrete-event simulation: every action runs at its simulated time, in time order."""

    def __init__(self, *, containers: int, seed: int, duration_s: float, clock: SimClock) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.clock = clock
        self.end_us = clock.now_us + round(duration_s * 1_000_000)
        self._queue: list[tuple[int, int, Callable[[], None]]] = []
        self._seq = 0
        self.strategies = [f"strategy_{i:03d}" for i in range(1, containers + 1)]
        self.style = {s: STYLES[i % len(STYLES)] for i, s in enumerate(self.strategies)}
        self.subscribers: dict[str, list[str]] = {sym: [] for sym in SYMBOLS}
        for i, s in enumerate(self.strategies):
            self.subscribers[SYMBOLS[i % len(SYMBOLS)]].append(s)
        self.prices = dict(START_PRICES)
        self.portfolio = _Portfolio(marks=dict(START_PRICES))
        self.tracer = logtool.EventFlowTracer(COORDINATOR)
        all_ids = [DATA, *self.strategies, RISK, EXECUTION]
        self.events = {
            cid: logtool.DomainEventLogger(pid=SIM_PID_BASE + n) for n, cid in enumerate(all_ids)
        }
        self.all_containers = all_ids
        self.ticks = 0
        self.trades: list[Trade] = []
        self.recent_errors: dict[str, int] = {}

    # -- scheduling

    def at(self, when_us: int, action: Callable[[], None]) -> None:
        """Run action at simulated time when_us."""
        self._seq += 1
        heapq.heappush(self._queue, (when_us, self._seq, action))

    def run(self) -> None:
        """Start every container, play the market until the end time, drain, stop the containers."""
        for cid in self.all_containers:
            self.log(cid, "lifecycle", "INFO", "Container started", lifecycle_operation="start",
                     role=cid.rsplit("_", 1)[0])
        self.at(self.clock.now_us, self.tick)
        self.at(self.clock.now_us + HEALTH_EVERY_US, self.health)
        while self._queue:
            when, _, action = heapq.heappop(self._queue)
            self.clock.now_us = max(self.clock.now_us, when)
            action()
        for cid in self.all_containers:
            self.log(cid, "lifecycle", "INFO", "Container stopped", lifecycle_operation="stop")

    # -- helpers

    def latency_us(self, tier: str) -> int:
        """One hop's latency on a tier, drawn from its model."""
        median, sigma, low, high, tail_p, tail_max = TIER_LATENCY[tier]
        # Redraw outside the band (a truncated log-normal): clamping would pile values on the edges.
        for _ in range(20):
            value = self.rng.lognormvariate(math.log(median), sigma)
            if low <= value <= high:
                break
        value = min(max(value, low), high)
        if self.rng.random() < tail_p:
            value *= self.rng.uniform(2.0, tail_max)
        return round(value)

    def log(self, container: str, component: str, level: str, message: str, **ctx: Any) -> None:
        """Write one component record through the public logger."""
        logtool.get_logger(container, component).log(level, message, **ctx)

    def event(self, container: str, event_type: str, **fields: Any) -> None:
        """Write one domain event stamped with the simulated engine time."""
        self.events[container].log(event_type, {"timestamp": self.clock(), **fields})

    def hop(self, event_id: str, source: str, target: str, tier: str, latency_us: int,
            event_type: str, **ctx: Any) -> None:
        """Record one cross-container hop, as seen on arrival."""
        self.tracer.trace_external_event(event_id, source, target, tier,
                                         latency_ms=latency_us / 1000, event_type=event_type, **ctx)

    def system_error(self, container: str, component: str, code: str, message: str,
                     **metadata: Any) -> None:
        """A system_errors event with a registered code, and the error count health reports."""
        self.recent_errors[container] = self.recent_errors.get(container, 0) + 1
        # An explicit (simulated) trace: left out, the writer would take the traceback of any
        # exception the caller happens to be handling, and the tree would depend on it.
        trace = (f'Traceback (most recent call last):\n  File "{container}/{component}.py", '
                 f"in handle\n{code}: {message} (simulated)")
        self.events[container].log_system_error(
            code, error_message=message, component=component, metadata=metadata,
            stack_trace=trace, timestamp=self.clock(),
        )

    # -- market data (data_001, fast tier)

    def tick(self) -> None:
        """Publish one market-data update to the strategies subscribed to its symbol."""
        now = self.clock.now_us
        if now >= self.end_us:
            return
        self.ticks += 1
        if self.ticks % FLUSH_EVERY_TICKS == 0:
            # Back-pressure: the simulation outruns the writer on big runs, and a full queue
            # would drop records after its short block timeout.
            logtool.flush()
        tick_id = f"md_{self.seed}_{self.ticks}"
        symbol = SYMBOLS[self.rng.randrange(len(SYMBOLS))]
        price = round(self.prices[symbol] * math.exp(self.rng.gauss(0.0, 0.0008)), 4)
        self.prices[symbol] = price
        subscribers = self.subscribers[symbol]
        with logtool.correlation(tick_id):
            self.log(DATA, "market_data_handler", "INFO", "Published market data",
                     publish_tier="fast", symbol=symbol, price=price,
                     subscribers=len(subscribers))
        for strategy in subscribers:
            lat = self.latency_us("fast")
            # The trade id is assigned at the tick that triggers it, so `logtool trace` shows
            # the whole path from market data to fill.
            if self.rng.random() < SIGNAL_PROBABILITY:
                trade = self.new_trade(strategy, symbol, price, tick_id)
                self.at(now + lat, partial(self.strategy_signal, trade, lat))
            else:
                self.at(now + lat, partial(self.strategy_receive, strategy, tick_id, lat))
        self.at(now + max(1, round(self.rng.expovariate(1 / MEAN_TICK_GAP_US))), self.tick)

    def new_trade(self, strategy: str, symbol: str, price: float, tick_id: str) -> Trade:
        """Open a correlation id for a signal about to be generated."""
        n = len(self.trades) + 1
        notional = self.rng.choice((5_000.0, 10_000.0, 25_000.0, 50_000.0))
        trade = Trade(
            cid=f"trade_{self.seed}_{n}", strategy=strategy, style=self.style[strategy],
            symbol=symbol, side=self.rng.choice(("BUY", "SELL")), price=price,
            quantity=round(notional / price, 6), strength=round(self.rng.uniform(0.55, 0.99), 3),
            tick_id=tick_id,
        )
        self.trades.append(trade)
        return trade

    def strategy_receive(self, strategy: str, tick_id: str, lat: int) -> None:
        """A strategy gets a tick and decides not to act."""
        with logtool.correlation(tick_id):
            self.hop(tick_id, DATA, strategy, "fast", lat, "MARKET_DATA")

    # -- strategy (standard tier)

    def strategy_signal(self, t: Trade, lat: int) -> None:
        """A strategy gets the tick that makes it trade: decide, then publish a signal to risk."""
        with logtool.correlation(t.cid):
            self.hop(t.tick_id, DATA, t.strategy, "fast", lat, "MARKET_DATA", tick_id=t.tick_id)
            self.tracer.trace_internal_event(t.strategy, f"sig_{t.cid}", "market_data_handler",
                                             t.style, event_type="BAR")
            self.log(t.strategy, t.style, "INFO", "Generating signal", internal_scope=True,
                     symbol=t.symbol, side=t.side, strength=t.strength, price=t.price)
            self.event(t.strategy, "strategy_decisions", strategy_name=t.style,
                       decision_type="ENTRY", orders_generated=1,
                       total_order_value_usd=round(t.quantity * t.price, 2),
                       decision_reason=f"{t.style} signal strength {t.strength}",
                       metadata={"container_id": t.strategy, "symbol": t.symbol, "side": t.side})
            self.log(t.strategy, t.style, "INFO", "Signal published", publish_tier="standard",
                     symbol=t.symbol, side=t.side, quantity=t.quantity)
        lat_std = self.latency_us("standard")
        self.at(self.clock.now_us + lat_std, lambda: self.risk_check(t, lat_std))

    # -- risk (reliable tier onwards)

    def risk_check(self, t: Trade, lat: int) -> None:
        """Risk receives a signal: assess it, then reject it or send an order to execution."""
        pf = self.portfolio
        with logtool.correlation(t.cid):
            self.hop(f"sig_{t.cid}", t.strategy, RISK, "standard", lat, "SIGNAL")
            gross = sum(abs(q) * pf.marks.get(s, 0.0) for s, q in pf.quantities.items())
            margin = round(min(0.99, 0.25 + gross / 20_000_000 + self.rng.uniform(0, 0.1)), 4)
            breach = self.rng.random() < REJECT_PROBABILITY
            if breach:
                margin = round(self.rng.uniform(0.86, 0.97), 4)
            score = round(margin * 100, 2)
            self.event(RISK, "risk_assessments", health_factor=round(1.0 / max(margin, 0.01), 3),
                       ltv_ratio=round(margin * 0.8, 4), liquidation_threshold=0.85,
                       margin_usage=margin, risk_score=score,
                       risk_level="HIGH" if breach else ("MEDIUM" if margin > 0.5 else "LOW"),
                       breach_detected=breach,
                       metadata={"strategy": t.strategy, "symbol": t.symbol})
            if breach:
                t.outcome = "rejected"
                logtool.get_logger(RISK, "risk_monitor").counter("orders_rejected",
                                                                 reason="RISK-001")
                self.log(RISK, "risk_monitor", "WARNING", "Order rejected: risk limit breached",
                         strategy=t.strategy, symbol=t.symbol, margin_usage=margin, limit=0.85)
                self.system_error(RISK, "risk_monitor", "RISK-001",
                                  f"margin usage {margin} above limit 0.85 for {t.strategy}",
                                  strategy=t.strategy, symbol=t.symbol)
                return
            logtool.get_logger(RISK, "risk_monitor").counter("orders_approved")
            self.log(RISK, "risk_monitor", "INFO", "Order approved", publish_tier="reliable",
                     strategy=t.strategy, symbol=t.symbol, side=t.side, quantity=t.quantity,
                     risk_score=score)
        lat_rel = self.latency_us("reliable")
        self.at(self.clock.now_us + lat_rel, lambda: self.execute(t, lat_rel))

    # -- execution

    def execute(self, t: Trade, lat: int) -> None:
        """Execution receives an order and sends it to a venue (one operation or an atomic pair)."""
        with logtool.correlation(t.cid):
            self.hop(f"ord_{t.cid}", RISK, EXECUTION, "reliable", lat, "ORDER")
            venue = self.rng.choice(VENUES)
            atomic = venue == "aave_v3" or self.rng.random() < ATOMIC_PROBABILITY
            self.tracer.trace_internal_event(EXECUTION, f"ord_{t.cid}", "order_manager",
                                             "venue_adapter", event_type="ORDER")
            self.log(EXECUTION, "order_manager", "INFO", "Order received", internal_scope=True,
                     venue=venue, symbol=t.symbol, side=t.side, quantity=t.quantity,
                     atomic=atomic)
        duration = round(min(max(self.rng.lognormvariate(math.log(40_000), 0.5), 8_000), 400_000))
        self.at(self.clock.now_us + duration, lambda: self.venue_result(t, venue, atomic, duration))

    def venue_result(self, t: Trade, venue: str, atomic: bool, duration_us: int) -> None:
        """The venue answers: record the operations, reconcile, report the fill back to risk."""
        failed = self.rng.random() < FAIL_PROBABILITY
        base = t.symbol.split("-")[0]
        if atomic:
            ops = [("supply", "USDT", f"a{base}"), ("borrow", f"a{base}", base)]
        else:
            ops = [("spot_trade", "USDT" if t.side == "BUY" else base,
                    base if t.side == "BUY" else "USDT")]
        op_ids = [f"op_{t.cid}_{i}" for i in range(1, len(ops) + 1)]
        exec_ms = duration_us / 1000
        with logtool.correlation(t.cid):
            for n, ((op_type, src, dst), op_id) in enumerate(zip(ops, op_ids, strict=True)):
                # In an atomic pair the first leg succeeds and the second fails, forcing a rollback.
                op_failed = failed and n == len(ops) - 1
                delta = t.quantity if t.side == "BUY" else -t.quantity
                self.event(EXECUTION, "operation_executions", operation_id=op_id,
                           operation_type=op_type, venue=venue, source_token=src,
                           target_token=dst, status="failed" if op_failed else "confirmed",
                           expected_deltas=[{"position_key": f"{venue}:{dst}",
                                             "delta_amount": delta, "token": dst}],
                           actual_deltas={} if op_failed else {f"{venue}:{dst}": delta},
                           fee_amount=0.0 if op_failed else round(abs(delta) * t.price * 0.0004, 4),
                           fee_currency="USDT", execution_duration_ms=exec_ms, simulated=True,
                           error_code="EXEC-001" if op_failed else None,
                           error_message="venue rejected the order" if op_failed else None)
            if atomic:
                self.event(EXECUTION, "atomic_groups", atomic_group_id=f"grp_{t.cid}",
                           operation_ids=op_ids, operation_types=[o[0] for o in ops],
                           all_succeeded=not failed, rollback_occurred=failed,
                           total_duration_ms=exec_ms)
            logtool.get_logger(EXECUTION, "venue_adapter").latency(
                "order_execution", exec_ms, venue=venue, status="failed" if failed else "filled")
            if failed:
                t.outcome = "failed"
                self.log(EXECUTION, "venue_adapter", "ERROR", "Order execution failed",
                         venue=venue, symbol=t.symbol, error_code="EXEC-001",
                         reason="venue rejected the order", rolled_back=atomic)
                self.system_error(EXECUTION, "venue_adapter", "EXEC-001",
                                  f"{venue} rejected {t.side} {t.quantity} {t.symbol}",
                                  venue=venue, operation_ids=op_ids)
                self.event(EXECUTION, "tight_loop", operation_id=op_ids[-1],
                           execution_success=False, reconciliation_success=False, retry_count=0,
                           total_duration_ms=exec_ms, execution_duration_ms=exec_ms,
                           reconciliation_duration_ms=0.0)
                return
            t.outcome = "filled"
            self.log(EXECUTION, "venue_adapter", "INFO", "Order filled", venue=venue,
                     symbol=t.symbol, side=t.side, quantity=t.quantity, price=t.price,
                     execution_ms=exec_ms)
        recon_us = round(self.rng.uniform(2_000, 30_000))
        self.at(self.clock.now_us + recon_us,
                lambda: self.reconcile(t, venue, op_ids, exec_ms, recon_us))

    def reconcile(self, t: Trade, venue: str, op_ids: list[str], exec_ms: float,
                  recon_us: int) -> None:
        """Execution compares the venue's balances with the expected deltas, then reports."""
        timed_out = self.rng.random() < RECON_TIMEOUT_PROBABILITY
        retries = 2 if timed_out else (1 if self.rng.random() < 0.1 else 0)
        recon_ms = recon_us / 1000
        with logtool.correlation(t.cid):
            self.event(EXECUTION, "reconciliation", reconciliation_type="post_execution",
                       trigger_source="execution_manager", reconciliation_success=not timed_out,
                       expected_deltas_count=len(op_ids),
                       actual_deltas_count=len(op_ids) - (1 if timed_out else 0),
                       reconciliation_duration_ms=recon_ms, metadata={"venue": venue})
            self.event(EXECUTION, "tight_loop", operation_id=op_ids[-1], execution_success=True,
                       reconciliation_success=not timed_out, retry_count=retries,
                       total_duration_ms=round(exec_ms + recon_ms, 3),
                       execution_duration_ms=exec_ms, reconciliation_duration_ms=recon_ms)
            if timed_out:
                self.log(EXECUTION, "reconciler", "CRITICAL", "Reconciliation timeout",
                         venue=venue, retries=retries, error_code="EXEC-005")
                self.system_error(EXECUTION, "reconciler", "EXEC-005",
                                  f"{venue} balances not confirmed after {retries} retries",
                                  venue=venue)
            self.event(EXECUTION, "execution_deltas", delta_type="fill",
                       trigger_source="execution_manager", deltas_applied=len(op_ids),
                       total_delta_value_usd=round(t.quantity * t.price, 2),
                       metadata={"venue": venue, "symbol": t.symbol})
            self.log(EXECUTION, "order_manager", "INFO", "Fill reported", publish_tier="reliable",
                     symbol=t.symbol, side=t.side, quantity=t.quantity)
        lat = self.latency_us("reliable")
        self.at(self.clock.now_us + lat, lambda: self.book_fill(t, lat))

    def book_fill(self, t: Trade, lat: int) -> None:
        """Risk books the fill: positions, exposures and PnL snapshots."""
        pf = self.portfolio
        signed = t.quantity if t.side == "BUY" else -t.quantity
        mark = self.prices[t.symbol]
        pf.quantities[t.symbol] = round(pf.quantities.get(t.symbol, 0.0) + signed, 6)
        pf.cash_usd = round(pf.cash_usd - signed * t.price, 2)
        pf.realised_pnl = round(pf.realised_pnl + signed * (mark - t.price), 2)
        pf.marks[t.symbol] = mark
        values = {s: round(q * pf.marks[s], 2) for s, q in sorted(pf.quantities.items())}
        total = round(pf.cash_usd + sum(values.values()), 2)
        with logtool.correlation(t.cid):
            self.hop(f"fill_{t.cid}", EXECUTION, RISK, "reliable", lat, "FILL")
            self.log(RISK, "position_monitor", "INFO", "Position updated", symbol=t.symbol,
                     quantity=pf.quantities[t.symbol], strategy=t.strategy)
            positions = {f"cex:{s.split('-')[0]}": q for s, q in sorted(pf.quantities.items())}
            positions["wallet:USDT"] = pf.cash_usd
            self.event(RISK, "positions", positions=positions, total_value_usd=total,
                       position_type="simulated", trigger_source="execution_manager",
                       metadata={"strategy": t.strategy})
            if self.rng.random() < POSITION_MISMATCH_PROBABILITY:
                self.log(RISK, "position_monitor", "ERROR", "Position reconciliation mismatch",
                         symbol=t.symbol, error_code="POS-005")
                self.system_error(RISK, "position_monitor", "POS-005",
                                  f"{t.symbol} position differs from the venue's",
                                  symbol=t.symbol)
            exposures = {
                s.split("-")[0]: {"quantity": pf.quantities[s], "usd_value": v,
                                  "percentage": round(v / total, 6) if total else 0.0}
                for s, v in values.items()
            }
            net = round(sum(values.values()), 2)
            self.event(RISK, "exposures", net_delta_usd=net, asset_exposures=exposures,
                       total_value_usd=total, share_class_value=total,
                       metadata={"symbols": len(values)})
            self.event(RISK, "pnl_calculations", total_pnl_usd=pf.realised_pnl,
                       total_pnl_share_class=pf.realised_pnl,
                       pnl_attribution={t.strategy: round(signed * (mark - t.price), 2)},
                       period_start=_iso(SIM_START_US), period_end=_iso(self.clock.now_us),
                       metadata={"trigger": "fill"})

    # -- health (every container, once a simulated second)

    def health(self) -> None:
        """Every container reports its health; containers with recent errors are degraded."""
        statuses = {c: ("degraded" if self.recent_errors.get(c) else "healthy")
                    for c in self.all_containers}
        degraded = sum(1 for s in statuses.values() if s != "healthy")
        self.event(DATA, "health_status",
                   overall_status="degraded" if degraded else "healthy",
                   component_statuses=statuses,
                   health_score=round(1.0 - degraded / len(statuses), 4),
                   metadata={"reporter": COORDINATOR, "errors": dict(self.recent_errors)})
        for c, count in sorted(self.recent_errors.items()):
            self.log(c, "health_monitor", "WARNING", "Container degraded", errors=count)
        self.recent_errors.clear()
        if self.clock.now_us < self.end_us:
            self.at(self.clock.now_us + HEALTH_EVERY_US, self.health)


def _iso(us: int) -> str:
    """ISO-8601 UTC with microseconds for simulated time."""
    from datetime import UTC, datetime

    return datetime.fromtimestamp(us / 1_000_000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# ---------------------------------------------------------------- entry point


def validate(containers: int, seed: int, duration_s: float) -> None:
    """Refuse option values the simulation cannot use, naming the option."""
    if not 1 <= containers <= MAX_CONTAINERS:
        raise BadInputError(f"--containers {containers}: must be between 1 and {MAX_CONTAINERS}")
    if seed < 0:
        raise BadInputError(f"--seed {seed}: must be 0 or more")
    if not (duration_s > 0 and duration_s <= MAX_DURATION_S):
        raise BadInputError(f"--duration-s {duration_s}: must be above 0 and at most "
                            f"{MAX_DURATION_S:g} simulated seconds")


def _examples(trades: list[Trade]) -> dict[str, str]:
    """One correlation id per outcome, the first of each kind."""
    found: dict[str, str] = {}
    for t in trades:
        found.setdefault(t.outcome, t.cid)
    return {k: found[k] for k in ("filled", "rejected", "failed") if k in found}


def run_demo(out: Path | str, containers: int = DEFAULT_CONTAINERS, seed: int = DEFAULT_SEED,
             duration_s: float = DEFAULT_DURATION_S) -> DemoResult:
    """Simulate the trading workflow into `out` with the real writer and report what landed."""
    out = Path(out)
    validate(containers, seed, duration_s)
    appended = check_out_dir(out)
    prepare_out_dir(out)
    before = _snapshot(out)
    clock = SimClock(SIM_START_US)
    with _writer_configured(out, clock) as writer:
        sim = Simulation(containers=containers, seed=seed, duration_s=duration_s, clock=clock)
        # A fresh context: a correlation id the caller has active must not leak into the tree.
        contextvars.Context().run(sim.run)
        problems = writer.problems()
    files = _written_since(out, before)
    outcomes = [t.outcome for t in sim.trades]
    return DemoResult(
        out=out, seed=seed, containers=containers, duration_s=duration_s, appended=appended,
        files=tuple(files), records=sum(f.records for f in files),
        bytes=sum(f.bytes for f in files), signals=len(sim.trades),
        filled=outcomes.count("filled"), rejected=outcomes.count("rejected"),
        failed=outcomes.count("failed"), example_ids=_examples(sim.trades),
        writer_problems=problems,
    )


# Counters in logtool.stats() that mean a record did not land as the demo wrote it.
_PROBLEM_STATS = ("dropped_queue_full", "dropped_closed", "write_errors", "refused_paths",
                  "serialize_fallbacks", "api_errors", "escaped_path_parts", "invalid_tiers",
                  "bad_levels", "bad_timestamps", "router_errors", "dropped_after_exit")


def _problem_counts() -> dict[str, int]:
    """The writer's loss and error counters as they stand now."""
    stats = logtool.stats()
    return {k: v for k in _PROBLEM_STATS if isinstance(v := stats.get(k), int)}


class _writer_configured:
    """Point the writer at the demo tree with the simulated clock; put the host's settings back."""

    def __init__(self, root: Path, clock: SimClock) -> None:
        self.root = root
        self.clock = clock
        self.saved: dict[str, Any] = {}
        self.baseline: dict[str, int] = {}

    def __enter__(self) -> _writer_configured:
        self.saved = logtool.get_configuration()
        logtool.configure(root=self.root, level="INFO", clock=self.clock)
        self.baseline = _problem_counts()
        return self

    def problems(self) -> dict[str, int]:
        """Flush, then what went wrong in the writer since __enter__ (empty when all landed)."""
        logtool.flush()
        now = _problem_counts()
        return {k: n - self.baseline.get(k, 0) for k, n in now.items()
                if n - self.baseline.get(k, 0)}

    def __exit__(self, *exc: object) -> None:
        logtool.shutdown()
        logtool.configure(**self.saved)


def iter_example_commands(result: DemoResult) -> Iterator[str]:
    """Commands worth running next on the tree the demo wrote."""
    for cid in result.example_ids.values():
        yield f"logtool trace {cid} {result.out}"
    yield f"logtool container-health {result.out}"
    yield f"logtool tiers {result.out}"
    yield f"logtool errors {result.out}"
