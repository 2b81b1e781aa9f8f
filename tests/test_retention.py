"""Tests for logtool.retention: planning, applying, interruption safety and the root checks."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from logtool import retention
from logtool.errors import BadInputError
from logtool.retention import Action, RetentionPolicy, apply, plan

NOW = time.time()
DAY = 86_400


def write(root: Path, rel: str, lines: int = 10, age_days: float = 0.0, tag: str = "") -> Path:
    """A JSON-lines file of `lines` records whose mtime is age_days in the past."""
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(json.dumps({"id": f"{tag or rel}#{i}", "message": "x" * 40}) + "\n"
                   for i in range(lines))
    if rel.endswith(".gz"):
        path.write_bytes(gzip.compress(body.encode()))
    else:
        path.write_text(body)
    mtime = NOW - age_days * DAY
    os.utime(path, (mtime, mtime))
    return path


def snapshot(root: Path) -> dict[str, tuple[int, float]]:
    """Every path below root with its size and mtime (symlinks by lstat)."""
    out = {}
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        out[p.relative_to(root).as_posix()] = (st.st_size, st.st_mtime)
    return out


def all_ids(root: Path) -> Counter[str]:
    """Record ids across live, rotated and archived (.gz) files of the tree."""
    ids: Counter[str] = Counter()
    for p in root.rglob("*"):
        if not p.is_file() or p.is_symlink():
            continue
        if p.name.endswith(".gz"):
            text = gzip.decompress(p.read_bytes()).decode()
        elif p.name.endswith((".log", ".jsonl")):
            text = p.read_text()
        else:
            continue
        ids.update(json.loads(line)["id"] for line in text.splitlines() if line)
    return ids


def stamp_of(age_days: float) -> str:
    """The rotation stamp a live file of that age gets when it is rotated aside for archiving."""
    return datetime.fromtimestamp(NOW - age_days * DAY, UTC).strftime("%Y%m%dT%H%M%S")


def day_of(age_days: float) -> str:
    """The archive date directory of a file that is age_days old."""
    return datetime.fromtimestamp(NOW - age_days * DAY, UTC).strftime("%Y-%m-%d")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A container tree: old and fresh logs, an old and a recent archive, the marker."""
    root = tmp_path / "logs"
    root.mkdir()
    (root / "logtool.json").write_text('{"format_version": 1}')
    write(root, "containers/strat_1/momentum.log", age_days=10)
    write(root, "containers/strat_1/momentum.20260101T000000.log", age_days=12)
    write(root, "containers/strat_2/risk.log", age_days=1)
    write(root, "events/positions.jsonl", age_days=9)
    write(root, "master.log", age_days=0)
    write(root, f"archived/{day_of(40)}/containers/old/a.log.gz", age_days=40)
    write(root, f"archived/{day_of(8)}/containers/old/b.log.gz", age_days=8)
    os.utime(root / "logtool.json", (NOW - 50 * DAY, NOW - 50 * DAY))
    return root


def test_plan_archives_old_logs_and_deletes_old_archives(tree: Path) -> None:
    """Files past archive_after_days are archived oldest first; archives past delete age deleted."""
    actions = plan(tree, RetentionPolicy(archive_after_days=7, delete_after_days=30), now=NOW)
    got = [(a.action, a.path) for a in actions]
    assert got == [
        ("archive", "containers/strat_1/momentum.20260101T000000.log"),
        ("archive", "containers/strat_1/momentum.log"),
        ("archive", "events/positions.jsonl"),
        ("delete", f"archived/{day_of(40)}/containers/old/a.log.gz"),
    ]
    assert all(a.bytes == (tree / a.path).stat().st_size for a in actions)


def test_plan_changes_nothing(tree: Path) -> None:
    """Planning (the dry run) leaves every file, size and mtime as it was."""
    before = snapshot(tree)
    plan(tree, RetentionPolicy(archive_after_days=0, delete_after_days=0, max_total_size_gb=0,
                               min_age_minutes=0), now=NOW)
    assert snapshot(tree) == before


def test_apply_archives_to_dated_gzip_and_keeps_every_record(tree: Path) -> None:
    """An archive is archived/<UTC date of mtime>/<relative path>.gz with the same lines."""
    before = all_ids(tree)
    original = (tree / "containers/strat_1/momentum.log").read_bytes()
    policy = RetentionPolicy(archive_after_days=7, delete_after_days=30)
    actions = plan(tree, policy, now=NOW)
    result = apply(tree, actions, policy=policy, now=NOW)
    assert result.errors == [] and result.skipped == []
    assert len(result.done) == 4
    target = tree / f"archived/{day_of(10)}/containers/strat_1/momentum.{stamp_of(10)}.log.gz"
    assert gzip.decompress(target.read_bytes()) == original
    assert abs(target.stat().st_mtime - (NOW - 10 * DAY)) < 1
    assert not (tree / "containers/strat_1/momentum.log").exists()
    gone = f"archived/{day_of(40)}/containers/old/a.log.gz#"
    assert all_ids(tree) == Counter({k: v for k, v in before.items() if not k.startswith(gone)})
    assert result.bytes_freed > 0
    assert (tree / "logtool.json").exists()
    # A second pass finds nothing left to do.
    assert plan(tree, policy, now=NOW) == []


def test_min_age_protects_recent_files(tree: Path) -> None:
    """Nothing modified within min_age_minutes is planned, even with zero-day thresholds."""
    write(tree, "containers/strat_3/fresh.log", age_days=5 / (24 * 60))
    actions = plan(tree, RetentionPolicy(archive_after_days=0, delete_after_days=None,
                                         min_age_minutes=10), now=NOW)
    paths = {a.path for a in actions}
    assert "containers/strat_3/fresh.log" not in paths
    assert "master.log" not in paths
    assert "containers/strat_2/risk.log" in paths


def test_file_modified_after_plan_is_skipped(tree: Path) -> None:
    """apply re-checks each file: one written to since the plan is left alone and reported."""
    policy = RetentionPolicy(archive_after_days=7, delete_after_days=None)
    actions = plan(tree, policy, now=NOW)
    with (tree / "events/positions.jsonl").open("a") as fh:
        fh.write(json.dumps({"id": "late", "message": "y"}) + "\n")
    result = apply(tree, actions, policy=policy, now=NOW)
    assert "events/positions.jsonl: modified since the plan" in result.skipped
    assert (tree / "events/positions.jsonl").exists()


def test_symlinks_are_never_followed(tree: Path, tmp_path: Path) -> None:
    """A symlinked directory or file pointing out of the root is neither planned nor touched."""
    outside = tmp_path / "outside"
    target_file = write(outside, "secret.log", age_days=100)
    write(outside, "dir/inner.log", age_days=100)
    (tree / "containers/linked_dir").symlink_to(outside / "dir")
    (tree / "containers/strat_1/linked.log").symlink_to(target_file)
    before = snapshot(outside)
    policy = RetentionPolicy(archive_after_days=0, delete_after_days=0, min_age_minutes=0)
    actions = plan(tree, policy, now=NOW)
    assert not any("linked" in a.path for a in actions)
    apply(tree, actions, policy=policy, now=NOW)
    assert snapshot(outside) == before
    assert (tree / "containers/strat_1/linked.log").is_symlink()


def test_symlinked_archive_dir_is_refused(tree: Path, tmp_path: Path) -> None:
    """If archived/ is a symlink out of the tree, nothing is written there and the file stays."""
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    for p in sorted((tree / "archived").rglob("*"), reverse=True):
        p.unlink() if p.is_file() else p.rmdir()
    (tree / "archived").rmdir()
    (tree / "archived").symlink_to(outside)
    policy = RetentionPolicy(archive_after_days=7, delete_after_days=None)
    result = apply(tree, plan(tree, policy, now=NOW), policy=policy, now=NOW)
    assert list(outside.rglob("*")) == []
    assert result.done == []
    assert (tree / "containers/strat_1/momentum.log").exists()


@pytest.mark.parametrize("bad", ["/", "home", "not_a_tree", "missing", "a_file"])
def test_outside_or_non_tree_roots_are_refused(tmp_path: Path, bad: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """/, a home directory, a plain directory, a missing path and a file are refused (exit 2)."""
    home = tmp_path / "home_dir"
    (home / "containers").mkdir(parents=True)  # even a home that looks like a tree is refused
    monkeypatch.setenv("HOME", str(home))
    (tmp_path / "not_a_tree").mkdir()
    (tmp_path / "not_a_tree" / "x.log").write_text("{}\n")
    (tmp_path / "a_file").write_text("x")
    path = {"/": Path("/"), "home": home}.get(bad, tmp_path / bad)
    with pytest.raises(BadInputError) as info:
        plan(path, RetentionPolicy())
    assert info.value.exit_code == 2
    assert str(path.resolve() if path.exists() else path) in str(info.value)


def test_size_cap_deletes_oldest_archives_first(tmp_path: Path) -> None:
    """Over the cap, archives go oldest first until the projected size fits."""
    root = tmp_path / "logs"
    (root / "containers").mkdir(parents=True)
    for i, age in enumerate([5, 3, 4, 1]):
        p = root / f"archived/d/a{i}.log.gz"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"\0" * 1000)
        os.utime(p, (NOW - age * DAY, NOW - age * DAY))
    cap_gb = 2100 / 1024**3
    actions = plan(root, RetentionPolicy(archive_after_days=None, delete_after_days=None,
                                         max_total_size_gb=cap_gb), now=NOW)
    assert [(a.action, a.path) for a in actions] == [
        ("delete", "archived/d/a0.log.gz"),
        ("delete", "archived/d/a2.log.gz"),
    ]
    result = apply(root, actions, now=NOW)
    assert result.bytes_freed == 2000
    assert retention.tree_size(root) <= 2100


def test_size_cap_then_archives_oldest_logs(tmp_path: Path) -> None:
    """With no archives left to delete, the oldest eligible logs are archived (never deleted)."""
    root = tmp_path / "logs"
    write(root, "containers/c/a.log", lines=200, age_days=2)
    write(root, "containers/c/b.log", lines=200, age_days=1)
    size = (root / "containers/c/a.log").stat().st_size
    cap_gb = (size * 1.5) / 1024**3
    actions = plan(root, RetentionPolicy(archive_after_days=None, delete_after_days=None,
                                         max_total_size_gb=cap_gb), now=NOW)
    assert [(a.action, a.path) for a in actions] == [("archive", "containers/c/a.log")]


def test_run_scoped_layout(tmp_path: Path) -> None:
    """Run-scoped trees archive under the same relative path; run_metadata.json stays."""
    root = tmp_path / "runs"
    write(root, "run_42/1234/strategy.log", age_days=9)
    write(root, "run_42/1234/events/positions.jsonl", age_days=9)
    meta = root / "run_42/1234/run_metadata.json"
    meta.write_text("{}")
    os.utime(meta, (NOW - 90 * DAY, NOW - 90 * DAY))
    policy = RetentionPolicy(archive_after_days=7)
    result = apply(root, plan(root, policy, now=NOW), policy=policy, now=NOW)
    assert sorted(result.archived_to.values()) == [
        f"archived/{day_of(9)}/run_42/1234/events/positions.{stamp_of(9)}.jsonl.gz",
        f"archived/{day_of(9)}/run_42/1234/strategy.{stamp_of(9)}.log.gz",
    ]
    assert meta.exists()


def test_name_collision_gets_rotated_style_name(tree: Path) -> None:
    """A second archive of the same name and stamp gets <stem>.<stamp>-1.log.gz, not lost."""
    policy = RetentionPolicy(archive_after_days=7, delete_after_days=None)
    apply(tree, plan(tree, policy, now=NOW), policy=policy, now=NOW)
    write(tree, "containers/strat_1/momentum.log", age_days=10, tag="second")
    result = apply(tree, plan(tree, policy, now=NOW), policy=policy, now=NOW)
    (dest,) = result.archived_to.values()
    assert dest == f"archived/{day_of(10)}/containers/strat_1/momentum.{stamp_of(10)}-1.log.gz"
    assert all_ids(tree)["second#0"] == 1


def test_leftover_temp_file_is_removed_and_not_counted(tree: Path) -> None:
    """A half-written archive from an interrupted run is deleted by the next run, not counted."""
    temp = tree / f"archived/{day_of(10)}/containers/strat_1/momentum.log.gz.999.logtool-tmp"
    temp.parent.mkdir(parents=True)
    temp.write_bytes(b"\x1f\x8b partial")
    policy = RetentionPolicy(archive_after_days=7, delete_after_days=None)
    actions = plan(tree, policy, now=NOW)
    assert not any(a.path.endswith("logtool-tmp") for a in actions)
    result = apply(tree, actions, policy=policy, now=NOW)
    assert result.temp_files_removed == 1
    assert not temp.exists()
    assert len(result.done) == 3


def test_interrupted_after_rename_does_not_duplicate(tree: Path) -> None:
    """Stopped after the archive was linked in but before the source was removed: no copy."""
    live = tree / "containers/strat_1/momentum.log"
    rotated = live.with_name(f"momentum.{stamp_of(10)}.log")
    live.rename(rotated)  # the detach step, as a crashed run would leave it
    st = rotated.stat()
    rel = rotated.relative_to(tree).as_posix()
    target = retention.archive_target(tree, rel, st.st_mtime, True)
    target.parent.mkdir(parents=True)
    retention._write_gzip(rotated, target, st)  # the steps up to the link, then "crash"
    assert all_ids(tree)["containers/strat_1/momentum.log#0"] == 2
    policy = RetentionPolicy(archive_after_days=7, delete_after_days=None)
    result = apply(tree, plan(tree, policy, now=NOW), policy=policy, now=NOW)
    assert result.archived_to[rel] == target.relative_to(tree).as_posix()
    assert all_ids(tree)["containers/strat_1/momentum.log#0"] == 1
    assert not rotated.exists()


def test_same_size_same_second_is_not_mistaken_for_done(tree: Path) -> None:
    """An existing archive with equal mtime and size but other bytes is not taken as done."""
    rotated = tree / f"containers/strat_1/momentum.{stamp_of(10)}.log"
    (tree / "containers/strat_1/momentum.log").rename(rotated)
    st = rotated.stat()
    rel = rotated.relative_to(tree).as_posix()
    target = retention.archive_target(tree, rel, st.st_mtime, True)
    target.parent.mkdir(parents=True)
    other = tree / "other.bin"
    other.write_bytes(rotated.read_bytes().replace(b"momentum.log#", b"momentum.zzz#"))
    os.utime(other, ns=(st.st_atime_ns, st.st_mtime_ns))
    retention._write_gzip(other, target, other.stat())
    other.unlink()
    policy = RetentionPolicy(archive_after_days=7, delete_after_days=None)
    result = apply(tree, plan(tree, policy, now=NOW), policy=policy, now=NOW)
    assert result.archived_to[rel].endswith(f"momentum.{stamp_of(10)}-1.log.gz")
    assert all_ids(tree)["containers/strat_1/momentum.log#0"] == 1


def test_killed_prune_loses_nothing(tmp_path: Path) -> None:
    """SIGKILL a prune subprocess mid-run; the next run finishes and every record exists once."""
    root = tmp_path / "logs"
    root.mkdir()
    (root / "logtool.json").write_text("{}")
    for i in range(12):
        write(root, f"containers/c{i}/comp.log", lines=20_000, age_days=20)
    expected = all_ids(root)
    script = (
        "import sys; from logtool.retention import RetentionPolicy, plan, apply\n"
        "p = RetentionPolicy(archive_after_days=7, delete_after_days=None)\n"
        "apply(sys.argv[1], plan(sys.argv[1], p), policy=p)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, str(root)])
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if any(p.name.endswith(".gz") for p in (root / "archived").rglob("*")):
                break
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL  # killed mid-run, not finished
    assert list((root / "containers").rglob("*.log"))
    # Whatever state the kill left: nothing is lost.
    assert set(all_ids(root)) == set(expected)
    policy = RetentionPolicy(archive_after_days=7, delete_after_days=None)
    result = apply(root, plan(root, policy), policy=policy)
    assert result.errors == []
    assert all_ids(root) == expected
    assert not list(root.rglob("*.logtool-tmp"))
    assert not list((root / "containers").rglob("*.log"))


def test_second_concurrent_prune_is_refused(tree: Path) -> None:
    """While one prune holds the tree lock, another apply fails with a clear message."""
    with retention._tree_lock(tree), pytest.raises(BadInputError, match="another prune"):
        apply(tree, [])


def test_delete_refuses_non_archives(tree: Path) -> None:
    """A hand-made plan cannot delete a live log: only files under archived/ are deleted."""
    rel = "containers/strat_1/momentum.log"
    action = Action("delete", rel, 1, "hand-made", (tree / rel).stat().st_mtime)
    result = apply(tree, [action], now=NOW)
    assert (tree / rel).exists()
    assert result.skipped == [f"{rel}: only archives are deleted"]


def test_negative_policy_values_are_rejected() -> None:
    """A negative age or cap is a BadInputError naming the field."""
    with pytest.raises(BadInputError, match="archive_after_days"):
        RetentionPolicy(archive_after_days=-1)


def test_compress_rotated_in_place(tree: Path) -> None:
    """compress_rotated gzips rotated plain files beside themselves; live files are not touched."""
    rotated = "containers/strat_2/risk.20260101T000000.log"
    write(tree, rotated, age_days=1)
    policy = RetentionPolicy(archive_after_days=None, delete_after_days=None)
    actions = plan(tree, policy, now=NOW, compress_rotated=True)
    assert [(a.action, a.path) for a in actions] == [
        ("compress", "containers/strat_1/momentum.20260101T000000.log"), ("compress", rotated)]
    before = all_ids(tree)
    result = apply(tree, actions, policy=policy, now=NOW)
    assert result.as_dict()["compressed"] == 2
    assert (tree / (rotated + ".gz")).exists() and not (tree / rotated).exists()
    assert all_ids(tree) == before
    assert plan(tree, policy, now=NOW, compress_rotated=True) == []


WRITER_SCRIPT = """
import sys, time
from logtool.write.sink import Sink
sink = Sink(sys.argv[1], max_bytes=None)
n = int(sys.argv[2])
for i in range(n):
    sink.submit("containers/c/x.log", {"id": f"w#{i}", "message": "m"})
    if i % 200 == 0:
        sink.flush()
        time.sleep(0.005)
sink.close()
"""


def test_prune_while_another_process_writes_loses_nothing(tmp_path: Path) -> None:
    """A writer process appends to a live file while prune archives it again and again."""
    root = tmp_path / "logs"
    (root / "containers/c").mkdir(parents=True)
    total = 20_000
    proc = subprocess.Popen([sys.executable, "-c", WRITER_SCRIPT, str(root), str(total)])
    policy = RetentionPolicy(archive_after_days=0, delete_after_days=None, min_age_minutes=0)
    archived = 0
    try:
        while proc.poll() is None:
            result = apply(root, plan(root, policy), policy=policy)
            assert result.errors == []
            archived += len(result.done)
            time.sleep(0.02)
    finally:
        proc.wait(timeout=120)
    assert proc.returncode == 0
    assert archived >= 2, "prune archived the live file while it was being written"
    ids = all_ids(root)
    assert ids == Counter(f"w#{i}" for i in range(total))
