"""Tests for logtool.ops.routing: rule matching, dev/prod defaults, counters, a slow backend."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from logtool.errors import ConfigError
from logtool.ops.backends import BaseBackend, register_backend
from logtool.ops.config import (
    BackendConfig,
    LoggingConfig,
    LogtoolConfig,
    PerformanceConfig,
    RoutingRule,
    load_config,
)
from logtool.ops.routing import Router


class ListBackend(BaseBackend):
    """Keeps every record it is given (a whole backend in a few lines)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.records: list[Mapping[str, Any]] = []

    def write(self, record: Mapping[str, Any]) -> None:
        self.records.append(record)


class GateBackend(ListBackend):
    """Blocks in write() until the test opens the gate: the slowest backend possible."""

    gate = threading.Event()

    def write(self, record: Mapping[str, Any]) -> None:
        self.gate.wait()
        super().write(record)


class BrokenBackend(BaseBackend):
    """Raises on every write."""

    def write(self, record: Mapping[str, Any]) -> None:
        raise OSError("disk on fire")


register_backend("test_list", ListBackend)
register_backend("test_gate", GateBackend)
register_backend("test_broken", BrokenBackend)


def text(level: str, message: str = "m", **context: Any) -> dict[str, Any]:
    return {"timestamp": 1_700_000_000.0, "level": level, "container_id": "c1",
            "component_name": "comp", "message": message, "event_scope": "component_internal",
            "correlation_id": None, "context": context}


def metric(kind: str, name: str = "n", value: float = 1.0) -> dict[str, Any]:
    return {"timestamp": 1_700_000_000.0, "record_type": kind, "container_id": "c1",
            "component_name": "comp", "name": name, "value": value, "tags": {}}


def router_for(rules: tuple[RoutingRule, ...], names: tuple[str, ...] = ("a", "b", "c"),
               environment: str = "dev", queue_size: int = 10_000, **kwargs: Any) -> Router:
    config = LogtoolConfig(logging=LoggingConfig(
        environment=environment,
        backends={n: BackendConfig(n, "test_list") for n in names},
        routing_rules=rules, **kwargs))
    return Router.from_config(config, queue_size=queue_size)


def got(router: Router, name: str) -> list[Mapping[str, Any]]:
    backend = router.backends[name]
    assert isinstance(backend, ListBackend)
    return backend.records


def test_rules_by_kind_level_and_environment() -> None:
    """Each record reaches exactly the backends whose rules match its kind, level and env."""
    rules = (
        RoutingRule("metrics", ("a",), kinds=("metric", "latency")),
        RoutingRule("errors", ("b",), kinds=("text",), min_level="ERROR"),
        RoutingRule("chatter", ("c",), kinds=("text",), max_level="INFO", environments=("dev",)),
        RoutingRule("audit", ("a", "b"), kinds=("audit",)),
    )
    with router_for(rules) as router:
        router.dispatch("metric", metric("metric"))
        router.dispatch("latency", metric("latency"))
        router.dispatch("counter", metric("counter"))  # no rule
        router.dispatch("text", text("ERROR", "boom"))
        router.dispatch("text", text("DEBUG", "chat"))
        router.dispatch("text", text("WARNING", "meh"))  # no rule
        router.dispatch("audit", metric("audit", "login"))
        assert router.flush()
        assert [r["kind"] for r in got(router, "a")] == ["metric", "latency", "audit"]
        assert [r.get("message", r.get("name")) for r in got(router, "b")] == ["boom", "login"]
        assert [r["message"] for r in got(router, "c")] == ["chat"]
        assert router.stats()["unrouted"] == 2
    with router_for(rules, environment="prod") as prod:
        prod.dispatch("text", text("DEBUG", "chat"))
        assert prod.flush()
        assert got(prod, "c") == []


def test_builtin_defaults_dev_and_prod(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Seed routing: metrics to prometheus, warnings to file, debug/info to console in dev only."""
    dev_cfg = load_config(env={"LOGTOOL_ROOT": str(tmp_path)})
    prod_cfg = load_config(env={"LOGTOOL_ROOT": str(tmp_path), "LOGTOOL_ENV": "prod"})
    with Router.from_config(dev_cfg) as dev, Router.from_config(prod_cfg) as prod:
        assert dev.targets("metric") == ("tree", "prometheus")
        assert dev.targets("latency") == ("tree", "prometheus")
        assert dev.targets("text", "ERROR") == ("tree", "file", "console")
        assert dev.targets("text", "DEBUG") == ("tree", "console")
        assert dev.targets("audit") == ("tree", "audit_file")
        assert prod.targets("text", "DEBUG") == ("tree",)
        assert prod.targets("text", "ERROR") == ("tree", "file")
        dev.dispatch("text", text("DEBUG", "dev chatter"))
        prod.dispatch("text", text("DEBUG", "prod chatter"))
        prod.dispatch("text", text("ERROR", "prod failure"))
        prod.dispatch("audit", metric("audit", "limit_changed"))
        assert dev.flush()
        assert prod.flush()
    err = capsys.readouterr().err
    assert "dev chatter" in err
    assert "prod" not in err
    assert "prod failure" in (tmp_path / "routed" / "prod-warnings.txt").read_text()
    assert "limit_changed" in (tmp_path / "routed" / "audit.ndjson").read_text()


def test_backend_min_level_and_counters() -> None:
    """A backend's own min_level skips records; routed/written/skipped are counted per backend."""
    config = LogtoolConfig(logging=LoggingConfig(
        backends={"a": BackendConfig("a", "test_list", min_level="WARNING")},
        routing_rules=(RoutingRule("all", ("a",)),)))
    with Router.from_config(config) as router:
        for level in ("DEBUG", "INFO", "WARNING", "ERROR"):
            router.dispatch("text", text(level))
        assert router.flush()
        counts = router.stats()["backends"]["a"]
    assert (counts["routed"], counts["written"], counts["skipped"]) == (4, 2, 2)


def test_global_context_added_to_every_record() -> None:
    """Global context from the config lands in each record's context; the record's own wins."""
    with router_for((RoutingRule("all", ("a",)),),
                    global_context={"service": "trading", "region": "eu"}) as router:
        router.dispatch("text", text("INFO", region="us"))
        router.dispatch("metric", metric("metric"))
        assert router.flush()
        contexts = [r["context"] for r in got(router, "a")]
    assert contexts == [{"service": "trading", "region": "us"},
                        {"service": "trading", "region": "eu"}]


def test_failing_backend_is_counted_and_others_still_get_records() -> None:
    """A backend that raises is counted as failed; the next backend still receives the record."""
    config = LogtoolConfig(logging=LoggingConfig(
        backends={"bad": BackendConfig("bad", "test_broken"),
                  "ok": BackendConfig("ok", "test_list")},
        routing_rules=(RoutingRule("all", ("bad", "ok")),)))
    with Router.from_config(config) as router:
        router.dispatch("text", text("INFO"))
        router.dispatch("text", text("ERROR"))
        assert router.flush()
        stats = router.stats()["backends"]
        assert len(got(router, "ok")) == 2
    assert stats["bad"]["failed"] == 2
    assert "disk on fire" in stats["bad"]["last_error"]


def test_slow_backend_never_blocks_the_caller() -> None:
    """With a backend stuck in write(), dispatch still returns; overflow is dropped and counted."""
    GateBackend.gate.clear()
    config = LogtoolConfig(logging=LoggingConfig(
        backends={"slow": BackendConfig("slow", "test_gate")},
        routing_rules=(RoutingRule("all", ("slow",)),)))
    router = Router.from_config(config, queue_size=10).start()
    try:
        for i in range(500):  # would hang here (test timeout) if dispatch blocked
            router.dispatch("text", text("INFO", str(i)))
        stats = router.stats()
        dropped = stats["backends"]["slow"]["dropped"]
        assert dropped >= 500 - 10 - 1  # queue of 10 plus the one stuck in write()
        GateBackend.gate.set()
        assert router.flush()
        counts = router.stats()["backends"]["slow"]
        assert counts["written"] + counts["dropped"] == 500
    finally:
        GateBackend.gate.set()
        router.close()


def test_dispatch_before_start_and_after_close_does_not_raise() -> None:
    """Records dispatched to a router that is not running are queued or dropped, never raised."""
    router = router_for((RoutingRule("all", ("a",)),))
    router.dispatch("text", text("INFO"))
    assert router.flush(timeout=0.1) is False  # not started
    router.start()
    assert router.flush()
    assert len(got(router, "a")) == 1
    router.close()
    router.dispatch("text", text("INFO"))


def test_file_backend_from_config(tmp_path: Path) -> None:
    """A config-defined file backend writes JSON lines at a path relative to the tree root."""
    cfg_path = tmp_path / "logtool.yaml"
    cfg_path.write_text(
        f"coordinator:\n  log_dir: {tmp_path / 'tree'}\n"
        "logging:\n  backends:\n    errs:\n      type: file\n      min_level: ERROR\n"
        "      config: {path: routed/errors.ndjson, format: json}\n"
        "  routing_rules:\n    - {name: errors, backends: [errs], log_types: [text]}\n",
        encoding="utf-8")
    with Router.from_config(load_config(cfg_path, env={})) as router:
        router.dispatch("text", text("ERROR", "bad fill"))
        router.dispatch("text", text("INFO", "fine"))
        assert router.flush()
    lines = (tmp_path / "tree" / "routed" / "errors.ndjson").read_text().splitlines()
    assert len(lines) == 1
    assert '"message":"bad fill"' in lines[0]
    assert '"timestamp":"2023-11-14T22:13:20.000000Z"' in lines[0]


def test_backend_that_cannot_start_is_a_config_error(tmp_path: Path) -> None:
    """A Prometheus port already in use is a ConfigError naming the backend's option key."""
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        config = LogtoolConfig(source="x.yaml", logging=LoggingConfig(
            backends={"prom": BackendConfig("prom", "prometheus", options={"port": port})},
            routing_rules=(RoutingRule("m", ("prom",)),)))
        with pytest.raises(ConfigError) as info:
            Router.from_config(config)
    assert info.value.key == "logging.backends.prom.config.port"


def test_writer_records_flow_through_installed_router(tmp_path: Path) -> None:
    """A real logger's text, metric, counter, latency and audit records reach routed backends
    (Prometheus registry, audit file) while the writer still puts them in the tree."""
    import orjson

    import logtool
    from logtool.ops.backends.prometheus import PrometheusBackend

    root = tmp_path / "tree"
    logtool.configure(root=root, level="DEBUG")
    config = LogtoolConfig(logging=LoggingConfig(
        backends={"prom": BackendConfig("prom", "prometheus", options={"prefix": "w_"}),
                  "audit": BackendConfig("audit", "file",
                                         options={"path": str(tmp_path / "audit.ndjson"),
                                                  "format": "json"}),
                  "a": BackendConfig("a", "test_list")},
        routing_rules=(RoutingRule("metrics", ("prom",), kinds=("metric", "counter", "latency")),
                       RoutingRule("audit", ("audit",), kinds=("audit",)),
                       RoutingRule("errors", ("a",), kinds=("text",), min_level="ERROR"))))
    router = Router.from_config(config).install()
    try:
        log = logtool.get_logger("exec_1", "orders")
        log.info("routine")
        log.error("rejected", order_id="o1")
        log.metric("open_orders", 4, venue="bx")
        log.counter("fills", 2)
        log.latency("place_order", 8.0)
        with log.time_operation("cancel"):
            pass
        log.audit("limit_changed", by="ops")
        assert router.flush()
        assert logtool.flush(10.0)
    finally:
        router.uninstall()
        router.close()
        logtool.shutdown()
        logtool.configure(root=tmp_path / "after", level="INFO")
    prom = router.backends["prom"]
    assert isinstance(prom, PrometheusBackend)
    labels = {"container_id": "exec_1", "component_name": "orders"}
    assert prom.registry.get_sample_value("w_open_orders", {**labels, "venue": "bx"}) == 4
    assert prom.registry.get_sample_value("w_fills_total", labels) == 2
    assert prom.registry.get_sample_value("w_place_order_latency_seconds_count", labels) == 1
    assert prom.registry.get_sample_value("w_cancel_latency_seconds_count", labels) == 1
    assert [r["message"] for r in got(router, "a")] == ["rejected"]
    audit = [orjson.loads(x) for x in (tmp_path / "audit.ndjson").read_bytes().splitlines()]
    assert [(r["name"], r["context"]["by"]) for r in audit] == [("limit_changed", "ops")]
    in_tree = (root / "metrics" / "exec_1.log").read_bytes().splitlines()
    assert len(in_tree) == 5
    assert router.stats()["backends"]["prom"]["failed"] == 0


def test_periodic_flush_without_explicit_flush(tmp_path: Path, poll: Any) -> None:
    """Backends are flushed every flush_interval_seconds, so file output appears on its own."""
    config = LogtoolConfig(logging=LoggingConfig(
        backends={"f": BackendConfig("f", "file", options={"path": str(tmp_path / "o.txt")})},
        routing_rules=(RoutingRule("all", ("f",)),),
        performance=PerformanceConfig(flush_interval_seconds=0.05)))
    with Router.from_config(config) as router:
        router.dispatch("text", text("INFO", "eventually visible"))
        poll(lambda: "eventually visible" in (tmp_path / "o.txt").read_text(), "periodic flush",
             timeout=30)


def test_batch_size_flushes_before_the_interval(tmp_path: Path, poll: Any) -> None:
    """performance.batch_size records delivered flush the backends, the interval still far off."""
    config = LogtoolConfig(logging=LoggingConfig(
        backends={"f": BackendConfig("f", "file", options={"path": str(tmp_path / "o.txt")})},
        routing_rules=(RoutingRule("all", ("f",)),),
        performance=PerformanceConfig(flush_interval_seconds=3600, batch_size=3)))
    with Router.from_config(config) as router:
        assert router.batch_size == 3
        for n in range(3):
            router.dispatch("text", text("INFO", f"batched {n}"))
        poll(lambda: "batched 2" in (tmp_path / "o.txt").read_text(), "flush after a batch",
             timeout=30)


def test_concurrent_dispatchers_lose_nothing_uncounted() -> None:
    """Records from many threads are each either written or counted as dropped."""
    with router_for((RoutingRule("all", ("a",)),), queue_size=1000) as router:
        def produce(t: int) -> None:
            for i in range(2000):
                router.dispatch("text", text("INFO", f"{t}-{i}"))

        threads = [threading.Thread(target=produce, args=(t,)) for t in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert router.flush()
        counts = router.stats()["backends"]["a"]
        assert counts["written"] == len(got(router, "a"))
    assert counts["written"] + counts["dropped"] == 8000
    assert len({r["message"] for r in got(router, "a")}) == counts["written"]


def test_unresponsive_gateway_does_not_stall_other_backends(tmp_path: Path, poll: Any) -> None:
    """A push gateway that accepts connections but never answers does not hold up the file
    backend: the router's periodic flush leaves self-flushing backends to their own threads."""
    import socket

    with socket.socket() as blackhole:
        blackhole.bind(("127.0.0.1", 0))
        blackhole.listen(16)
        gateway = f"127.0.0.1:{blackhole.getsockname()[1]}"
        config = LogtoolConfig(logging=LoggingConfig(
            backends={
                "prom": BackendConfig("prom", "prometheus", options={
                    "push_gateway": gateway, "timeout_seconds": 120,
                    "push_interval_seconds": 0.05}),
                "f": BackendConfig("f", "file", options={"path": str(tmp_path / "o.txt")})},
            routing_rules=(RoutingRule("all", ("prom", "f")),),
            performance=PerformanceConfig(flush_interval_seconds=0.05)))
        router = Router.from_config(config).start()
        try:
            for i in range(50):
                router.dispatch("metric", metric("metric", "depth", i))
                router.dispatch("text", text("INFO", f"line {i}"))
            poll(lambda: "line 49" in (tmp_path / "o.txt").read_text(), "file output",
                 timeout=30)
            assert router.stats()["backends"]["prom"]["written"] == 50
        finally:
            prom = router.backends["prom"]
            prom.options["timeout_seconds"] = 0.1  # type: ignore[attr-defined]
            router.close(timeout=1)
