"""ContainerLogger: record fields, master mirror, levels, correlations, metrics, router hook."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

import logtool
from logtool import contract
from logtool.write import runtime
from logtool.write.logger import ContainerLogger

ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


def test_component_file_has_exactly_the_contract_fields(tree: Path, read: Any) -> None:
    """A record in containers/<cid>/<component>.log has exactly LOG_FIELDS, context = kwargs."""
    log = logtool.get_logger("strategy_001", "momentum")
    log.info("Generating signal", strength=0.8, symbol="BTC")
    (rec,) = read("containers/strategy_001/momentum.log")
    assert tuple(rec) == contract.LOG_FIELDS
    assert ISO_RE.match(rec["timestamp"])
    assert rec["level"] == "INFO"
    assert rec["container_id"] == "strategy_001"
    assert rec["component_name"] == "momentum"
    assert rec["message"] == "Generating signal"
    assert rec["event_scope"] == "component_internal"
    assert rec["correlation_id"] is None
    assert rec["context"] == {"strength": 0.8, "symbol": "BTC"}


def test_info_and_above_mirror_to_master_debug_does_not(tree: Path, read: Any) -> None:
    """INFO+ lines also land in master.log, identical; DEBUG stays in the component file."""
    log = logtool.get_logger("strategy_002", "mean_rev")
    log.debug("d")
    log.info("i")
    log.warning("w")
    log.error("e")
    log.critical("c")
    own = read("containers/strategy_002/mean_rev.log")
    master = read("master.log")
    assert [r["level"] for r in own] == ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
    assert master == own[1:]


def test_get_logger_is_cached_per_container_and_component() -> None:
    """The same (container, component) pair gives the same logger object."""
    a = logtool.get_logger("c1", "x")
    assert a is logtool.get_logger("c1", "x")
    assert a is not logtool.get_logger("c1", "y")


def test_log_by_name_number_and_unknown_level(tree: Path, read: Any) -> None:
    """log() accepts names and numbers; an unknown level is written at INFO and counted."""
    log = logtool.get_logger("lv_c", "comp")
    log.log("WARNING", "Low volume", volume=12)
    log.log(45, "between error and critical")
    log.log("LOUD", "odd")
    recs = read("containers/lv_c/comp.log")
    assert [r["level"] for r in recs] == ["WARNING", "CRITICAL", "INFO"]
    assert recs[0]["context"] == {"volume": 12}
    assert recs[2]["context"]["level_given"] == "'LOUD'"
    assert logtool.stats()["bad_levels"] == 1


def test_aliases_write_like_the_level_methods(tree: Path, read: Any) -> None:
    """log_info/log_debug/log_warning/log_error/log_critical are the level methods."""
    log = logtool.get_logger("alias_c", "comp")
    log.log_debug("a")
    log.log_info("b")
    log.log_warning("c")
    log.log_error("d")
    log.log_critical("e")
    assert [r["level"] for r in read("containers/alias_c/comp.log")] == [
        "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


def test_exception_records_the_traceback(tree: Path, read: Any) -> None:
    """exception() writes ERROR with the active traceback in context['traceback']."""
    log = logtool.get_logger("exc_c", "comp")
    try:
        raise ValueError("bad price")
    except ValueError:
        log.exception("pricing failed", order="o1")
    (rec,) = read("containers/exc_c/comp.log")
    assert rec["level"] == "ERROR"
    assert rec["context"]["order"] == "o1"
    assert "ValueError: bad price" in rec["context"]["traceback"]


def test_global_level_and_per_container_override(tree: Path, read: Any) -> None:
    """A container override beats the global level; set_level changes both at runtime."""
    logtool.configure(root=tree, level="WARNING", container_levels={"noisy": "DEBUG"})
    quiet = logtool.get_logger("quiet", "c")
    noisy = logtool.get_logger("noisy", "c")
    quiet.info("dropped")
    quiet.warning("kept")
    noisy.debug("kept too")
    logtool.set_level("ERROR", container_id="noisy")
    noisy.warning("dropped now")
    logtool.set_level("DEBUG")
    quiet.debug("kept after set_level")
    assert [r["message"] for r in read("containers/quiet/c.log")] == [
        "kept", "kept after set_level"]
    assert [r["message"] for r in read("containers/noisy/c.log")] == ["kept too"]
    assert quiet.is_enabled_for("DEBUG") and not noisy.is_enabled_for("WARNING")


def test_bound_and_global_context_merge_with_call_values_winning(tree: Path, read: Any) -> None:
    """Precedence: call kwargs > set_context() > set_global_context()."""
    log = logtool.get_logger("ctx_c", "comp")
    log.set_context(venue="binance", account="a1")
    logtool.set_global_context(env="test", venue="global")
    log.info("m", account="a2")
    logtool.set_global_context()
    log.clear_context()
    log.info("plain")
    first, second = read("containers/ctx_c/comp.log")
    assert first["context"] == {"env": "test", "venue": "binance", "account": "a2"}
    assert second["context"] == {}


def test_correlation_topics_by_prefix_and_kwarg(tree: Path, read: Any) -> None:
    """trade_/signal_ ids pick their topic; correlation_topic= overrides; others get none."""
    log = logtool.get_logger("corr_c", "comp")
    with logtool.correlation("trade_1"):
        log.info("t")
    with logtool.correlation("signal_1"):
        log.info("s")
    with logtool.correlation("abc"):
        log.info("none")
        log.info("forced", correlation_topic="signal")
    trade = read("correlations/trade_correlations.log")
    signal = read("correlations/signal_correlations.log")
    assert [r["message"] for r in trade] == ["t"]
    assert [r["message"] for r in signal] == ["s", "forced"]
    for rec in trade + signal:
        assert set(contract.CORRELATION_FIELDS) <= set(rec)
        assert rec["container_id"] == "corr_c" and rec["component_name"] == "comp"
    assert signal[1]["correlation_id"] == "abc"
    assert read("correlations/error_correlations.log") == []


def test_errors_with_an_id_always_land_in_error_correlations(tree: Path, read: Any) -> None:
    """ERROR and CRITICAL records carrying an id go to error_correlations too."""
    log = logtool.get_logger("err_c", "comp")
    with logtool.correlation("trade_9"):
        log.error("rejected", reason="risk")
        log.critical("halt")
        log.warning("not an error")
    with logtool.correlation("xyz"):
        log.error("no topic but error")
    log.error("no id: no correlation record")
    errors = read("correlations/error_correlations.log")
    assert [(r["message"], r["level"], r["topic"]) for r in errors] == [
        ("rejected", "ERROR", "error"), ("halt", "CRITICAL", "error"),
        ("no topic but error", "ERROR", "error")]
    trade = read("correlations/trade_correlations.log")
    assert [r["message"] for r in trade] == ["rejected", "halt", "not an error"]


def test_unserializable_context_falls_back_to_repr(tree: Path, read: Any) -> None:
    """A context value orjson cannot encode is written as its repr; the caller goes on."""

    class Opaque:
        def __repr__(self) -> str:
            return "<Opaque 7>"

    log = logtool.get_logger("ser_c", "comp")
    log.info("m", thing=Opaque(), ok=1)
    (rec,) = read("containers/ser_c/comp.log")
    assert rec["context"] == {"thing": "<Opaque 7>", "ok": 1}


def test_failing_clock_is_counted_not_raised(tree: Path) -> None:
    """An exception inside the record path (here the clock) is swallowed and counted."""

    def broken() -> float:
        raise RuntimeError("clock gone")

    logtool.configure(root=tree, level="DEBUG", clock=broken)
    logtool.get_logger("clk_c", "comp").info("m")
    stats = logtool.stats()
    assert stats["api_errors"] == 1
    assert "clock gone" in stats["last_api_error"]


def test_configured_clock_sets_timestamps(tree: Path, read: Any) -> None:
    """With clock=..., records carry the simulated time (int clocks are accepted)."""
    logtool.configure(root=tree, level="DEBUG", clock=lambda: 1_700_000_000)
    logtool.get_logger("sim_c", "comp").info("m")
    (rec,) = read("containers/sim_c/comp.log")
    assert rec["timestamp"] == "2023-11-14T22:13:20.000000Z"


def test_metric_counter_latency_audit_records(tree: Path, read: Any) -> None:
    """metrics/<cid>.log gets one METRIC_FIELDS record per call, with its record_type."""
    log = logtool.get_logger("met_c", "engine")
    log.set_context(region="eu")
    with logtool.correlation("trade_m"):
        log.metric("queue_depth", 17, queue="orders")
    log.counter("orders_sent", venue="x")
    log.counter("fills", 3)
    log.latency("place_order", 4.5, venue="x")
    log.audit("limit_changed", old=1, new=2)
    log.metric("bad", "not a number")  # type: ignore[arg-type]
    recs = read("metrics/met_c.log")
    assert [r["record_type"] for r in recs] == [
        "metric", "counter", "counter", "latency", "audit", "metric"]
    for rec in recs:
        assert set(contract.METRIC_FIELDS) <= set(rec)
        assert rec["container_id"] == "met_c" and rec["component_name"] == "engine"
    assert recs[0]["value"] == 17 and recs[0]["tags"] == {"queue": "orders"}
    assert recs[0]["correlation_id"] == "trade_m"
    assert recs[0]["context"] == {"region": "eu"}
    assert recs[1]["value"] == 1 and recs[2]["value"] == 3
    assert recs[3]["name"] == "place_order" and recs[3]["value"] == 4.5
    assert recs[4]["value"] is None and recs[4]["context"] == {"region": "eu", "old": 1, "new": 2}
    assert recs[5]["value"] is None
    assert logtool.stats()["bad_metric_values"] == 1


def test_time_operation_as_context_manager_decorator_and_async(tree: Path, read: Any) -> None:
    """time_operation records one latency per block and per call, sync and async."""
    log = logtool.get_logger("timer_c", "comp")
    with log.time_operation("block", step="a"):
        sum(range(1000))

    @log.time_operation("decorated")
    def work(x: int) -> int:
        return x * 2

    @log.time_operation("async_op")
    async def awork() -> str:
        await asyncio.sleep(0)
        return "done"

    assert work(4) == 8
    assert work(5) == 10
    assert asyncio.run(awork()) == "done"
    with pytest.raises(KeyError), log.time_operation("failing"):
        raise KeyError("the caller's own error still propagates")
    recs = read("metrics/timer_c.log")
    assert [r["name"] for r in recs] == ["block", "decorated", "decorated", "async_op", "failing"]
    assert all(r["record_type"] == "latency" and r["value"] >= 0 for r in recs)
    assert recs[0]["tags"] == {"step": "a"}


class _Router:
    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, Any]]] = []

    def dispatch(self, kind: str, record: dict[str, Any]) -> None:
        self.seen.append((kind, record))


def test_router_receives_every_record_the_logger_builds(tree: Path, read: Any) -> None:
    """With set_router, text/metric/counter/latency/audit records are also dispatched."""
    router = _Router()
    logtool.set_router(router)
    log = logtool.get_logger("route_c", "comp")
    log.info("hello", a=1)
    log.debug("below nothing")
    log.metric("m", 1.0)
    log.counter("c")
    log.latency("l", 2.0)
    log.audit("au")
    logtool.set_router(None)
    log.info("after removal")
    kinds = [k for k, _ in router.seen]
    assert kinds == ["text", "text", "metric", "counter", "latency", "audit"]
    assert router.seen[0][1]["message"] == "hello"
    assert router.seen[0][1]["context"] == {"a": 1}
    assert len(read("containers/route_c/comp.log")) == 3


def test_router_failure_is_counted_and_logging_goes_on(tree: Path, read: Any) -> None:
    """A router whose dispatch raises never breaks the caller; the record is still written."""

    class Broken:
        def dispatch(self, kind: str, record: dict[str, Any]) -> None:
            raise ConnectionError("backend down")

    logtool.set_router(Broken())
    log = logtool.get_logger("route_bad", "comp")
    log.info("one")
    log.metric("m", 1)
    assert len(read("containers/route_bad/comp.log")) == 1
    assert logtool.stats()["router_errors"] == 2


def test_disabled_level_returns_without_building_a_record(tree: Path, read: Any) -> None:
    """Below the threshold nothing is submitted (the sink's submitted count stays put)."""
    logtool.configure(root=tree, level="ERROR")
    log = logtool.get_logger("off_c", "comp")
    log.info("x")
    log.debug("y")
    log.warning("z")
    assert read("containers/off_c/comp.log") == []
    assert runtime.state().sink is None or logtool.stats()["submitted"] == 0


def test_capture_state_and_trace_event_buffer(tree: Path, read: Any) -> None:
    """Debuggable: enable_tracing keeps trace_event hops in memory; capture_state shows them."""
    log = logtool.get_logger("dbg_c", "comp")
    log.enable_tracing(True)
    log.trace_event("ev1", "a", "b")
    log.trace_event("ev2", "dbg_c", "risk_001", tier="standard", latency_ms=2.0)
    state = log.capture_state()
    assert state["tracing"] is True
    assert [e["event_id"] for e in state["recent_events"]] == ["ev1", "ev2"]
    flows = read("flows/dbg_c_event_flows.log")
    assert [(f["flow_type"], f["tier"]) for f in flows] == [
        ("internal", None), ("external", "standard")]
    assert flows[1]["latency_ms"] == 2.0
    log.enable_tracing(False)
    assert log.capture_state()["recent_events"] == []


def test_message_and_level_keywords_do_not_clash_with_context(tree: Path, read: Any) -> None:
    """Context may use the names message/level (the positional parameters are positional-only)."""
    log = logtool.get_logger("kw_c", "comp")
    log.info("m", message="inner", level="inner-level")
    log.log("INFO", "m2", level="x")
    first, second = read("containers/kw_c/comp.log")
    assert first["message"] == "m" and first["context"]["message"] == "inner"
    assert second["context"] == {"level": "x"}


def test_logger_satisfies_its_protocols() -> None:
    """A ContainerLogger is Loggable, ContainerAware, CorrelationAware, EventTrackable, ..."""
    log: ContainerLogger = logtool.get_logger("proto_c", "comp")
    for proto in (logtool.Loggable, logtool.ContainerAware, logtool.CorrelationAware,
                  logtool.EventTrackable, logtool.Debuggable):
        assert isinstance(log, proto), proto
