"""Per-container tracing from the container's own config (point 7, seed 004)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

import logtool
from logtool.write.tracing import EventTracer, setup_container_tracing, trace_dir_relpath

META = {"workflow_id": "wf_123", "phase_name": "training"}


class BarEvent:
    """An event object as an event bus would deliver it."""

    def __init__(self, n: int) -> None:
        self.event_id = f"bar_{n}"
        self.event_type = "BAR"
        self.payload = {"close": 100 + n}


def test_disabled_or_missing_config_gives_no_tracer() -> None:
    """Tracing is off unless the container's config enables it."""
    assert setup_container_tracing("c1", None) is None
    assert setup_container_tracing("c1", {"enable_event_tracing": False}) is None
    assert setup_container_tracing("c1", {"metadata": META}) is None


def test_trace_id_and_max_events_bound(tree: Path) -> None:
    """The trace id is <workflow_id>_<container_id>; memory keeps at most max_events."""
    tracer = setup_container_tracing("portfolio_1", {
        "enable_event_tracing": True,
        "trace_settings": {"max_events": 5},
        "metadata": META,
    })
    assert tracer is not None
    assert tracer.trace_id == "wf_123_portfolio_1"
    for n in range(12):
        tracer.trace_event(BarEvent(n))
    events = tracer.events()
    assert len(events) == 5 and [e["event_id"] for e in events] == [f"bar_{n}" for n in
                                                                      range(7, 12)]
    assert tracer.total == 12 and tracer.evicted == 7
    assert events[0]["phase_name"] == "training" and events[0]["payload"] == {"close": 107}
    assert not (tree / "traces").exists()


def test_persist_to_disk_writes_under_the_tree(tree: Path) -> None:
    """persist_to_disk writes every traced event to <trace_dir>/<trace_id>.jsonl in the root."""
    tracer = setup_container_tracing(
        "risk_001",
        {"execution": {"enable_event_tracing": True,
                       "trace_settings": {"max_events": 2, "persist_to_disk": True,
                                          "trace_dir": "./traces"}}},
        metadata=META,
    )
    assert tracer is not None
    with logtool.correlation("trade_tr"):
        for n in range(4):
            tracer.trace_event({"event_id": f"e{n}", "event_type": "ORDER"}, hop=n)
    logtool.flush()
    lines = (tree / "traces" / "wf_123_risk_001.jsonl").read_bytes().splitlines()
    recs = [orjson.loads(line) for line in lines]
    assert [r["sequence"] for r in recs] == [1, 2, 3, 4]
    assert {r["correlation_id"] for r in recs} == {"trade_tr"}
    assert recs[0]["context"] == {"hop": 0} and recs[0]["workflow_id"] == "wf_123"
    assert len(tracer.events()) == 2


def test_seed_key_enable_tracing_and_pause(tree: Path) -> None:
    """The seed's `enable_tracing` key works too; enable_tracing(False) pauses tracing."""
    tracer = setup_container_tracing("c2", {"enable_tracing": True, "metadata": META})
    assert tracer is not None
    tracer.enable_tracing(False)
    tracer.trace_event("ignored")
    tracer.enable_tracing(True)
    tracer.trace_event(42)
    assert tracer.total == 1 and tracer.events()[0]["event_type"] == "int"
    for proto in (logtool.Debuggable, logtool.LifecycleManaged):
        assert isinstance(tracer, proto)
    tracer.cleanup()
    assert tracer.get_status()["in_memory"] == 0


def test_trace_dir_never_leaves_the_root() -> None:
    """Absolute paths and .. in trace_dir are turned into parts below the root."""
    assert trace_dir_relpath("./traces") == "traces"
    assert trace_dir_relpath("/tmp/x") == "tmp/x"
    assert trace_dir_relpath("../up") == "%2E./up"
    assert trace_dir_relpath("") == "traces"


def test_invalid_max_events_falls_back_and_is_counted(tree: Path, read: Any) -> None:
    """A bad max_events never raises: the default is used and the problem counted."""
    tracer = EventTracer("t", max_events=-3)
    assert tracer.max_events == 10_000
    assert logtool.stats()["api_errors"] == 1
