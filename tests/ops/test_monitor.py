"""Tests for logtool.ops.monitor: error-rate window, alert thresholds and the cooldown gate."""

from __future__ import annotations

from logtool.ops import monitor


class Clock:
    """A clock the test moves by hand (the window logic is about time, not speed)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def text(cid: str, level: str, scope: str = "component_internal") -> dict[str, object]:
    """A text record as the writer hands it to the router hook."""
    return {"container_id": cid, "level": level, "event_scope": scope, "message": "m"}


def test_counts_only_error_levels_per_container_within_a_minute() -> None:
    """ERROR and CRITICAL count; older than 60 s drops out; other kinds and scopes do not count."""
    clock = Clock()
    tracker = monitor.ErrorRateTracker(clock)
    for _ in range(3):
        tracker.observe("text", text("a", "ERROR"))
    tracker.observe("text", text("a", "WARNING"))
    tracker.observe("text", text("b", "CRITICAL"))
    tracker.observe("metric", text("b", "ERROR"))
    tracker.observe("text", text("c", "ERROR", scope="lifecycle_management"))
    assert tracker.per_minute() == {"a": 3, "b": 1}
    clock.now += 45
    tracker.observe("text", text("a", "ERROR"))
    clock.now += 20  # the first three are now 65 s old
    assert tracker.per_minute() == {"a": 1, "b": 0}
    assert tracker.totals()["a"] == {"records": 5, "errors": 4}
    assert tracker.totals()["c"] == {"records": 1, "errors": 0}


def test_memory_per_container_is_bounded() -> None:
    """However many errors arrive, at most MAX_ERRORS_KEPT times are kept per container."""
    tracker = monitor.ErrorRateTracker(Clock())
    for _ in range(monitor.MAX_ERRORS_KEPT + 500):
        tracker.observe("text", text("loud", "ERROR"))
    assert tracker.per_minute()["loud"] == monitor.MAX_ERRORS_KEPT
    assert tracker.totals()["loud"]["errors"] == monitor.MAX_ERRORS_KEPT + 500


def test_check_thresholds() -> None:
    """Disk over its threshold and containers over the rate give alerts; at the limit does not."""
    alerts = monitor.check_thresholds(3 * monitor.GB, 2.0, {"a": 11, "b": 10, "c": 0}, 10)
    assert [(a.kind, a.container_id) for a in alerts] == [("disk_usage", None),
                                                          ("error_rate", "a")]
    assert alerts[0].value == 3.0 and "2 GB" in alerts[0].message
    assert monitor.check_thresholds(10, None, {}, 10) == []


def test_alert_gate_cooldown() -> None:
    """The same alert key is admitted once per cooldown; another key is independent."""
    clock = Clock()
    gate = monitor.AlertGate(60, clock)
    a = monitor.Alert("error_rate", 5, 3, "x")
    assert gate.admit(a)
    assert not gate.admit(a)
    assert gate.admit(monitor.Alert("error_rate", 5, 3, "y"))
    clock.now += 61
    assert gate.admit(a)


def test_writer_counters_picks_known_keys() -> None:
    """Only the documented writer counters are reported."""
    got = monitor.writer_counters({"written": 3, "dropped_queue_full": 1, "root": "/x"})
    assert got == {"written": 3, "dropped_queue_full": 1}
