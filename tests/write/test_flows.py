"""EventFlowTracer: one record per hop in flows/<coordinator>_event_flows.log (point 4)."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Any

import logtool
from logtool import contract

FLOWS = "flows/main_coordinator_event_flows.log"


class Tier(enum.Enum):
    RELIABLE = "reliable"


def test_external_and_internal_hops(tree: Path, read: Any) -> None:
    """External hops carry tier and latency; internal ones have tier null."""
    tracer = logtool.EventFlowTracer("main_coordinator")
    with logtool.correlation("trade_f1"):
        tracer.trace_external_event("ev1", "data_001", "strategy_001", "fast", latency_ms=0.4,
                                    event_type="BAR", symbol="BTC")
        tracer.trace_internal_event("strategy_001", "ev2", "indicator", "momentum")
    ext, internal = read(FLOWS)
    for rec in (ext, internal):
        assert tuple(rec)[: len(contract.FLOW_FIELDS)] == contract.FLOW_FIELDS
        assert rec["correlation_id"] == "trade_f1"
    assert (ext["flow_type"], ext["tier"], ext["container_id"]) == ("external", "fast", "data_001")
    assert (ext["source"], ext["target"]) == ("data_001", "strategy_001")
    assert ext["latency_ms"] == 0.4 and ext["event_type"] == "BAR"
    assert ext["context"] == {"symbol": "BTC"}
    assert (internal["flow_type"], internal["tier"]) == ("internal", None)
    assert internal["container_id"] == "strategy_001" and internal["latency_ms"] is None
    assert tracer.hops == 2


def test_invalid_tier_is_written_as_given_and_counted(tree: Path, read: Any) -> None:
    """A tier outside contract.TIERS never raises: written as given, counted in stats."""
    tracer = logtool.EventFlowTracer("main_coordinator")
    tracer.trace_external_event("ev", "a", "b", "warp")
    tracer.trace_external_event("ev", "a", "b", Tier.RELIABLE)
    first, second = read(FLOWS)
    assert first["tier"] == "warp" and second["tier"] == "reliable"
    assert tracer.invalid_tiers == 1
    assert logtool.stats()["invalid_tiers"] == 1


def test_explicit_correlation_id_wins(tree: Path, read: Any) -> None:
    """A correlation_id passed to the call beats the active one."""
    tracer = logtool.EventFlowTracer("main_coordinator")
    with logtool.correlation("trade_ctx"):
        tracer.trace_external_event("ev", "a", "b", "standard", correlation_id="trade_given")
    assert read(FLOWS)[0]["correlation_id"] == "trade_given"


def test_trace_event_protocol_method(tree: Path, read: Any) -> None:
    """trace_event is external with tier=, internal (in the source container) without."""
    tracer = logtool.EventFlowTracer("main_coordinator")
    tracer.trace_event("e1", "risk_001", "execution_001", tier="reliable", latency_ms=12.0)
    tracer.trace_event("e2", "risk_001", "limits")
    recs = read(FLOWS)
    assert [(r["flow_type"], r["tier"], r["container_id"]) for r in recs] == [
        ("external", "reliable", "risk_001"), ("internal", None, "risk_001")]
    assert isinstance(tracer, logtool.EventTrackable)


def test_coordinator_id_is_escaped(tree: Path) -> None:
    """A coordinator id with separators cannot leave flows/."""
    tracer = logtool.EventFlowTracer("../../evil")
    tracer.trace_internal_event("c", "e", "a", "b")
    logtool.flush()
    files = [p for p in tree.rglob("*") if p.is_file()]
    assert all(tree in p.parents for p in files)
    assert [p.parent.name for p in files if p.suffix == ".log"] == ["flows"]
    assert logtool.stats()["escaped_path_parts"] == 1
