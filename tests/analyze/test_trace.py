"""Tests for logtool.analyze.trace over hand-written trees with hand-computed answers."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import fixtures
import pytest
from fixtures import snapshot

from logtool.analyze import trace as trace_mod
from logtool.errors import BadInputError, NotFoundError

T0 = datetime(2026, 11, 21, 10, 0, 0, tzinfo=UTC)


def ts(ms: float) -> str:
    """The fixture timestamp ms milliseconds after 10:00:00 (negative: before)."""
    return (T0 + timedelta(microseconds=round(ms * 1000))).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def log(
    ms: float, cid: str, comp: str, msg: str, corr: str | None, level: str = "INFO"
) -> dict[str, Any]:
    """A container log record as the contract describes it."""
    return fixtures.log(fixtures.after_ten(ms), level, cid, comp, msg, corr, "internal_bus")


def flow(ms: float, src: str, dst: str, tier: str, corr: str, latency: float) -> dict[str, Any]:
    """A flow record from src to dst on tier."""
    return {
        "timestamp": ts(ms),
        "event_id": f"e{ms}",
        "correlation_id": corr,
        "source": src,
        "target": dst,
        "flow_type": "external",
        "tier": tier,
        "container_id": src,
        "latency_ms": latency,
    }


def write(path: Path, records: list[Any], *, raw_tail: str = "") -> Path:
    """Write records as JSON lines (plus raw_tail verbatim) to path, gzipped for .gz names."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(r) + "\n" for r in records) + raw_tail
    if path.name.endswith(".gz"):
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            fh.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def build_tree(root: Path) -> Path:
    """trade_1 visits A (0, 10 ms), B (15 ms, ERROR), A again (40 ms); noise around it."""
    write(
        root / "containers/strat_a/signal.log",
        [
            log(0, "strat_a", "signal", "start", "trade_1"),
            log(10, "strat_a", "signal", "publish", "trade_1"),
            log(12, "strat_a", "signal", "unrelated, mentions trade_1 in text", "trade_2"),
            log(13, "strat_a", "signal", "prefix sibling", "trade_10"),
            log(40, "strat_a", "signal", "filled", "trade_1"),
        ],
    )
    write(
        root / "containers/risk_b/limits.log",
        [
            log(15, "risk_b", "limits", "limit breached", "trade_1", level="ERROR"),
            log(16, "risk_b", "limits", "heartbeat", None),
        ],
    )
    write(
        root / "flows/main_event_flows.log",
        [
            flow(10, "strat_a", "risk_b", "fast", "trade_1", 4.0),
            flow(30, "risk_b", "strat_a", "reliable", "trade_1", 9.5),
            flow(11, "strat_a", "risk_b", "standard", "trade_2", 1.0),
        ],
    )
    write(
        root / "events/operation_executions.jsonl",
        [
            {
                "timestamp": ts(41),
                "real_utc_time": ts(41),
                "correlation_id": "trade_1",
                "pid": 7,
                "operation_id": "op1",
                "status": "success",
            },
        ],
    )
    # master.log repeats the ERROR (not counted twice) and holds one record seen nowhere else.
    write(
        root / "master.log",
        [
            log(15, "risk_b", "limits", "limit breached", "trade_1", level="ERROR"),
            log(45, "exec_c", "router", "only in master", "trade_1"),
        ],
    )
    return root


def test_visits_hops_and_total_match_hand_computation(tmp_path: Path) -> None:
    """Visits, hop latencies, tiers and the total equal the values computed by hand."""
    root = build_tree(tmp_path / "logs")
    data = trace_mod.trace(root, "trade_1", workers=1).to_json()
    assert data["path"] == ["strat_a", "risk_b", "strat_a", "exec_c"]
    assert [
        (v["container_id"], v["duration_ms"], v["records"], v["errors"]) for v in data["visits"]
    ] == [
        ("strat_a", 10.0, 2, 0),
        ("risk_b", 0.0, 1, 1),
        ("strat_a", 0.0, 1, 0),
        ("exec_c", 0.0, 1, 0),
    ]
    assert [(h["from"], h["to"], h["tier"], h["latency_ms"]) for h in data["hops"]] == [
        ("strat_a", "risk_b", "fast", 5.0),
        ("risk_b", "strat_a", "reliable", 25.0),
        ("strat_a", "exec_c", None, 5.0),
    ]
    assert data["total_ms"] == 45.0
    assert data["records"] == 5
    assert data["errors"] == 1
    assert data["error_records"][0]["message"] == "limit breached"
    assert [e["operation_id"] for e in data["events"]] == ["op1"]
    assert [e["event_type"] for e in data["events"]] == ["operation_executions"]
    assert len(data["flows"]) == 2
    assert data["skipped"] == 0


def test_id_in_a_message_or_as_prefix_is_not_matched(tmp_path: Path) -> None:
    """A record that only mentions the id, or carries a longer id, is not part of the trace."""
    root = build_tree(tmp_path / "logs")
    data = trace_mod.trace(root, "trade_1", workers=1).to_json()
    messages = [e["message"] for e in data["entries"]]
    assert "unrelated, mentions trade_1 in text" not in messages
    assert "prefix sibling" not in messages
    other = trace_mod.trace(root, "trade_10", workers=1).to_json()
    assert other["records"] == 1 and other["path"] == ["strat_a"]


def test_master_log_records_are_not_counted_twice(tmp_path: Path) -> None:
    """The ERROR repeated in master.log counts once; the master-only record is kept."""
    root = build_tree(tmp_path / "logs")
    entries = trace_mod.trace(root, "trade_1", workers=1).to_json()["entries"]
    assert [e["message"] for e in entries].count("limit breached") == 1
    only = [e for e in entries if e["message"] == "only in master"]
    assert only and only[0]["source_kind"] == "master"


def test_rotated_gzip_files_are_read(tmp_path: Path) -> None:
    """A rotated .gz file beside the live file contributes its records in time order."""
    root = build_tree(tmp_path / "logs")
    write(
        root / "containers/strat_a/signal.20261121T095959.log.gz",
        [log(-20, "strat_a", "signal", "warm start", "trade_1")],
    )
    data = trace_mod.trace(root, "trade_1", workers=1).to_json()
    assert data["entries"][0]["message"] == "warm start"
    assert data["visits"][0]["records"] == 3
    assert data["visits"][0]["duration_ms"] == 30.0
    assert data["total_ms"] == 65.0


def test_bad_candidate_lines_are_counted_with_file_and_line(tmp_path: Path) -> None:
    """Malformed lines containing the id and a partial last line are skipped and located."""
    root = build_tree(tmp_path / "logs")
    write(
        root / "containers/risk_b/extra.log",
        [log(20, "risk_b", "extra", "fine", "trade_1")],
        raw_tail='{"correlation_id": "trade_1", broken\n'
        '{"timestamp": "x", "correlation_id": "trade_1"}\n'
        '{"timestamp": "' + ts(50) + '", "correlation_id": "trade_1"',
    )
    result = trace_mod.trace(root, "trade_1", workers=1)
    assert result.skipped == 3
    assert [(d["file"], d["line"]) for d in result.skipped_detail] == [
        ("containers/risk_b/extra.log", 2),
        ("containers/risk_b/extra.log", 3),
        ("containers/risk_b/extra.log", 4),
    ]
    assert "malformed" in result.skipped_detail[0]["reason"]
    assert "timestamp" in result.skipped_detail[1]["reason"]
    assert "partial last line" in result.skipped_detail[2]["reason"]
    assert result.to_json()["records"] == 6


def test_truncated_gzip_keeps_what_decompresses_and_counts_the_file(tmp_path: Path) -> None:
    """A gzip cut short yields its readable records and one skipped entry naming the file."""
    root = build_tree(tmp_path / "logs")
    gz = write(
        root / "containers/strat_a/signal.20261121T095959.log.gz",
        [log(-20 + i * 0.001, "strat_a", "signal", f"warm {i}", "trade_1") for i in range(3)]
        + [
            log(-10, "strat_a", "signal", f"pad {i} " + "x" * (i * 37 % 5000), None)
            for i in range(3000)
        ],
    )
    blob = gz.read_bytes()
    gz.write_bytes(blob[: len(blob) // 2])
    result = trace_mod.trace(root, "trade_1", workers=1)
    assert result.skipped == 1
    assert result.skipped_detail[0]["file"].endswith(".log.gz")
    assert "gzip" in result.skipped_detail[0]["reason"]
    messages = [e["message"] for e in result.to_json()["entries"]]
    assert messages[:3] == ["warm 0", "warm 1", "warm 2"]


def test_run_scoped_layout(tmp_path: Path) -> None:
    """<run_id>/<pid>/<component>.log records are traced; the container falls back to the path."""
    run = tmp_path / "runs" / "run_1" / "4242"
    run.mkdir(parents=True)
    (run / "run_metadata.json").write_text("{}")
    first = log(0, "strat_a", "signal", "start", "trade_9")
    second = log(7.5, "x", "risk", "checked", "trade_9")
    del second["container_id"]
    write(run / "signal.log", [first])
    write(run / "risk.log", [second])
    write(
        run / "events/positions.jsonl",
        [
            {"timestamp": ts(8), "real_utc_time": ts(8), "correlation_id": "trade_9", "pid": 4242},
        ],
    )
    data = trace_mod.trace(tmp_path / "runs", "trade_9", workers=1).to_json()
    assert data["path"] == ["strat_a", "run_1.4242"]
    assert data["hops"][0]["latency_ms"] == 7.5
    assert data["events"][0]["event_type"] == "positions"


def test_unknown_id_raises_not_found_with_suggestions(tmp_path: Path) -> None:
    """An id absent from the tree is NotFoundError (exit 1) naming close ids that exist."""
    root = build_tree(tmp_path / "logs")
    with pytest.raises(NotFoundError) as info:
        trace_mod.trace(root, "trade_11", workers=1)
    assert info.value.exit_code == 1
    assert "trade_1" in str(info.value.hint)
    assert "trade_10" in str(info.value.hint)


def test_empty_id_is_bad_input(tmp_path: Path) -> None:
    """An empty or blank correlation id is refused before any file is read."""
    root = build_tree(tmp_path / "logs")
    with pytest.raises(BadInputError):
        trace_mod.trace(root, "  ")


def test_parallel_scan_gives_the_same_trace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Forked workers find exactly what one process finds."""
    root = build_tree(tmp_path / "logs")
    from logtool.analyze import scan

    monkeypatch.setattr(scan, "PARALLEL_MIN_BYTES", 0)
    assert (
        trace_mod.trace(root, "trade_1", workers=2).to_json()
        == trace_mod.trace(root, "trade_1", workers=1).to_json()
    )


def test_trace_leaves_the_tree_untouched(tmp_path: Path) -> None:
    """Tracing (found and not found) changes no file of the tree."""
    root = build_tree(tmp_path / "logs")
    before = snapshot(root)
    trace_mod.trace(root, "trade_1", workers=2)
    with pytest.raises(NotFoundError):
        trace_mod.trace(root, "nope_1", workers=1)
    assert snapshot(root) == before
