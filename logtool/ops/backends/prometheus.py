"""The Prometheus backend: gauges, counters and latency histograms in a registry of our own,
served by an HTTP exposition endpoint and/or pushed to a Pushgateway from its own thread."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import push_to_gateway, start_http_server

from logtool.ops.backends import BaseBackend, OptionError, Options

# Latency buckets in milliseconds (converted when latency_unit is seconds): 0.1 ms to 10 s.
DEFAULT_BUCKETS_MS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000,
                      10000)
_NAME_BAD = re.compile(r"[^a-zA-Z0-9_]")
_RESERVED_LABELS = frozenset({"le", "quantile", "job", "instance"})


def sanitize_name(name: str) -> str:
    """A valid Prometheus metric/label name: other characters become _, no leading digit."""
    clean = _NAME_BAD.sub("_", name) or "_"
    return f"_{clean}" if clean[0].isdigit() else clean


class PrometheusBackend(BaseBackend):
    """Records of kind metric → Gauge (set), counter → Counter (inc), latency → Histogram.

    Metric names: <prefix><name> for gauges, <prefix><name>_total for counters,
    <prefix><operation>_latency_seconds (or _latency_ms) for latencies. Labels: container_id
    and component_name from the record plus the record's tags (names sanitized). The first
    record of a name fixes its label names; later records fill missing labels with "" and
    drop extra tags (counted as labels_dropped), since a series cannot change its label set.
    """

    kinds = ("metric", "counter", "latency")
    self_flushing = True  # pushes on its own thread every push_interval_seconds

    @classmethod
    def parse_options(cls, options: Mapping[str, Any]) -> dict[str, Any]:
        opts = Options(options)
        prefix = opts.get("prefix", str, "logtool_")
        if prefix and sanitize_name(prefix) != prefix:
            raise OptionError("prefix", f"{prefix!r} is not a valid metric name prefix")
        port = opts.get("port", int, None)
        if port is not None and not 0 <= port <= 65535:
            raise OptionError("port", f"{port} is not a TCP port (0 picks a free one)")
        buckets = opts.get("buckets_ms", list, list(DEFAULT_BUCKETS_MS))
        if not buckets or not all(isinstance(b, (int, float)) and not isinstance(b, bool)
                                  and b > 0 for b in buckets) or sorted(buckets) != buckets:
            raise OptionError("buckets_ms", "must be a non-empty increasing list of positive "
                                            "numbers (milliseconds)")
        grouping = opts.get("grouping_key", dict, {})
        parsed = {
            "prefix": prefix,
            "port": port,
            "address": opts.get("address", str, "127.0.0.1"),
            "push_gateway": opts.get("push_gateway", str, None),
            "job_name": opts.get("job_name", str, "logtool"),
            "grouping_key": {str(k): str(v) for k, v in grouping.items()},
            "push_interval_seconds": opts.number("push_interval_seconds", 5.0, minimum=0.05),
            "timeout_seconds": opts.number("timeout_seconds", 5.0, minimum=0.01),
            "latency_unit": opts.choice("latency_unit", ("seconds", "milliseconds"), "seconds"),
            "buckets_ms": tuple(float(b) for b in buckets),
        }
        # Seed 002 names these batch_size/flush_interval; the registry needs no batching.
        opts.get("batch_size", int, None)
        if opts.get("flush_interval", float, None) is not None:
            parsed["push_interval_seconds"] = opts.number("flush_interval", 5.0, minimum=0.05)
        opts.done()
        return parsed

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        o = self.options
        self.registry = CollectorRegistry(auto_describe=True)
        self._metrics: dict[tuple[str, str], tuple[Any, tuple[str, ...]]] = {}
        self._lock = threading.Lock()
        self.counters = {"observed": 0, "labels_dropped": 0, "pushes": 0, "push_failures": 0}
        self.last_push_error: str | None = None
        self.port: int | None = None
        self._server: Any = None
        if o["port"] is not None:
            try:
                self._server, _ = start_http_server(o["port"], addr=o["address"],
                                                    registry=self.registry)
            except OSError as exc:
                raise OptionError("port", f"cannot listen on {o['address']}:{o['port']}: "
                                          f"{exc.strerror or exc}") from None
            self.port = int(self._server.server_port)
        self._push_cond = threading.Condition()
        self._push_wanted = 0  # push requests made
        self._push_done = 0  # push requests served
        self._closing = False
        self._pusher: threading.Thread | None = None
        if o["push_gateway"]:
            self._pusher = threading.Thread(target=self._push_loop, daemon=True,
                                            name=f"logtool-prometheus-push-{self.name}")
            self._pusher.start()

    # ---------------------------------------------------------------- records

    def write(self, record: Mapping[str, Any]) -> None:
        kind = str(record.get("kind") or record.get("record_type"))
        value = record.get("value")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{kind} {record.get('name')!r} has no numeric value: {value!r}")
        tags = record.get("tags") or {}
        labels = {"container_id": str(record.get("container_id") or ""),
                  "component_name": str(record.get("component_name") or "")}
        if isinstance(tags, Mapping):
            for key, val in tags.items():
                label = sanitize_name(str(key))
                if label.startswith("__") or label in _RESERVED_LABELS:
                    label = f"tag_{label}"
                labels.setdefault(label, "" if val is None else str(val))
        metric, names = self._metric(kind, str(record.get("name") or "unnamed"), labels)
        if len(labels) > len(names) or any(n not in labels for n in names):
            with self._lock:
                self.counters["labels_dropped"] += 1
        child = metric.labels(*(labels.get(n, "") for n in names))
        if kind == "metric":
            child.set(value)
        elif kind == "counter":
            if value < 0:
                raise ValueError(f"counter {record.get('name')!r} cannot go down ({value})")
            child.inc(value)
        else:
            seconds = self.options["latency_unit"] == "seconds"
            child.observe(value / 1000.0 if seconds else value)
        with self._lock:
            self.counters["observed"] += 1

    def _metric(self, kind: str, name: str,
                labels: Mapping[str, str]) -> tuple[Any, tuple[str, ...]]:
        with self._lock:
            found = self._metrics.get((kind, name))
            if found is not None:
                return found
            base = self.options["prefix"] + sanitize_name(name)
            names = tuple(labels)
            doc = f"logtool {kind} {name!r}"
            metric: Any
            if kind == "metric":
                metric = Gauge(base, doc, names, registry=self.registry)
            elif kind == "counter":
                metric = Counter(base.removesuffix("_total"), doc, names, registry=self.registry)
            else:
                seconds = self.options["latency_unit"] == "seconds"
                buckets = [b / 1000.0 if seconds else b for b in self.options["buckets_ms"]]
                metric = Histogram(f"{base}_latency_{'seconds' if seconds else 'ms'}", doc,
                                   names, buckets=buckets, registry=self.registry)
            self._metrics[(kind, name)] = (metric, names)
            return metric, names

    def stats(self) -> dict[str, Any]:
        """Observation and push counters, the bound port, the last push error."""
        with self._lock:
            out: dict[str, Any] = dict(self.counters)
        out["port"] = self.port
        out["last_push_error"] = self.last_push_error
        return out

    # ---------------------------------------------------------------- push gateway

    def flush(self, timeout: float | None = None) -> None:
        """Push now when a gateway is configured, waiting (bounded) for that push to finish."""
        if self._pusher is None:
            return
        limit = self.options["timeout_seconds"] if timeout is None else timeout
        deadline = time.monotonic() + limit
        with self._push_cond:
            self._push_wanted += 1
            ticket = self._push_wanted
            self._push_cond.notify_all()
            while self._push_done < ticket and not self._closing:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._push_cond.wait(left)

    def push(self) -> None:
        """One push of the whole registry to the gateway (raises on failure)."""
        o = self.options
        push_to_gateway(o["push_gateway"], job=o["job_name"], registry=self.registry,
                        grouping_key=o["grouping_key"] or None, timeout=o["timeout_seconds"])

    def _push_loop(self) -> None:
        interval = self.options["push_interval_seconds"]
        while True:
            with self._push_cond:
                if self._push_done >= self._push_wanted and not self._closing:
                    self._push_cond.wait(interval)
                closing = self._closing
                ticket = self._push_wanted
            try:
                self.push()
                with self._lock:
                    self.counters["pushes"] += 1
                self.last_push_error = None
            except Exception as exc:  # noqa: BLE001 - a down gateway is counted, never raised
                with self._lock:
                    self.counters["push_failures"] += 1
                self.last_push_error = f"{type(exc).__name__}: {exc}"
            with self._push_cond:
                self._push_done = max(self._push_done, ticket)
                self._push_cond.notify_all()
            if closing:
                return

    def close(self) -> None:
        if self._pusher is not None:
            self.flush()
            with self._push_cond:
                self._closing = True
                self._push_cond.notify_all()
            self._pusher.join(self.options["timeout_seconds"] + 1)
            self._pusher = None
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
