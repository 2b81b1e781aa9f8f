"""Finds the files of a log tree (live, rotated, gzipped, archived) and classifies each one."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from logtool import contract
from logtool.errors import BadInputError

KINDS = ("logs", "master", "system", "flows", "correlations", "events", "metrics")

_ARCHIVE_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Directories whose files have a fixed kind; any other .log is a run-scoped component log.
_DIR_KINDS = {
    contract.SYSTEM_DIR: "system",
    contract.FLOWS_DIR: "flows",
    contract.CORRELATIONS_DIR: "correlations",
    contract.EVENTS_DIR: "events",
    contract.METRICS_DIR: "metrics",
}
_MASTER_STEM = Path(contract.MASTER_LOG).stem


@dataclass(frozen=True)
class TreeFile:
    """One readable file of a tree and what the path alone says about it."""

    path: Path  # absolute
    rel: str  # relative to the opened directory, '/'-separated
    kind: str  # one of KINDS
    event_type: str | None  # for kind == "events": file stem without rotation stamp
    container_hint: str | None  # from the path: containers/<cid>/, metrics/<cid>.log, <run>/<pid>/
    component_hint: str | None  # file stem without rotation stamp
    compressed: bool
    size: int
    mtime: float
    archived: bool


def split_name(name: str) -> tuple[str, str] | None:
    """(stem without rotation stamp, extension) of a .log/.jsonl[.gz] name, else None."""
    match = contract.ROTATED_NAME_RE.match(name)
    if match:
        return match["stem"], match["ext"]
    base = name.removesuffix(contract.GZIP_SUFFIX)
    for ext in (contract.LOG_SUFFIX, contract.EVENTS_SUFFIX):
        if base.endswith(ext) and len(base) > len(ext):
            return base[: -len(ext)], ext
    return None


def _is_run_dir(directory: Path) -> bool:
    """Whether directory is a run-scoped <run_id>/<pid>/ directory (it has run metadata)."""
    return (directory / contract.RUN_METADATA).is_file()


Classified = tuple[str, str | None, str | None, str | None]


def classify(
    parents: tuple[str, ...], name: str, run_dir: Path | None = None
) -> Classified | None:
    """(kind, event_type, container_hint, component_hint) for a file, or None if not a tree file.

    parents are the directory names above the file, nearest last; run_dir is the directory
    that would be the run-scoped <run_id>/<pid>/ for an events file (checked for metadata).
    """
    split = split_name(name)
    if split is None:
        return None
    stem, ext = split
    parent = parents[-1] if parents else ""
    grand = parents[-2] if len(parents) >= 2 else ""
    if ext == contract.EVENTS_SUFFIX:
        if parent != contract.EVENTS_DIR:
            return None
        hint = None
        if run_dir is not None and len(parents) >= 3 and _is_run_dir(run_dir):
            hint = f"{parents[-3]}.{grand}"
        return "events", stem, hint, None
    if grand == contract.CONTAINERS_DIR:
        return "logs", None, parent, stem
    kind = _DIR_KINDS.get(parent)
    if kind == "events":
        return None  # events are .jsonl; a .log there is not a tree file
    if kind == "metrics":
        return "metrics", None, stem, None
    if kind is not None:
        return kind, None, None, stem
    if stem == _MASTER_STEM:
        return "master", None, None, None
    # Run-scoped layout: <root>/<run_id>/<pid>/<component>.log
    hint = f"{grand}.{parent}" if grand else parent or None
    return "logs", None, hint, stem


def _archived_parts(parts: tuple[str, ...]) -> int | None:
    """Index just after archived/<YYYY-MM-DD>/ in parts, or None when not under an archive."""
    for i in range(len(parts) - 1):
        if parts[i] == contract.ARCHIVED_DIR and _ARCHIVE_DATE_RE.match(parts[i + 1]):
            return i + 2
    return None


def _make(base: Path, file: Path, real: Path) -> TreeFile | None:
    """A TreeFile for one regular file found under base, or None if it is not a tree file."""
    rel_parts = file.relative_to(base).parts
    abs_parts = file.parts
    cut = _archived_parts(abs_parts[:-1])
    is_archived = cut is not None
    name = abs_parts[-1]
    if cut is not None:
        # archived/<date>/<relative path>.gz: classify by the original relative path.
        if not name.endswith(contract.GZIP_SUFFIX):
            return None
        inner = (*abs_parts[cut:-1], name.removesuffix(contract.GZIP_SUFFIX))
        root_parts = abs_parts[: cut - 2]
        parents = (*root_parts, *inner[:-1])
        run_dir = Path(*root_parts, *inner[:-2]) if len(inner) >= 3 else None
        found = classify(parents, inner[-1], run_dir)
    else:
        found = classify(abs_parts[:-1], name, file.parent.parent)
    if found is None:
        return None
    kind, event_type, container_hint, component_hint = found
    stat = real.stat()
    return TreeFile(
        path=file,
        rel="/".join(rel_parts) if rel_parts else name,
        kind=kind,
        event_type=event_type,
        container_hint=container_hint,
        component_hint=component_hint,
        compressed=name.endswith(contract.GZIP_SUFFIX),
        size=stat.st_size,
        mtime=stat.st_mtime,
        archived=is_archived,
    )


def discover(path: Path, *, archived: bool = False) -> list[TreeFile]:
    """Every tree file at or below path, sorted by relative path.

    path may be the root, any directory below it, or one file. archived/<date>/ files are
    included only when archived is True (or when path itself is inside archived/). Symlinks
    are never followed out of the opened directory.
    """
    path = Path(path).resolve()
    if not path.exists():
        raise BadInputError(f"no such file or directory: {path}")
    if path.is_file():
        base = path.parent
        made = _make(base, path, path)
        if made is None:
            raise BadInputError(
                f"{path} is not a log-tree file",
                hint="Expected a .log or .jsonl file (optionally rotated or .gz).",
            )
        return [made]
    if not path.is_dir():
        raise BadInputError(f"{path} is neither a file nor a directory")
    real_base = path.resolve()
    inside_archive = contract.ARCHIVED_DIR in path.parts
    found: list[TreeFile] = []
    for dirpath, dirnames, filenames in os.walk(path, followlinks=False):
        current = Path(dirpath)
        if not (archived or inside_archive):
            dirnames[:] = [d for d in dirnames if d != contract.ARCHIVED_DIR]
        dirnames.sort()
        for name in sorted(filenames):
            file = current / name
            real = file
            if file.is_symlink():
                real = file.resolve()
                if not real.is_relative_to(real_base) or not real.is_file():
                    continue
            elif not file.is_file():
                continue
            made = _make(path, file, real)
            if made is not None:
                found.append(made)
    found.sort(key=lambda f: f.rel)
    return found


def find_root(path: Path) -> Path | None:
    """The nearest directory at or above path holding the tree marker, else None."""
    here = Path(path).resolve()
    if here.is_file():
        here = here.parent
    for candidate in (here, *here.parents):
        if (candidate / contract.TREE_MARKER).is_file():
            return candidate
    return None
