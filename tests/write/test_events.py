"""DomainEventLogger: the twelve event types, base fields, timestamps, typed helpers (point 5)."""

from __future__ import annotations

import datetime as dt
import inspect
import os
from pathlib import Path
from typing import Any

import pytest

import logtool
from logtool import contract
from logtool.write.events import HELPERS, DomainEventLogger, business_time


def test_every_event_type_has_a_typed_helper_with_its_schema_fields() -> None:
    """One helper per contract event type, taking every schema field as a keyword."""
    assert set(HELPERS) == set(contract.EVENT_TYPES)
    for event_type, name in HELPERS.items():
        params = inspect.signature(getattr(DomainEventLogger, name)).parameters
        missing = set(contract.EVENT_SCHEMAS[event_type]) - set(params)
        assert not missing, (name, missing)
        assert {"timestamp", "correlation_id"} <= set(params)


def test_all_twelve_helpers_write_base_then_schema_fields(tree: Path, read: Any) -> None:
    """Each helper writes events/<type>.jsonl: base fields first, then every schema field."""
    events = logtool.DomainEventLogger(pid=4242)
    for event_type, name in HELPERS.items():
        helper = getattr(events, name)
        if event_type == "system_errors":
            helper("EXEC-001", timestamp="2025-01-15T10:30:00")
        else:
            helper(timestamp="2025-01-15T10:30:00")
    for event_type, schema in contract.EVENT_SCHEMAS.items():
        (rec,) = read(f"events/{event_type}.jsonl")
        keys = tuple(rec)
        assert keys[:4] == contract.EVENT_BASE_FIELDS
        assert set(schema) <= set(keys), event_type
        assert rec["timestamp"] == "2025-01-15T10:30:00.000000Z"
        assert rec["real_utc_time"].endswith("Z")
        assert rec["pid"] == 4242
        if "metadata" in schema:
            assert rec["metadata"] == {}


def test_generic_log_keeps_given_fields_and_extras(tree: Path, read: Any) -> None:
    """log(type, data) fills missing schema fields with null and keeps unknown extras."""
    events = logtool.DomainEventLogger()
    events.log("operation_executions", {
        "timestamp": "2025-01-15T10:30:00", "operation_id": "supply_001",
        "operation_type": "supply", "venue": "aave_v3", "status": "confirmed",
        "expected_deltas": [{"position_key": "aave:aToken:aUSDT", "delta_amount": 10000.0}],
        "actual_deltas": {"aave:aToken:aUSDT": 10000.0}, "fee_amount": 0.0,
        "execution_duration_ms": 125.5, "simulated": True, "venue_order_ref": "r-1"})
    (rec,) = read("events/operation_executions.jsonl")
    assert rec["operation_id"] == "supply_001"
    assert rec["expected_deltas"][0]["delta_amount"] == 10000.0
    assert rec["error_code"] is None and rec["fee_currency"] is None
    assert rec["venue_order_ref"] == "r-1"
    assert rec["pid"] == os.getpid()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (dt.datetime(2025, 1, 15, 10, 30, 0, 123456), "2025-01-15T10:30:00.123456Z"),
        (dt.datetime(2025, 1, 15, 12, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))),
         "2025-01-15T10:30:00.000000Z"),
        (dt.date(2025, 1, 15), "2025-01-15T00:00:00.000000Z"),
        ("2025-01-15T10:30:00Z", "2025-01-15T10:30:00.000000Z"),
        ("2025-01-15 10:30:00.5", "2025-01-15T10:30:00.500000Z"),
        (1_736_937_000, "2025-01-15T10:30:00.000000Z"),
        (1_736_937_000.25, "2025-01-15T10:30:00.250000Z"),
    ],
)
def test_business_timestamps_are_normalized(tree: Path, read: Any, value: Any,
                                           expected: str) -> None:
    """datetime, date, ISO strings and epoch numbers all become ISO-8601 UTC with a Z."""
    logtool.DomainEventLogger().log_health_status(overall_status="ok", timestamp=value)
    assert read("events/health_status.jsonl")[0]["timestamp"] == expected


def test_unparsable_timestamp_is_kept_and_counted(tree: Path, read: Any) -> None:
    """A timestamp that is not a time is written as given and counted, never raised."""
    logtool.DomainEventLogger().log_health_status(timestamp="yesterday-ish")
    assert read("events/health_status.jsonl")[0]["timestamp"] == "yesterday-ish"
    assert logtool.stats()["bad_timestamps"] == 1
    assert business_time(None, lambda: 5.0) == 5.0


def test_correlation_id_precedence(tree: Path, read: Any) -> None:
    """Per-call id beats the active one, which beats the logger's default."""
    events = logtool.DomainEventLogger(correlation_id="run_default")
    events.log_tight_loop(operation_id="a")
    with logtool.correlation("trade_ctx"):
        events.log_tight_loop(operation_id="b")
        events.log_tight_loop(operation_id="c", correlation_id="trade_call")
    ids = [r["correlation_id"] for r in read("events/tight_loop.jsonl")]
    assert ids == ["run_default", "trade_ctx", "trade_call"]


def test_system_error_filled_from_registry_with_stack_trace(tree: Path, read: Any) -> None:
    """log_system_error fills message/severity/component from the code and the traceback."""
    events = logtool.DomainEventLogger()
    try:
        raise TimeoutError("venue silent")
    except TimeoutError:
        events.log_system_error("EXEC-005", metadata={"venue": "x"})
    events.log_system_error("POS-005", "custom message", severity="LOW")
    events.log_system_error("RISK-999")
    first, second, third = read("events/system_errors.jsonl")
    assert first["error_message"] == "Reconciliation timeout"
    assert first["severity"] == "CRITICAL" and first["component"] == "ExecutionManager"
    assert "TimeoutError: venue silent" in first["stack_trace"]
    assert first["metadata"] == {"venue": "x"}
    assert (second["error_message"], second["severity"]) == ("custom message", "LOW")
    assert second["component"] == "PositionMonitor" and second["stack_trace"] is None
    assert third["severity"] is None and third["component"] == "RiskMonitor"


def test_operation_execution_error_message_from_code(tree: Path, read: Any) -> None:
    """An operation execution with an error code gets the registered message."""
    logtool.DomainEventLogger().log_operation_execution(operation_id="o", status="failed",
                                                        error_code="EXEC-001")
    rec = read("events/operation_executions.jsonl")[0]
    assert rec["error_message"] == "Order execution failed"


def test_custom_event_type_is_escaped_into_events(tree: Path) -> None:
    """A custom event type is allowed, escaped if needed, and stays inside events/."""
    events = logtool.DomainEventLogger()
    events.log("custom_fills", {"n": 1})
    events.log("../../etc/passwd", {"n": 2})
    logtool.flush()
    names = sorted(p.name for p in (tree / "events").iterdir())
    assert names == ["%2E.%2F..%2Fetc%2Fpasswd.jsonl", "custom_fills.jsonl"]
    assert not any(p.is_file() for p in tree.parent.iterdir())


def test_log_dir_outside_root_gets_its_own_writer(tree: Path, tmp_path: Path) -> None:
    """DomainEventLogger(log_dir=...) outside the root writes <log_dir>/events/."""
    other = tmp_path / "elsewhere"
    events = logtool.DomainEventLogger(log_dir=other, correlation_id="run_x", pid=1)
    events.log_position_snapshot(positions={"wallet:USDT": 5.0}, total_value_usd=5.0)
    logtool.flush()
    lines = (other / "events" / "positions.jsonl").read_text().splitlines()
    assert len(lines) == 1 and '"correlation_id":"run_x"' in lines[0]


def test_log_dir_inside_root_is_a_prefix(tree: Path, read: Any) -> None:
    """A log_dir below the root writes through the main writer under that directory."""
    events = logtool.DomainEventLogger(log_dir=tree / "run_a" / "1")
    events.log_reconciliation(reconciliation_success=True)
    assert read("run_a/1/events/reconciliation.jsonl")[0]["reconciliation_success"] is True
