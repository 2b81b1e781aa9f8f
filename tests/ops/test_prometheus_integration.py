"""Integration of the Prometheus backend with a real Pushgateway and a real Prometheus server."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable
from typing import Any

from logtool.ops.backends import BackendContext, create_backend
from logtool.ops.config import BackendConfig, LoggingConfig, LogtoolConfig, RoutingRule
from logtool.ops.routing import Router


def metric(kind: str, name: str, value: float, **tags: str) -> dict[str, object]:
    return {"timestamp": 1_700_000_000.0, "record_type": kind, "kind": kind,
            "container_id": "strategy_1", "component_name": "signal", "name": name,
            "value": value, "tags": tags}


def test_push_to_real_pushgateway(pushgateway: str, http: Callable[..., str]) -> None:
    """Routed metrics pushed on flush are served back by the Pushgateway's /metrics."""
    config = LogtoolConfig(logging=LoggingConfig(
        backends={"prom": BackendConfig("prom", "prometheus", options={
            "push_gateway": pushgateway, "job_name": "logtool_test",
            "grouping_key": {"instance": "t1"}})},
        routing_rules=(RoutingRule("m", ("prom",), kinds=("metric", "counter", "latency")),),
    ))
    with Router.from_config(config) as router:
        router.dispatch("metric", metric("metric", "queue_depth", 42, venue="binance"))
        router.dispatch("counter", metric("counter", "orders", 3))
        router.dispatch("counter", metric("counter", "orders", 2))
        router.dispatch("latency", metric("latency", "parse", 12.5))
        assert router.flush()
        stats = router.stats()["backends"]["prom"]
    assert stats["written"] == 4
    assert stats["backend"]["pushes"] >= 1, stats
    body = http(f"http://{pushgateway}/metrics")
    lines = [line for line in body.splitlines() if 'job="logtool_test"' in line]
    assert any(line.startswith("logtool_queue_depth{") and 'venue="binance"' in line
               and line.endswith(" 42") for line in lines), lines
    assert any(line.startswith("logtool_orders_total{") and line.endswith(" 5")
               for line in lines), lines
    assert any(line.startswith("logtool_parse_latency_seconds_count{") and line.endswith(" 1")
               for line in lines), lines
    assert all('instance="t1"' in line for line in lines)


def test_down_pushgateway_is_counted(down_port: int) -> None:
    """A gateway that refuses connections is counted as push failures, never raised."""
    backend = create_backend("prom", "prometheus", {
        "push_gateway": f"127.0.0.1:{down_port}", "timeout_seconds": 1}, BackendContext())
    try:
        backend.write(metric("metric", "x", 1))
        backend.flush()
        stats = backend.stats()  # type: ignore[attr-defined]
    finally:
        backend.close()
    assert stats["push_failures"] >= 1
    assert stats["last_push_error"]


def test_real_prometheus_scrapes_exposition(prometheus_server: Callable[[int], str],
                                            http: Callable[..., str],
                                            poll: Callable[..., Any]) -> None:
    """A real Prometheus scrapes our ephemeral-port endpoint; its query API returns our series."""
    backend = create_backend("prom", "prometheus", {"port": 0, "prefix": "lt_it_"},
                             BackendContext())
    try:
        port = backend.stats()["port"]  # type: ignore[attr-defined]
        assert isinstance(port, int) and port > 0
        backend.write(metric("metric", "exposure_usd", 1234.5, book="main"))
        backend.write(metric("latency", "fill", 3.0))
        base = prometheus_server(port)
        query = urllib.parse.quote('lt_it_exposure_usd{book="main"}')

        def series() -> list[dict[str, object]]:
            data = json.loads(http(f"{base}/api/v1/query?query={query}"))
            return list(data["data"]["result"])

        result = poll(series, "our series in Prometheus", timeout=30)
        assert result[0]["metric"]["container_id"] == "strategy_1"  # type: ignore[index]
        assert result[0]["value"][1] == "1234.5"  # type: ignore[index]
        hist = urllib.parse.quote("lt_it_fill_latency_seconds_count")
        data = json.loads(http(f"{base}/api/v1/query?query={hist}"))
        assert data["data"]["result"][0]["value"][1] == "1"
    finally:
        backend.close()
