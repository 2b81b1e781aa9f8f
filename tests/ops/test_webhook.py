"""Tests for the webhook backend against a real HTTP server on loopback: batches, a down target,
the bound on memory, and delivery resuming when the target comes back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from logtool.ops.backends import BackendContext, OptionError, check_options, create_backend
from logtool.ops.backends.webhook import WebhookBackend
from logtool.ops.config import BackendConfig, LoggingConfig, LogtoolConfig, RoutingRule
from logtool.ops.routing import Router


def critical(i: int) -> dict[str, Any]:
    return {"timestamp": 1_700_000_000.0 + i, "level": "CRITICAL", "container_id": "risk",
            "component_name": "limits", "message": f"breach {i}", "context": {"i": i},
            "kind": "text"}


def webhook(url: str, **options: Any) -> WebhookBackend:
    backend = create_backend("hook", "webhook", {"url": url, **options}, BackendContext())
    assert isinstance(backend, WebhookBackend)
    return backend


def test_records_arrive_in_batches(webhook_sink: Any) -> None:
    """Records are POSTed as JSON batches of at most batch_size, in order, timestamps as ISO."""
    backend = webhook(webhook_sink.url, batch_size=4, flush_interval_seconds=60)
    try:
        for i in range(10):
            backend.write(critical(i))
        backend.flush(timeout=10)
    finally:
        backend.close()
    records = webhook_sink.records()
    assert [r["message"] for r in records] == [f"breach {i}" for i in range(10)]
    assert all(len(body["records"]) <= 4 for body in webhook_sink.bodies)
    assert records[0]["timestamp"] == "2023-11-14T22:13:20.000000Z"
    assert backend.stats()["sent_records"] == 10


def test_down_target_counts_failures_and_stays_bounded(down_port: int) -> None:
    """A refused target is counted as failed posts; the queue never exceeds max_queue."""
    backend = webhook(f"http://127.0.0.1:{down_port}/hook", batch_size=5, max_queue=20,
                      backoff_seconds=0.05, max_backoff_seconds=0.2, timeout_seconds=0.5)
    try:
        for i in range(100):  # would hang (test timeout) if write() waited for the network
            backend.write(critical(i))
        backend.flush(timeout=1)
        stats = backend.stats()
    finally:
        backend.close()
    assert stats["failed_posts"] >= 1
    assert stats["queued"] <= 20
    assert stats["dropped"] >= 80
    assert stats["sent_records"] == 0


def test_delivery_resumes_when_target_comes_back(
        webhook_sink: Any, poll: Callable[..., Any]) -> None:
    """Batches that failed while the target was down are retried and delivered once it is up."""
    webhook_sink.stop()
    backend = webhook(webhook_sink.url, batch_size=2, backoff_seconds=0.05,
                      max_backoff_seconds=0.2, timeout_seconds=0.5, flush_interval_seconds=0.1)
    try:
        for i in range(6):
            backend.write(critical(i))
        poll(lambda: backend.stats()["failed_posts"] >= 1, "a failed post", timeout=30)
        webhook_sink.start()
        poll(lambda: backend.stats()["sent_records"] == 6, "delivery after restart", timeout=30)
    finally:
        backend.close()
    assert [r["message"] for r in webhook_sink.records()] == [f"breach {i}" for i in range(6)]


def test_routed_critical_records_only(webhook_sink: Any) -> None:
    """Through the router with min_level CRITICAL, only critical records reach the webhook."""
    config = LogtoolConfig(logging=LoggingConfig(
        backends={"hook": BackendConfig("hook", "webhook", min_level="CRITICAL",
                                        options={"url": webhook_sink.url})},
        routing_rules=(RoutingRule("alerts", ("hook",), kinds=("text",)),)))
    with Router.from_config(config) as router:
        router.dispatch("text", {**critical(1), "level": "ERROR"})
        router.dispatch("text", critical(2))
        assert router.flush()
    assert [r["message"] for r in webhook_sink.records()] == ["breach 2"]


@pytest.mark.parametrize(
    ("options", "key"),
    [({}, "url"), ({"url": "file:///etc/passwd"}, "url"),
     ({"url": "http://x", "batch_size": 0}, "batch_size"),
     ({"url": "http://x", "retries": 3}, "retries")],
)
def test_invalid_options(options: dict[str, Any], key: str) -> None:
    """Missing or non-http URLs, bad numbers and unknown options are refused by key."""
    with pytest.raises(OptionError) as info:
        check_options("webhook", options)
    assert info.value.key == key
