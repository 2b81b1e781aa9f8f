"""Hand-written fixture trees for the analyzer and CLI tests; every answer is derived by hand."""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

DAY = "2026-11-21"


def ts(clock: str, day: str = DAY) -> str:
    """An ISO-8601 UTC timestamp with microseconds for a wall-clock time like 10:00:00.050."""
    if "." not in clock:
        clock += ".000000"
    hms, frac = clock.split(".")
    return f"{day}T{hms}.{frac.ljust(6, '0')}Z"


def after_ten(ms: float) -> str:
    """The wall-clock time ms milliseconds after 10:00:00 (negative: before), for ts()/log()."""
    return (datetime(2026, 1, 1, 10) + timedelta(microseconds=round(ms * 1000))).strftime(
        "%H:%M:%S.%f")


def log(clock: str, level: str, container: str, component: str, message: str,
        corr: str | None = None, scope: str = "component_internal", **context: Any) -> dict:
    """One container log record."""
    return {"timestamp": ts(clock), "level": level, "container_id": container,
            "component_name": component, "message": message, "event_scope": scope,
            "correlation_id": corr, "context": context}


def flow(clock: str, corr: str, source: str, target: str, tier: str | None,
         latency: float | None = None, event_id: str = "e", container: str = "coord") -> dict:
    """One flow record (latency_ms only when given)."""
    rec: dict[str, Any] = {
        "timestamp": ts(clock), "event_id": event_id, "correlation_id": corr,
        "source": source, "target": target,
        "flow_type": "internal" if tier is None else "external", "tier": tier,
        "container_id": container}
    if latency is not None:
        rec["latency_ms"] = latency
    return rec


def event(clock: str, corr: str, **fields: Any) -> dict:
    """One domain event with the base fields."""
    return {"timestamp": ts(clock), "real_utc_time": ts(clock), "correlation_id": corr,
            "pid": 4242, **fields}


def lines(records: list[dict]) -> bytes:
    """JSON lines, each terminated by a newline."""
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


def put(path: Path, data: bytes | list[dict], *, gz: bool = False) -> Path:
    """Write records (or raw bytes) to path, gzipped when gz is True."""
    raw = lines(data) if isinstance(data, list) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(raw) if gz else raw)
    return path


# ------------------------------------------------------------------ the main container tree
# Containers and their records (answers used by the tests):
#   strat_1: 5 records live+rotated (+1 archived): INFO boot (rotated .gz), INFO signal,
#            WARNING slow feed, ERROR feed failed (STRAT-001), INFO signal 2; components signal
#   risk_1:  2 INFO records, component check
#   exec_1:  INFO order placed, CRITICAL venue down (EXEC-005), ERROR retry failed (EXEC-005),
#            INFO order 2; component order
#   quiet_1: 1 INFO at 09:50:00 (silent: > 5 min before the tree's last record at 10:00:03)
#   gone_1:  only in master.log (1 record, INFO)
#   log_manager: system/manager.log, 1 INFO
# master.log repeats strat_1 signal + exec_1's 4 records, and adds gone_1's record.
STRAT = [
    log("10:00:00", "INFO", "strat_1", "signal", "signal generated", "t1", "internal_bus"),
    log("10:00:01", "WARNING", "strat_1", "signal", "slow feed"),
    log("10:00:02", "ERROR", "strat_1", "signal", "feed failed", error_code="STRAT-001"),
    log("10:00:03", "INFO", "strat_1", "signal", "signal 2", "t2"),
]
STRAT_ROTATED = [log("09:59:59", "INFO", "strat_1", "signal", "boot")]
STRAT_ARCHIVED = [log("08:00:00", "INFO", "strat_1", "signal", "old day")]
RISK = [
    log("10:00:00.010", "INFO", "risk_1", "check", "risk check", "t1"),
    log("10:00:00.020", "INFO", "risk_1", "check", "approved", "t1"),
]
EXEC = [
    log("10:00:00.050", "INFO", "exec_1", "order", "order placed", "t1"),
    log("10:00:00.100", "CRITICAL", "exec_1", "order", "venue down", "t1", error_code="EXEC-005"),
    log("10:00:00.200", "ERROR", "exec_1", "order", "retry failed", "t1", error_code="EXEC-005"),
    log("10:00:00.300", "INFO", "exec_1", "order", "order 2", "t3"),
]
QUIET = [log("09:50:00", "INFO", "quiet_1", "idle", "still here")]
GONE = [log("09:58:00", "INFO", "gone_1", "ghost", "only in master")]
SYSTEM = [log("09:59:00", "INFO", "log_manager", "manager", "started",
              scope="lifecycle_management")]
MASTER = [STRAT[0], *EXEC, *GONE]

# Flows. fast: latencies 1, 2, 3, 4, 10 ms (given). standard: risk_1 -> exec_1 at 10:00:00.030
# without latency_ms -> first exec_1 record with t1 after it is 10:00:00.050 -> 20 ms; and
# t3 strat_1 -> exec_1 at 10:00:00.290 with latency 30 ms. internal: tier null, latency 0.5.
FLOWS = [
    flow("10:00:00.005", "t1", "strat_1", "risk_1", "fast", 1.0),
    flow("10:00:00.006", "tA", "strat_1", "risk_1", "fast", 2.0),
    flow("10:00:00.007", "tB", "strat_1", "risk_1", "fast", 3.0),
    flow("10:00:00.008", "tC", "strat_1", "exec_1", "fast", 4.0),
    flow("10:00:00.009", "tD", "strat_1", "exec_1", "fast", 10.0),
    flow("10:00:00.030", "t1", "risk_1", "exec_1", "standard"),
    flow("10:00:00.290", "t3", "strat_1", "exec_1", "standard", 30.0),
    flow("10:00:00.001", "t1", "signal", "signal", None, 0.5, container="strat_1"),
]
CORRELATIONS = [
    {"timestamp": ts("10:00:00"), "correlation_id": "t1", "container_id": "strat_1",
     "component_name": "signal", "message": "trade opened", "topic": "trade", "desk": "eu"},
]
METRICS = [
    {"timestamp": ts("10:00:00"), "record_type": "latency", "container_id": "strat_1",
     "component_name": "signal", "name": "signal_ms", "value": 1.5, "tags": {"k": "v"}},
]
OPERATIONS = [
    event("10:00:00.060", "t1", operation_id="op_1", operation_type="SUPPLY", venue="aave",
          status="success", execution_duration_ms=250.0),
    event("10:00:00.120", "t1", operation_id="op_2", operation_type="BORROW", venue="aave",
          status="failed", execution_duration_ms=1500.0, error_code="EXEC-001",
          error_message="Order execution failed"),
    event("10:00:00.250", "t1", operation_id="op_2", operation_type="BORROW", venue="aave",
          status="failed", execution_duration_ms=900.0, error_code="EXEC-001"),
]
SYSTEM_ERRORS = [
    event("10:00:00.110", "t1", error_code="EXEC-005", error_message="Reconciliation timeout",
          component="ExecutionManager", severity="CRITICAL"),
    event("10:00:00.210", "t1", error_code="EXEC-005", error_message="Reconciliation timeout",
          component="ExecutionManager", severity="CRITICAL"),
    event("10:00:00.220", "t1", error_code="RISK-001", error_message="Risk limit breached",
          component="RiskMonitor", severity="HIGH"),
]
POSITIONS = [
    event("10:00:00", "t1", positions={"aave:aToken:aUSDT": 100.0, "cex:USDT": 5.0},
          total_value_usd=105.0, position_type="snapshot"),
    event("10:00:01", "t1", positions={"aave:aToken:aUSDT": 90.0}, total_value_usd=90.0),
    event("10:00:02", "t1", positions={"cex:USDT": 7.0}, total_value_usd=7.0),
]
TIGHT_LOOP = [
    event("10:00:00.070", "t1", operation_id="op_1", execution_success=True,
          reconciliation_success=True, retry_count=0),
    event("10:00:00.130", "t1", operation_id="op_2", execution_success=False,
          reconciliation_success=False, retry_count=2),
]
RECONCILIATION = [
    event("10:00:00.140", "t1", reconciliation_type="post_trade", reconciliation_success=False),
    event("10:00:00.150", "t1", reconciliation_type="post_trade", reconciliation_success=True),
]


def build_container_tree(root: Path) -> Path:
    """The main container-layout tree described above."""
    put(root / "containers/strat_1/signal.log", STRAT)
    put(root / "containers/strat_1/signal.20261121T095959.log.gz", STRAT_ROTATED, gz=True)
    put(root / "archived/2026-11-20/containers/strat_1/signal.log.gz", STRAT_ARCHIVED, gz=True)
    put(root / "containers/risk_1/check.log", RISK)
    put(root / "containers/exec_1/order.log", EXEC)
    put(root / "containers/quiet_1/idle.log", QUIET)
    put(root / "system/manager.log", SYSTEM)
    put(root / "master.log", MASTER)
    put(root / "flows/coord_event_flows.log", FLOWS)
    put(root / "correlations/trade_correlations.log", CORRELATIONS)
    put(root / "metrics/strat_1.log", METRICS)
    put(root / "events/operation_executions.jsonl", OPERATIONS)
    put(root / "events/system_errors.jsonl", SYSTEM_ERRORS)
    put(root / "events/positions.jsonl", POSITIONS)
    put(root / "events/tight_loop.jsonl", TIGHT_LOOP)
    put(root / "events/reconciliation.jsonl", RECONCILIATION)
    (root / "logtool.json").write_text('{"format_version": 1, "writer": "hand"}')
    return root


# ------------------------------------------------------------------ run-scoped tree
RUN_LOGS = [
    {"timestamp": ts("11:00:00"), "level": "INFO", "message": "engine start",
     "event_scope": "lifecycle_management", "correlation_id": "run_a", "context": {}},
    {"timestamp": ts("11:00:01"), "level": "ERROR", "message": "position update failed",
     "correlation_id": "run_a", "context": {"error_code": "POS-001"}},
]


def build_run_tree(root: Path) -> Path:
    """A run-scoped tree: <root>/run_a/777/{position_monitor.log, events/...}, no container ids."""
    run = root / "run_a" / "777"
    put(run / "position_monitor.log", RUN_LOGS)
    put(run / "events/operation_executions.jsonl", [
        event("11:00:00.500", "run_a", operation_id="op_9", operation_type="SWAP",
              status="failed", execution_duration_ms=2000.0)])
    (run / "run_metadata.json").write_text('{"mode": "backtest"}')
    return root


# ------------------------------------------------------------------ bad input
GOOD = log("12:00:00", "INFO", "bad_1", "comp", "good")
GOOD_LINE = json.dumps(GOOD).encode()


def build_bad_tree(root: Path) -> dict[str, tuple[int, int | None]]:
    """A tree with one file per bad-input case; returns {rel: (skipped, first bad line)}.

    Good records in the tree: malformed.log 2, badutf.log 2 (one with valid é), missing.log 1,
    partial.log 2, blank.log 1 (blank and whitespace-only lines are not records), the truncated
    .gz: the complete lines that decompress (see complete_lines_of_truncated_gzip), empty 0.
    The truncated .gz counts as one skipped line (its unreadable rest), reported separately.
    """
    c = root / "containers" / "bad_1"
    put(c / "malformed.log", GOOD_LINE + b"\n{not json\n" + GOOD_LINE + b"\n[1, 2]\n")
    put(c / "badutf.log", GOOD_LINE + b"\n\xff\xfe\xfdgarbage\n"
        + json.dumps({**GOOD, "message": "caf\u00e9"}, ensure_ascii=False).encode() + b"\n")
    missing_ts = {k: v for k, v in GOOD.items() if k != "timestamp"}
    missing_level = {k: v for k, v in GOOD.items() if k != "level"}
    bad_ts = {**GOOD, "timestamp": "yesterday"}
    put(c / "missing.log", lines([missing_ts, GOOD, missing_level, bad_ts]))
    put(c / "partial.log", GOOD_LINE + b"\n" + GOOD_LINE + b"\n" + GOOD_LINE[:25])
    put(c / "empty.log", b"")
    put(c / "empty.20261121T000000.log.gz", b"")
    varied = [{**GOOD, "message": f"rotated record {i} " + "x" * (i * 7 % 50)} for i in range(400)]
    whole = gzip.compress(lines(varied))
    put(c / "cut.20261121T000001.log.gz", whole[: len(whole) // 2])
    put(c / "blank.log", b"\n" + GOOD_LINE + b"\n   \n")
    return {
        "containers/bad_1/malformed.log": (2, 2),
        "containers/bad_1/badutf.log": (1, 2),
        "containers/bad_1/missing.log": (3, 1),
        "containers/bad_1/partial.log": (1, 3),
    }


def snapshot(root: Path) -> dict[str, tuple[int, int, str]]:
    """Every file under root (no symlinks followed) with size, mtime_ns and sha256."""
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            st = path.stat()
            out[str(path.relative_to(root))] = (
                st.st_size, st.st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest())
    dirs = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_dir())
    out["<dirs>"] = (len(dirs), 0, "|".join(dirs))
    return out


def complete_lines_of_truncated_gzip(path: Path) -> int:
    """How many whole lines decompress from a truncated gzip file (computed independently)."""
    import zlib

    data = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(path.read_bytes())
    return data.count(b"\n")
