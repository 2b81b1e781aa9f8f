"""Tests for logtool.demo: determinism, workflow coverage, --out safety, sample_logs drift."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import logtool
from logtool import contract
from logtool.demo import DEFAULT_SEED, run_demo
from logtool.errors import BadInputError

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_logs"

# Fields whose value depends on the machine or the moment rather than on the seed.
VOLATILE_FILES = {contract.TREE_MARKER}


def tree_files(root: Path) -> dict[str, bytes]:
    """Every file under root except the ones that carry creation time, keyed by relative path."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.relative_to(root).as_posix() not in VOLATILE_FILES
    }


def records(root: Path, rel: str) -> list[dict[str, Any]]:
    """The JSON records of one file of the tree."""
    return [json.loads(line) for line in (root / rel).read_text().splitlines()]


def fingerprint(root: Path) -> dict[str, tuple[int, str]]:
    """Per file: record count and a hash of its content."""
    return {
        rel: (data.count(b"\n"), hashlib.sha256(data).hexdigest())
        for rel, data in tree_files(root).items()
    }


@pytest.fixture(scope="module")
def full_tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """The demo with its defaults (what sample_logs/ is made from), run once for this module."""
    out = tmp_path_factory.mktemp("demo") / "logs"
    return out, run_demo(out, seed=DEFAULT_SEED)


def test_same_seed_gives_identical_tree(tmp_path: Path) -> None:
    """Two runs with one seed write byte-identical files (the tree marker aside)."""
    a = run_demo(tmp_path / "a", containers=6, seed=11, duration_s=2)
    b = run_demo(tmp_path / "b", containers=6, seed=11, duration_s=2)
    assert a.records > 100
    assert tree_files(tmp_path / "a") == tree_files(tmp_path / "b")
    assert a.to_dict() | {"out": ""} == b.to_dict() | {"out": ""}


def test_caller_correlation_does_not_leak(tmp_path: Path) -> None:
    """A correlation id active in the calling code does not change what the demo writes."""
    run_demo(tmp_path / "a", containers=3, seed=5, duration_s=1)
    with logtool.correlation("host_request_1"):
        run_demo(tmp_path / "b", containers=3, seed=5, duration_s=1)
        assert logtool.get_correlation_id() == "host_request_1"
    assert tree_files(tmp_path / "a") == tree_files(tmp_path / "b")


def test_exception_being_handled_does_not_leak(tmp_path: Path) -> None:
    """Run from an except block, the demo writes the same tree (no caller traceback in it)."""
    run_demo(tmp_path / "a", containers=10, seed=3, duration_s=3)
    try:
        raise RuntimeError("host failure")
    except RuntimeError:
        run_demo(tmp_path / "b", containers=10, seed=3, duration_s=3)
    b = tree_files(tmp_path / "b")
    assert b"EXEC-001" in b["events/system_errors.jsonl"]
    assert b"host failure" not in b["events/system_errors.jsonl"]
    assert tree_files(tmp_path / "a") == b


def test_different_seed_gives_different_tree(tmp_path: Path) -> None:
    """Another seed changes prices, latencies and the correlation ids (which carry the seed)."""
    run_demo(tmp_path / "a", containers=6, seed=11, duration_s=2)
    run_demo(tmp_path / "b", containers=6, seed=12, duration_s=2)
    a, b = tree_files(tmp_path / "a"), tree_files(tmp_path / "b")
    assert a["master.log"] != b["master.log"]
    assert b'"md_12_1"' in b"".join(b.values())
    assert b"md_12_" not in b"".join(a.values())


def test_every_container_tier_and_event_type_present(full_tree: tuple[Path, Any]) -> None:
    """All 53 containers log, all three tiers carry hops and all twelve event types are written."""
    out, result = full_tree
    containers = {p.name for p in (out / contract.CONTAINERS_DIR).iterdir()}
    strategies = {f"strategy_{i:03d}" for i in range(1, 51)}
    expected = {"data_001", "risk_001", "execution_001"} | strategies
    assert containers == expected
    flows = records(out, f"{contract.FLOWS_DIR}/main_coordinator{contract.FLOWS_SUFFIX}.log")
    assert {f["tier"] for f in flows if f["flow_type"] == "external"} == set(contract.TIERS)
    assert any(f["flow_type"] == "internal" and f["tier"] is None for f in flows)
    for event_type in contract.EVENT_TYPES:
        rows = records(out, f"{contract.EVENTS_DIR}/{event_type}{contract.EVENTS_SUFFIX}")
        assert rows, event_type
        assert set(contract.EVENT_SCHEMAS[event_type]) <= set(rows[0]), event_type
    metrics = records(out, f"{contract.METRICS_DIR}/execution_001.log") + records(
        out, f"{contract.METRICS_DIR}/risk_001.log"
    )
    assert {m["record_type"] for m in metrics} == {"latency", "counter"}
    scopes = {r["event_scope"] for r in records(out, contract.MASTER_LOG)}
    assert scopes == set(contract.EVENT_SCOPES)
    assert result.writer_problems == {}


def test_latencies_follow_the_tier_bands(full_tree: tuple[Path, Any]) -> None:
    """Median hop latency rises fast < standard < reliable, each inside its band, with a tail."""
    out, _ = full_tree
    flows = records(out, f"{contract.FLOWS_DIR}/main_coordinator{contract.FLOWS_SUFFIX}.log")
    by_tier: dict[str, list[float]] = {}
    for f in flows:
        if f["tier"]:
            by_tier.setdefault(f["tier"], []).append(f["latency_ms"])
    medians = {t: sorted(v)[len(v) // 2] for t, v in by_tier.items()}
    assert 0.1 <= medians["fast"] <= 1 < medians["standard"] <= 5 < medians["reliable"] <= 50
    assert max(by_tier["fast"]) > 1  # the tail


def test_example_ids_cover_every_outcome(full_tree: tuple[Path, Any]) -> None:
    """A filled id crosses all tiers; a rejected one ends at risk; a failed one has an error."""
    out, result = full_tree
    assert result.filled and result.rejected and result.failed
    assert set(result.example_ids) == {"filled", "rejected", "failed"}
    flows = records(out, f"{contract.FLOWS_DIR}/main_coordinator{contract.FLOWS_SUFFIX}.log")
    errors = records(out, f"{contract.EVENTS_DIR}/system_errors{contract.EVENTS_SUFFIX}")

    def tiers(cid: str) -> set[str]:
        return {f["tier"] for f in flows if f["correlation_id"] == cid and f["tier"]}

    def codes(cid: str) -> set[str]:
        return {e["error_code"] for e in errors if e["correlation_id"] == cid}

    assert tiers(result.example_ids["filled"]) == set(contract.TIERS)
    assert tiers(result.example_ids["rejected"]) == {"fast", "standard"}
    assert "RISK-001" in codes(result.example_ids["rejected"])
    assert "EXEC-001" in codes(result.example_ids["failed"])
    assert all(e["severity"] in contract.ERROR_SEVERITIES for e in errors)


def test_result_counts_match_the_files(full_tree: tuple[Path, Any]) -> None:
    """The per-file record counts reported are the lines on disk."""
    out, result = full_tree
    on_disk = {rel: data.count(b"\n") for rel, data in tree_files(out).items()}
    assert {f.path: f.records for f in result.files if f.path in on_disk} == on_disk
    assert result.records == sum(f.records for f in result.files)


def test_timestamps_are_simulated_and_ordered(full_tree: tuple[Path, Any]) -> None:
    """Records carry the simulated clock (fixed start date), in order within each file."""
    out, _ = full_tree
    master = records(out, contract.MASTER_LOG)
    stamps = [r["timestamp"] for r in master]
    assert stamps == sorted(stamps)
    assert stamps[0].startswith("2026-01-05T14:30:00")
    positions = records(out, f"{contract.EVENTS_DIR}/positions{contract.EVENTS_SUFFIX}")
    assert all(p["real_utc_time"].startswith("2026-01-05T14:30") for p in positions)


def test_sample_logs_is_what_the_demo_writes(full_tree: tuple[Path, Any]) -> None:
    """The bundled sample_logs/ has the same files, record counts and content as a fresh run."""
    out, _ = full_tree
    assert SAMPLE.is_dir(), "sample_logs/ missing: run `logtool demo --out sample_logs --seed 7`"
    assert fingerprint(SAMPLE) == fingerprint(out), (
        "sample_logs/ drifted from the demo: regenerate it with "
        "`rm -rf sample_logs && logtool demo --out sample_logs --seed 7`"
    )
    assert 1_000_000 <= sum(len(d) for d in tree_files(SAMPLE).values()) <= 3_000_000


def test_refuses_a_non_empty_directory_that_is_not_a_tree(tmp_path: Path) -> None:
    """A directory holding other files is refused and left exactly as it was."""
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(BadInputError, match=r"not empty and not a log tree \(contains notes.txt\)"):
        run_demo(tmp_path, containers=2, duration_s=0.5)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_refuses_a_file_as_out(tmp_path: Path) -> None:
    """An --out that is a regular file is refused."""
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(BadInputError, match="not a directory"):
        run_demo(target, containers=2, duration_s=0.5)


def test_refuses_an_out_that_cannot_be_created(tmp_path: Path) -> None:
    """An --out below a regular file cannot be created: refused before anything runs."""
    (tmp_path / "file").write_text("x")
    with pytest.raises(BadInputError, match="cannot create it"):
        run_demo(tmp_path / "file" / "logs", containers=2, duration_s=0.5)
    assert (tmp_path / "file").read_text() == "x"


@pytest.mark.parametrize(
    ("kwargs", "option"),
    [({"containers": 0}, "--containers"), ({"containers": 1000}, "--containers"),
     ({"seed": -1}, "--seed"), ({"duration_s": 0}, "--duration-s"),
     ({"duration_s": 10_000}, "--duration-s")],
)
def test_refuses_bad_options(tmp_path: Path, kwargs: dict[str, Any], option: str) -> None:
    """Out-of-range options are refused by name before anything is written."""
    with pytest.raises(BadInputError, match=option):
        run_demo(tmp_path / "out", **kwargs)
    assert not (tmp_path / "out").exists()


def test_appends_to_an_existing_tree(tmp_path: Path) -> None:
    """An existing log tree is accepted; the result counts only what this run added."""
    first = run_demo(tmp_path, containers=2, seed=1, duration_s=0.5)
    assert not first.appended
    before = Counter({rel: d.count(b"\n") for rel, d in tree_files(tmp_path).items()})
    second = run_demo(tmp_path, containers=2, seed=2, duration_s=0.5)
    after = Counter({rel: d.count(b"\n") for rel, d in tree_files(tmp_path).items()})
    assert second.appended
    assert sum((after - before).values()) == second.records > 0


def test_restores_the_writer_configuration(tmp_path: Path) -> None:
    """After the demo, the host's loggers write to the root it configured, not the demo's."""
    host = tmp_path / "host"
    logtool.configure(root=str(host))
    try:
        run_demo(tmp_path / "demo", containers=2, duration_s=0.5)
        logtool.get_logger("host_001", "app").info("after the demo")
        logtool.flush()
    finally:
        logtool.shutdown()
    assert (host / "containers/host_001/app.log").is_file()
    assert not (tmp_path / "demo/containers/host_001").exists()
