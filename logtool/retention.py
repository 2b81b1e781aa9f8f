"""Retention of a log tree: plans and carries out archive, delete and size cap (prune, manager)."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import gzip
import itertools
import os
import shutil
import stat
import struct
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from logtool.contract import (
    ARCHIVED_DIR,
    CONTAINERS_DIR,
    CORRELATIONS_DIR,
    EVENTS_DIR,
    EVENTS_SUFFIX,
    FLOWS_DIR,
    GZIP_SUFFIX,
    LOG_SUFFIX,
    MASTER_LOG,
    METRICS_DIR,
    ROTATED_NAME_RE,
    ROTATION_STAMP_FORMAT,
    RUN_METADATA,
    SYSTEM_DIR,
    TREE_MARKER,
)
from logtool.errors import BadInputError

DAY = 86_400.0
GB = 1024**3
# Archives are written under this suffix and renamed when complete; anything left with it is
# the debris of an interrupted run and is removed by the next one.
TEMP_SUFFIX = ".logtool-tmp"
# Used to plan the size cap before compressing: JSON lines shrink to well under a fifth.
COMPRESSED_RATIO_ESTIMATE = 0.2
# How long to wait for a writer's shared lock on a live file before skipping it this run.
LOCK_WAIT_SECONDS = 5.0
_LOG_EXTS = (LOG_SUFFIX, EVENTS_SUFFIX)
_TREE_ENTRIES = (
    TREE_MARKER, CONTAINERS_DIR, FLOWS_DIR, CORRELATIONS_DIR, EVENTS_DIR, SYSTEM_DIR,
    METRICS_DIR, ARCHIVED_DIR, MASTER_LOG,
)
_NEVER_TOUCH = (TREE_MARKER, RUN_METADATA)


@dataclass(frozen=True)
class RetentionPolicy:
    """How long files live: archived after N days, archives deleted after M days, a size cap."""

    archive_after_days: float | None = 7
    delete_after_days: float | None = 30
    max_total_size_gb: float | None = None
    compression_enabled: bool = True
    # Files modified more recently than this are never touched: a writer may still hold them.
    min_age_minutes: float = 10

    def __post_init__(self) -> None:
        for name in ("archive_after_days", "delete_after_days", "max_total_size_gb"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise BadInputError(f"retention {name} must be >= 0, got {value}")
        if self.min_age_minutes < 0:
            raise BadInputError(
                f"retention min_age_minutes must be >= 0, got {self.min_age_minutes}"
            )


@dataclass(frozen=True)
class Action:
    """One planned change: archive a log file or delete an archive (path relative to the root)."""

    action: Literal["archive", "delete", "compress"]
    path: str
    bytes: int
    reason: str
    mtime: float = 0.0

    def as_dict(self) -> dict[str, object]:
        """The public JSON shape of a planned action."""
        return {"action": self.action, "path": self.path, "bytes": self.bytes,
                "reason": self.reason}


@dataclass
class PruneResult:
    """What apply() did: actions carried out, bytes freed, and what failed or was skipped."""

    done: list[Action] = field(default_factory=list)
    archived_to: dict[str, str] = field(default_factory=dict)
    bytes_freed: int = 0
    skipped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    temp_files_removed: int = 0

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready summary (paths relative to the root)."""
        return {
            "done": [
                {**a.as_dict(), **({"to": self.archived_to[a.path]} if a.path in self.archived_to
                                   else {})}
                for a in self.done
            ],
            "archived": sum(1 for a in self.done if a.action == "archive"),
            "deleted": sum(1 for a in self.done if a.action == "delete"),
            "compressed": sum(1 for a in self.done if a.action == "compress"),
            "bytes_freed": self.bytes_freed,
            "skipped": self.skipped,
            "errors": self.errors,
            "temp_files_removed": self.temp_files_removed,
        }


@dataclass(frozen=True)
class _File:
    rel: str
    size: int
    mtime: float


# ---------------------------------------------------------------- root checks


def check_root(root: str | os.PathLike[str]) -> Path:
    """The resolved root if it is a log tree; refuses /, home directories and non-trees (exit 2)."""
    path = Path(root).expanduser()
    if not path.exists():
        raise BadInputError(f"{path}: no such directory")
    if not path.is_dir():
        raise BadInputError(f"{path}: not a directory")
    resolved = path.resolve()
    home = Path.home().resolve()
    if resolved == Path(resolved.anchor) or resolved == home or resolved in home.parents:
        raise BadInputError(
            f"{resolved}: refusing to prune a filesystem root or home directory",
            hint="Give the log tree itself, e.g. ./logs.",
        )
    if not looks_like_tree(resolved):
        raise BadInputError(
            f"{resolved}: does not look like a log tree (no {TREE_MARKER}, no containers/, "
            "flows/, events/, system/, archived/ or run_metadata.json)",
            hint="Point prune at the root of a tree written by logtool.",
        )
    return resolved


def looks_like_tree(root: Path) -> bool:
    """Whether root has the tree marker, a known subdirectory, or run-scoped <run>/<pid>/ dirs."""
    if any(os.path.lexists(root / name) for name in _TREE_ENTRIES):
        return True
    # Run-scoped layout: <root>/<run_id>/<pid>/run_metadata.json; a bounded look two levels down.
    with contextlib.suppress(OSError):
        for run in list(os.scandir(root))[:1000]:
            if not run.is_dir(follow_symlinks=False):
                continue
            for pid in list(os.scandir(run.path))[:1000]:
                if pid.is_dir(follow_symlinks=False) and os.path.lexists(
                    Path(pid.path) / RUN_METADATA
                ):
                    return True
    return False


# ---------------------------------------------------------------- walking


def walk_files(root: Path, top: str = "") -> Iterator[tuple[str, os.stat_result]]:
    """(relative path, lstat) of every regular file below root/top; symlinks never followed."""
    stack = [top]
    while stack:
        rel_dir = stack.pop()
        try:
            entries = list(os.scandir(root / rel_dir if rel_dir else root))
        except OSError:
            continue
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode):
                stack.append(rel)
            elif stat.S_ISREG(st.st_mode):
                yield rel, st


def _walk(root: Path, top: str = "") -> Iterator[_File]:
    """Regular files below root/top, never following or yielding symlinks."""
    for rel, st in walk_files(root, top):
        yield _File(rel, st.st_size, st.st_mtime)


def is_log_file(name: str) -> bool:
    """Whether a file name is one retention manages: *.log, *.jsonl, or those gzipped."""
    base = name[: -len(GZIP_SUFFIX)] if name.endswith(GZIP_SUFFIX) else name
    return base.endswith(_LOG_EXTS) and not name.startswith(".")


def is_live_name(rel: str) -> bool:
    """Whether a path names a file a writer appends to (not a rotated or compressed one)."""
    name = rel.rsplit("/", 1)[-1]
    return not name.endswith(GZIP_SUFFIX) and ROTATED_NAME_RE.match(name) is None


def tree_size(root: str | os.PathLike[str]) -> int:
    """Bytes of every regular file in the tree (symlinks not followed)."""
    return sum(f.size for f in _walk(Path(root)))


# ---------------------------------------------------------------- plan


def plan(
    root: str | os.PathLike[str],
    policy: RetentionPolicy,
    now: float | None = None,
    *,
    include_live: bool = True,
    compress_rotated: bool = False,
) -> list[Action]:
    """The actions that bring root within policy, without changing anything.

    Order: archive files past archive_after_days; delete archives past delete_after_days; then,
    while the tree is over max_total_size_gb, delete the oldest remaining archives, and if that
    is not enough archive the oldest remaining log files regardless of age. Live files are never
    deleted, and nothing modified in the last min_age_minutes is touched.
    include_live=False leaves files a writer may append to (non-rotated names) alone.
    compress_rotated=True (the log manager) also gzips rotated plain files in place.
    """
    base = check_root(root)
    now = time.time() if now is None else now
    min_age_cutoff = now - policy.min_age_minutes * 60
    archives: list[_File] = []
    logs: list[_File] = []
    total = 0
    for f in _walk(base):
        total += f.size
        name = f.rel.rsplit("/", 1)[-1]
        if f.rel.startswith(ARCHIVED_DIR + "/"):
            if not name.endswith(TEMP_SUFFIX) and not name.startswith("."):
                archives.append(f)
        elif name not in _NEVER_TOUCH and is_log_file(name):
            logs.append(f)

    def eligible(f: _File) -> bool:
        return f.mtime <= min_age_cutoff and (include_live or not is_live_name(f.rel))

    actions: list[Action] = []
    planned: set[str] = set()
    if policy.archive_after_days is not None:
        cutoff = now - policy.archive_after_days * DAY
        for f in sorted(logs, key=lambda f: (f.mtime, f.rel)):
            if f.mtime <= cutoff and eligible(f):
                actions.append(Action("archive", f.rel, f.size,
                                      f"older than {policy.archive_after_days:g} days", f.mtime))
                planned.add(f.rel)
    if policy.delete_after_days is not None:
        cutoff = now - policy.delete_after_days * DAY
        for f in sorted(archives, key=lambda f: (f.mtime, f.rel)):
            if f.mtime <= cutoff and f.mtime <= min_age_cutoff:
                actions.append(Action("delete", f.rel, f.size,
                                      f"archive older than {policy.delete_after_days:g} days",
                                      f.mtime))
                planned.add(f.rel)
    if compress_rotated and policy.compression_enabled:
        for f in sorted(logs, key=lambda f: (f.mtime, f.rel)):
            if f.rel not in planned and not f.rel.endswith(GZIP_SUFFIX) and \
                    not is_live_name(f.rel) and f.mtime <= min_age_cutoff:
                actions.append(Action("compress", f.rel, f.size, "rotated file", f.mtime))
                planned.add(f.rel)
    if policy.max_total_size_gb is not None:
        actions.extend(_size_cap(policy, logs, archives, planned, total, eligible))
    return actions


def _size_cap(
    policy: RetentionPolicy,
    logs: list[_File],
    archives: list[_File],
    planned: set[str],
    total: int,
    eligible: Callable[[_File], bool],
) -> list[Action]:
    """Extra actions while the projected size of the tree is over the cap: oldest first."""
    assert policy.max_total_size_gb is not None
    cap = int(policy.max_total_size_gb * GB)
    ratio = COMPRESSED_RATIO_ESTIMATE if policy.compression_enabled else 1.0
    by_rel = {f.rel: f for f in (*logs, *archives)}
    # Project the size once the age-based actions are done.
    for rel in planned:
        f = by_rel[rel]
        if rel.startswith(ARCHIVED_DIR + "/"):
            total -= f.size
        elif not rel.endswith(GZIP_SUFFIX):
            total -= int(f.size * (1 - ratio))
    extra: list[Action] = []
    reason = f"tree over {policy.max_total_size_gb:g} GB cap"
    for f in sorted(archives, key=lambda f: (f.mtime, f.rel)):
        if total <= cap:
            return extra
        if f.rel not in planned:
            extra.append(Action("delete", f.rel, f.size, reason + ", oldest archive", f.mtime))
            total -= f.size
    for f in sorted(logs, key=lambda f: (f.mtime, f.rel)):
        if total <= cap:
            return extra
        if f.rel not in planned and eligible(f):
            extra.append(Action("archive", f.rel, f.size, reason + ", oldest log", f.mtime))
            if not f.rel.endswith(GZIP_SUFFIX):
                total -= int(f.size * (1 - ratio))
    return extra


# ---------------------------------------------------------------- apply


def apply(
    root: str | os.PathLike[str],
    actions: list[Action],
    progress: Callable[[Action], None] | None = None,
    *,
    policy: RetentionPolicy | None = None,
    now: float | None = None,
) -> PruneResult:
    """Carry out a plan; each file is checked again first, and failures are reported, not raised.

    One prune at a time per tree (an flock on the root directory); a second one gets BadInputError.
    """
    base = check_root(root)
    policy = policy or RetentionPolicy()
    now = time.time() if now is None else now
    result = PruneResult()
    with _tree_lock(base):
        result.temp_files_removed = _remove_temp_files(base)
        for action in actions:
            try:
                if action.action == "archive":
                    _archive_one(base, action, policy, now, result)
                elif action.action == "compress":
                    _compress_one(base, action, policy, now, result)
                else:
                    _delete_one(base, action, policy, now, result)
            except OSError as exc:
                result.errors.append(f"{action.path}: {exc.strerror or exc}")
            if progress is not None:
                progress(action)
    return result


@contextlib.contextmanager
def _tree_lock(base: Path) -> Iterator[None]:
    """Exclusive lock on the root directory itself (nothing is created in the tree for it)."""
    fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise BadInputError(f"{base}: another prune is running on this tree") from None
            raise
        yield
    finally:
        os.close(fd)


def _remove_temp_files(base: Path) -> int:
    """Delete half-written archives left by an interrupted run (we hold the tree lock)."""
    removed = 0
    for f in _walk(base):
        if f.rel.endswith(TEMP_SUFFIX):
            with contextlib.suppress(FileNotFoundError):
                (base / f.rel).unlink()
                removed += 1
    return removed


def _current(base: Path, action: Action, policy: RetentionPolicy, now: float,
             result: PruneResult) -> os.stat_result | None:
    """The file's stat if it is still a regular file old enough to touch, else None (skipped)."""
    try:
        st = os.lstat(base / action.path)
    except FileNotFoundError:
        result.skipped.append(f"{action.path}: gone")
        return None
    if not stat.S_ISREG(st.st_mode):
        result.skipped.append(f"{action.path}: not a regular file")
        return None
    changed = bool(action.mtime) and st.st_mtime > action.mtime + 1e-6
    if changed or st.st_mtime > now - policy.min_age_minutes * 60:
        result.skipped.append(f"{action.path}: modified since the plan")
        return None
    if not _inside(base, (base / action.path).parent):
        result.skipped.append(f"{action.path}: resolves outside the tree")
        return None
    return st


def _safe_makedirs(base: Path, directory: Path) -> bool:
    """Create directory below base one level at a time, refusing symlinks on the way."""
    current = base
    for part in directory.relative_to(base).parts:
        current = current / part
        try:
            st = os.lstat(current)
        except FileNotFoundError:
            with contextlib.suppress(FileExistsError):
                current.mkdir()
            st = os.lstat(current)
        if not stat.S_ISDIR(st.st_mode):
            return False
    return True


def _inside(base: Path, path: Path) -> bool:
    real = os.path.realpath(path)
    return real == str(base) or real.startswith(str(base) + os.sep)


def _delete_one(base: Path, action: Action, policy: RetentionPolicy, now: float,
                result: PruneResult) -> None:
    if not action.path.startswith(ARCHIVED_DIR + "/"):
        result.skipped.append(f"{action.path}: only archives are deleted")
        return
    st = _current(base, action, policy, now, result)
    if st is None:
        return
    path = base / action.path
    path.unlink()
    _fsync_dir(path.parent)
    result.done.append(action)
    result.bytes_freed += st.st_size
    _remove_empty_dirs(base / ARCHIVED_DIR, path.parent)


def _remove_empty_dirs(stop: Path, start: Path) -> None:
    """Drop archive date directories emptied by deletion (never stop itself)."""
    current = start
    while current != stop and stop in current.parents:
        try:
            current.rmdir()
        except OSError:
            return
        current = current.parent


def archive_target(base: Path, rel: str, mtime: float, compress: bool) -> Path:
    """Where a file archives to: archived/<UTC date of mtime>/<rel>[.gz]."""
    day = datetime.fromtimestamp(mtime, UTC).strftime("%Y-%m-%d")
    suffix = GZIP_SUFFIX if compress and not rel.endswith(GZIP_SUFFIX) else ""
    return base / ARCHIVED_DIR / day / (rel + suffix)


def _alternative_names(target: Path, mtime: float) -> Iterator[Path]:
    """Collision-free names in the rotated-file style: <stem>.<stamp>[-N]<ext>[.gz]."""
    name = target.name
    gz = GZIP_SUFFIX if name.endswith(GZIP_SUFFIX) else ""
    plain = name[: -len(gz)] if gz else name
    match = ROTATED_NAME_RE.match(plain)
    if match:
        stem, stamp, ext = match["stem"], match["stamp"], match["ext"]
    else:
        ext = next((e for e in _LOG_EXTS if plain.endswith(e)), "")
        stem = plain[: -len(ext)] if ext else plain
        stamp = datetime.fromtimestamp(mtime, UTC).strftime(ROTATION_STAMP_FORMAT)
        yield target.with_name(f"{stem}.{stamp}{ext}{gz}")
    for n in range(1, 10_000):
        yield target.with_name(f"{stem}.{stamp}-{n}{ext}{gz}")


def _gzip_matches(path: Path, source: Path, st: os.stat_result) -> bool:
    """Whether an existing .gz is the complete archive of source (described by st).

    We write the source's whole-second mtime into the gzip header; the trailer holds the CRC-32
    and the size modulo 2**32. All equal means a previous run stopped after linking it in.
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(10)
            fh.seek(-8, os.SEEK_END)
            crc, isize = struct.unpack("<II", fh.read(8))
    except OSError:
        return False
    if len(head) < 10 or head[:2] != b"\x1f\x8b":
        return False
    if struct.unpack("<I", head[4:8])[0] != int(st.st_mtime) or isize != st.st_size % 2**32:
        return False
    actual = 0
    with open(source, "rb") as fh:
        while chunk := fh.read(1 << 20):
            actual = zlib.crc32(chunk, actual)
    return actual == crc


def _archive_one(base: Path, action: Action, policy: RetentionPolicy, now: float,
                 result: PruneResult) -> None:
    st = _current(base, action, policy, now, result)
    if st is None:
        return
    rel = action.path
    if not _safe_makedirs(base, archive_target(base, rel, st.st_mtime, False).parent):
        result.skipped.append(f"{action.path}: archive directory would leave the tree (symlink)")
        return
    if is_live_name(rel):
        detached = _detach(base, rel, st, result)
        if detached is None:
            return
        rel = detached
    src = base / rel
    compress = policy.compression_enabled and not rel.endswith(GZIP_SUFFIX)
    target = archive_target(base, rel, st.st_mtime, compress)
    candidates = itertools.chain([target], _alternative_names(target, st.st_mtime))
    final: Path | None = None
    for candidate in candidates:
        if not os.path.lexists(candidate):
            final = candidate
            break
        if compress and _gzip_matches(candidate, src, st):
            # A previous run archived it and stopped before removing the original.
            _remove_source(src, st, result, action)
            result.archived_to[action.path] = candidate.relative_to(base).as_posix()
            return
    if final is None:
        result.errors.append(f"{action.path}: no free archive name")
        return
    _publish(base, src, st, final, result, action, compress=compress, doing="archiving")


def _publish(
    base: Path,
    src: Path,
    st: os.stat_result,
    final: Path,
    result: PruneResult,
    action: Action,
    *,
    compress: bool,
    doing: str,
) -> None:
    """Write src's copy under a temp name, link it to final, then remove src: never a loss."""
    tmp = final.with_name(f"{final.name}.{os.getpid()}{TEMP_SUFFIX}")
    try:
        if compress:
            _write_gzip(src, tmp, st)
        else:
            _copy(src, tmp, st)
        after = os.lstat(src)
        if after.st_size != st.st_size or after.st_mtime != st.st_mtime:
            result.skipped.append(f"{action.path}: modified while {doing}")
            return
        # link() refuses to replace an existing name, unlike rename().
        os.link(tmp, final)
        _fsync_dir(final.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    _remove_source(src, st, result, action)
    result.archived_to[action.path] = final.relative_to(base).as_posix()
    result.bytes_freed += max(st.st_size - os.lstat(final).st_size, 0)


def _detach(base: Path, rel: str, st: os.stat_result, result: PruneResult) -> str | None:
    """Rename a live file aside to a rotated name, as a writer's own rotation would.

    Done under an exclusive flock on the file: logtool writers append under a shared lock and
    check the path's inode first, so they reopen a fresh file and nothing more lands in the
    renamed one. Returns the new relative path, or None (skipped) if the file is busy/changed.
    """
    path = base / rel
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        result.skipped.append(f"{rel}: cannot open: {exc.strerror or exc}")
        return None
    try:
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    result.skipped.append(f"{rel}: locked by a writer")
                    return None
                time.sleep(0.01)
        now_st = os.fstat(fd)
        if (now_st.st_ino, now_st.st_size, now_st.st_mtime_ns) != (
                st.st_ino, st.st_size, st.st_mtime_ns):
            result.skipped.append(f"{rel}: modified since the plan")
            return None
        for candidate in _alternative_names(path, st.st_mtime):
            try:
                os.link(path, candidate)  # no-clobber, unlike rename()
            except FileExistsError:
                continue
            path.unlink()
            _fsync_dir(path.parent)
            return candidate.relative_to(base).as_posix()
        result.errors.append(f"{rel}: no free rotated name")
        return None
    finally:
        os.close(fd)  # releases the lock


def _remove_source(src: Path, st: os.stat_result, result: PruneResult, action: Action) -> None:
    src.unlink()
    _fsync_dir(src.parent)
    result.done.append(action)


def _write_gzip(src: Path, tmp: Path, st: os.stat_result) -> None:
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "wb") as raw, open(src, "rb") as fin:
        with gzip.GzipFile(filename=src.name, mode="wb", fileobj=raw, compresslevel=6,
                           mtime=int(st.st_mtime)) as gz:
            shutil.copyfileobj(fin, gz, 1 << 20)
        raw.flush()
        os.fsync(raw.fileno())
    os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns))


def _copy(src: Path, tmp: Path, st: os.stat_result) -> None:
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "wb") as raw, open(src, "rb") as fin:
        shutil.copyfileobj(fin, raw, 1 << 20)
        raw.flush()
        os.fsync(raw.fileno())
    os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class PruneOutcome:
    """What `logtool prune` reports: the plan, and what was done unless it was a dry run."""

    root: Path
    actions: list[Action]
    result: PruneResult | None

    def plan_json(self) -> list[dict[str, object]]:
        """The plan as [{"action", "path", "bytes", "reason"}], paths relative to the root."""
        return [a.as_dict() for a in self.actions]


def prune(
    root: str | os.PathLike[str],
    policy: RetentionPolicy,
    *,
    dry_run: bool = False,
    progress: Callable[[int, int, Action], None] | None = None,
) -> PruneOutcome:
    """Plan retention for root and, unless dry_run, apply it; progress(done, total, action)."""
    base = check_root(root)
    now = time.time()
    actions = plan(base, policy, now)
    if dry_run:
        return PruneOutcome(base, actions, None)
    done = 0

    def step(action: Action) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, len(actions), action)

    return PruneOutcome(base, actions, apply(base, actions, step, policy=policy, now=now))


def _compress_one(base: Path, action: Action, policy: RetentionPolicy, now: float,
                  result: PruneResult) -> None:
    """Gzip a rotated file in place (<name>.gz beside it), by the same temp-then-link steps."""
    if action.path.startswith(ARCHIVED_DIR + "/") or is_live_name(action.path):
        result.skipped.append(f"{action.path}: only rotated files are compressed in place")
        return
    st = _current(base, action, policy, now, result)
    if st is None:
        return
    src = base / action.path
    final = src.with_name(src.name + GZIP_SUFFIX)
    if os.path.lexists(final):
        if _gzip_matches(final, src, st):
            _remove_source(src, st, result, action)
        else:
            result.skipped.append(f"{action.path}: {final.name} exists")
        return
    _publish(base, src, st, final, result, action, compress=True, doing="compressing")
