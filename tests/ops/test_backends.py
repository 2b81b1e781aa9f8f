"""Tests for the backends package: registry, options, tree, console, file and Prometheus."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from logtool.ops.backends import (
    Backend,
    BackendContext,
    BaseBackend,
    OptionError,
    Options,
    check_options,
    create_backend,
    register_backend,
    registered_types,
)
from logtool.ops.backends.prometheus import PrometheusBackend, sanitize_name


def text(level: str = "INFO", message: str = "hello", **extra: Any) -> dict[str, Any]:
    return {"timestamp": 1_700_000_000.25, "level": level, "container_id": "c1",
            "component_name": "comp", "message": message, "context": {"k": 1},
            "correlation_id": "trade_1", "kind": "text", **extra}


def metric(kind: str, name: str, value: float, **tags: Any) -> dict[str, Any]:
    return {"timestamp": 1_700_000_000.0, "record_type": kind, "kind": kind,
            "container_id": "c1", "component_name": "comp", "name": name, "value": value,
            "tags": tags}


# A complete new backend, registered and configured by name, in well under 50 lines.
class UpperFileBackend(BaseBackend):
    """Writes upper-cased messages of text records to a file named in its options."""

    kinds = ("text",)

    @classmethod
    def parse_options(cls, options: Mapping[str, Any]) -> dict[str, Any]:
        opts = Options(options)
        parsed = {"path": opts.get("path", str, "upper.txt")}
        opts.done()
        return parsed

    def write(self, record: Mapping[str, Any]) -> None:
        with (self.context.root / self.options["path"]).open("a") as fh:
            fh.write(str(record["message"]).upper() + "\n")


def test_new_backend_in_a_few_lines(tmp_path: Path) -> None:
    """A registered class is usable by type name and satisfies the Backend protocol."""
    register_backend("upper_file", UpperFileBackend)
    assert "upper_file" in registered_types()
    backend = create_backend("u", "upper_file", {"path": "u.txt"}, BackendContext(root=tmp_path))
    assert isinstance(backend, Backend)
    assert backend.should_handle(text())
    assert not backend.should_handle(metric("metric", "x", 1))
    backend.write(text(message="quiet please"))
    backend.close()
    assert (tmp_path / "u.txt").read_text() == "QUIET PLEASE\n"
    with pytest.raises(OptionError) as info:
        check_options("upper_file", {"pth": "typo"})
    assert info.value.key == "pth"


def test_file_backend_text_and_json(tmp_path: Path) -> None:
    """Text lines carry time, level, where, message and context; JSON lines the whole record."""
    ctx = BackendContext(root=tmp_path)
    as_text = create_backend("t", "file", {"path": "out/t.txt"}, ctx)
    as_json = create_backend("j", "file", {"path": str(tmp_path / "j.ndjson"), "format": "json"},
                             ctx)
    for backend in (as_text, as_json):
        backend.write(text("WARNING", "slow fill"))
        backend.write(metric("latency", "fill", 12.5, venue="x"))
        backend.close()
    lines = (tmp_path / "out" / "t.txt").read_text().splitlines()
    assert lines[0].startswith("2023-11-14T22:13:20.250000Z WARNING  c1/comp: slow fill | ")
    assert '"correlation_id":"trade_1"' in lines[0]
    assert "LATENCY  c1/comp: fill=12.5" in lines[1]
    records = [json.loads(line) for line in (tmp_path / "j.ndjson").read_text().splitlines()]
    assert records[0]["message"] == "slow fill"
    assert records[0]["timestamp"] == "2023-11-14T22:13:20.250000Z"
    assert records[1]["tags"] == {"venue": "x"}


def test_file_backend_refuses_tree_suffix_inside_tree() -> None:
    """A relative .log/.jsonl path would be read by the analyzer as tree records: refused."""
    with pytest.raises(OptionError, match="tree"):
        check_options("file", {"path": "system/routed.log"})
    with pytest.raises(OptionError) as info:
        check_options("file", {"format": "text"})
    assert info.value.key == "path"


def test_console_backend_writes_stderr_only(capsys: pytest.CaptureFixture[str]) -> None:
    """The console backend prints on stderr and leaves stdout to command output."""
    backend = create_backend("c", "console", {"color": False}, BackendContext())
    backend.write(text("ERROR", "order [rejected]"))
    backend.write(metric("counter", "fills", 2))
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "ERROR    c1/comp: order [rejected]" in captured.err
    assert "COUNTER  c1/comp: fills=2" in captured.err


def test_tree_backend_uses_sink_when_given() -> None:
    """With a tree sink the tree backend hands (kind, record) to it; without one it is a no-op
    because records from the writer's hook are already in the tree."""
    seen: list[tuple[str, Mapping[str, Any]]] = []
    with_sink = create_backend("tree", "tree", {}, BackendContext(
        tree_sink=lambda kind, rec: seen.append((kind, rec))))
    with_sink.write(metric("counter", "n", 1))
    assert seen == [("counter", metric("counter", "n", 1))]
    without = create_backend("tree", "tree", {}, BackendContext())
    without.write(text())
    assert len(seen) == 1


def test_prometheus_types_labels_and_units() -> None:
    """Gauges set, counters add, latencies observe in seconds; tags become sanitized labels."""
    backend = create_backend("p", "prometheus", {"prefix": "t_"}, BackendContext())
    assert isinstance(backend, PrometheusBackend)
    backend.write(metric("metric", "queue depth", 7, **{"venue-name": "bx"}))
    backend.write(metric("metric", "queue depth", 9, **{"venue-name": "bx"}))
    backend.write(metric("counter", "orders", 2))
    backend.write(metric("counter", "orders", 3))
    backend.write(metric("latency", "parse", 250.0))
    reg = backend.registry
    labels = {"container_id": "c1", "component_name": "comp"}
    assert reg.get_sample_value("t_queue_depth", {**labels, "venue_name": "bx"}) == 9
    assert reg.get_sample_value("t_orders_total", labels) == 5
    assert reg.get_sample_value("t_parse_latency_seconds_sum", labels) == 0.25
    assert reg.get_sample_value("t_parse_latency_seconds_bucket", {**labels, "le": "0.25"}) == 1
    assert reg.get_sample_value("t_parse_latency_seconds_bucket", {**labels, "le": "0.1"}) == 0
    backend.close()


def test_prometheus_label_set_is_fixed_by_first_record() -> None:
    """Later records with other tags fill missing labels with "" and count dropped extras."""
    backend = create_backend("p", "prometheus", {"prefix": "u_"}, BackendContext())
    assert isinstance(backend, PrometheusBackend)
    backend.write(metric("metric", "m", 1, a="1"))
    backend.write(metric("metric", "m", 2, b="2"))
    labels = {"container_id": "c1", "component_name": "comp"}
    assert backend.registry.get_sample_value("u_m", {**labels, "a": ""}) == 2
    assert backend.stats()["labels_dropped"] == 1
    with pytest.raises(ValueError, match="numeric"):
        backend.write(metric("metric", "m", "high"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cannot go down"):
        backend.write(metric("counter", "c", -1))
    backend.close()


def test_prometheus_milliseconds_and_exposition(http: Any) -> None:
    """latency_unit milliseconds names the histogram _ms; the endpoint serves it over HTTP."""
    backend = create_backend("p", "prometheus",
                             {"prefix": "v_", "latency_unit": "milliseconds", "port": 0},
                             BackendContext())
    assert isinstance(backend, PrometheusBackend)
    try:
        backend.write(metric("latency", "fill", 30.0))
        body = http(f"http://127.0.0.1:{backend.port}/metrics")
    finally:
        backend.close()
    assert 'v_fill_latency_ms_bucket{component_name="comp",container_id="c1",le="50.0"} 1.0' in body
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{backend.port}/metrics", timeout=2)


@pytest.mark.parametrize(
    ("options", "key"),
    [({"port": 70000}, "port"), ({"prefix": "bad-prefix"}, "prefix"),
     ({"buckets_ms": [5, 1]}, "buckets_ms"), ({"latency_unit": "hours"}, "latency_unit"),
     ({"push_gateway": 9091}, "push_gateway"), ({"gateway": "x"}, "gateway")],
)
def test_prometheus_invalid_options(options: dict[str, Any], key: str) -> None:
    """Bad Prometheus options are refused naming the option."""
    with pytest.raises(OptionError) as info:
        check_options("prometheus", options)
    assert info.value.key == key


def test_sanitize_name() -> None:
    """Names become valid Prometheus identifiers."""
    assert sanitize_name("fill.latency-ms") == "fill_latency_ms"
    assert sanitize_name("9lives") == "_9lives"


def test_file_backend_rotates_at_max_size(tmp_path: Path) -> None:
    """With max_size_mb the file is renamed aside when full; no line is lost or split."""
    backend = create_backend("f", "file", {"path": "r/out.txt", "max_size_mb": 0.001},
                             BackendContext(root=tmp_path))
    for i in range(40):
        backend.write(text(message=f"line {i:02d}"))
    backend.close()
    files = sorted((tmp_path / "r").iterdir())
    assert len(files) > 2
    assert all(f.stat().st_size <= 1100 for f in files)
    rotated = [f for f in files if f.name != "out.txt"]
    assert all(f.name.startswith("out.") and f.suffix == ".txt" for f in rotated)
    lines = [ln for f in files for ln in f.read_text().splitlines()]
    assert sorted(ln.split(": ")[1].split(" |")[0] for ln in lines) == [
        f"line {i:02d}" for i in range(40)]
    assert backend.stats()["rotations"] == len(rotated)  # type: ignore[attr-defined]
