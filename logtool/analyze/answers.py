"""Stored answers: a --cache command's output, printed again while its tree and code stay the same.

A repeated `logtool <command> ... --cache` whose output goes to a pipe or a file is answered
from `answers.sqlite` in the cache home, without reading the tree, opening the catalog or
loading the CLI framework. An answer is keyed by the exact arguments, the working directory
and the environment variables that shape output, and it holds only while the state it was
made from holds: every entry under the opened path (name, type, size, mtime, inode, device;
a symlink's target too), the tree markers at and above it, and logtool's own code and
queries. It is stored only from a run that exited 0 and saw the same state before and after
its work. What a run did to the catalog is a notice on stderr, not output: it is not stored.

This module runs before anything else in the CLI: it imports only small stdlib modules (and
os.path rather than pathlib, whose import alone costs a third of a replay).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
import time

from logtool import __version__

CACHE_ENV = "LOGTOOL_CACHE_DIR"
FILE_NAME = "answers.sqlite"
# Commands whose output depends only on their arguments and the tree. Not query (its SQL
# may call now() or random()), export, prune, status or demo (they do more than print).
REPLAYABLE = frozenset({"trace", "container-health", "tiers", "errors", "summary"})
# Variables that change what a command prints (width, colour) or which tree and catalog it
# reads; each is part of an answer's key.
_ENV_KEYS = ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE",
             "TERM", "COLORTERM", "TZ", "LOGTOOL_ROOT")
MAX_OUTPUT_CHARS = 4 * 1024 * 1024
MAX_ANSWERS = 256
_MARKERS = ("logtool.json", "run_metadata.json")  # contract.TREE_MARKER, contract.RUN_METADATA
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, root TEXT NOT NULL, "
    "archived INTEGER NOT NULL, state TEXT NOT NULL, output TEXT NOT NULL, "
    "skipped INTEGER NOT NULL, skipped_detail TEXT NOT NULL, made REAL NOT NULL)"
)


def cache_home() -> str:
    """Where catalogs live: $LOGTOOL_CACHE_DIR, else $XDG_CACHE_HOME/logtool or ~/.cache/logtool."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return os.path.expanduser(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return os.path.join(xdg or os.path.join(os.path.expanduser("~"), ".cache"), "logtool")


def answer_key(argv: list[str], *, stdout_is_terminal: bool) -> str | None:
    """The key of this invocation's answer, or None when it is not one to store or replay."""
    if stdout_is_terminal or "--cache" not in argv or not argv or argv[0] not in REPLAYABLE:
        return None
    if any(a in ("-h", "--help") or a.startswith("--cache=") for a in argv):
        return None
    env = "\0".join(f"{k}={os.environ.get(k, '')}" for k in _ENV_KEYS)
    try:
        cwd = os.getcwd()
    except OSError:  # the working directory was removed: relative paths mean nothing now
        return None
    return "\n".join((__version__, cwd, env, *argv))


def tree_state(path: str, archived: bool) -> str | None:
    """A digest of everything an answer about path depends on; None if path cannot be read."""
    digest = hashlib.blake2b(digest_size=24)
    digest.update(_code_state().encode())
    try:
        real = os.path.realpath(path)
        top = os.stat(real)
    except (OSError, ValueError):
        return None
    digest.update(f"{real}\0{int(archived)}\n".encode("utf-8", "surrogateescape"))
    lines: list[str] = []
    if stat.S_ISDIR(top.st_mode):
        _walk(real, "", lines)
        here = real
    else:
        lines.append(_describe("", top))
        here = os.path.dirname(real)
        # A lone events file is classified by the run metadata two levels up.
        lines.append(_describe_path(os.path.join(os.path.dirname(here), _MARKERS[1])))
    while True:  # the format marker may sit at the opened directory or any parent
        lines.append(_describe_path(os.path.join(here, _MARKERS[0])))
        parent = os.path.dirname(here)
        if parent == here:
            break
        here = parent
    digest.update("\n".join(lines).encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def _describe(rel: str, st: os.stat_result) -> str:
    return f"{rel}\0{st.st_mode}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}\0{st.st_dev}"


def _describe_path(path: str) -> str:
    try:
        return _describe(path, os.stat(path))
    except (OSError, ValueError):
        return f"{path}\0-"


def _walk(directory: str, prefix: str, lines: list[str]) -> None:
    """Every entry below directory in name order (symlinks with their targets; not followed)."""
    try:
        with os.scandir(directory) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        lines.append(f"{prefix}\0unreadable {exc.errno}")
        return
    for entry in entries:
        rel = prefix + entry.name
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            lines.append(f"{rel}\0-")
            continue
        lines.append(_describe(rel, st))
        if stat.S_ISLNK(st.st_mode):
            lines.append(_describe_path(entry.path))
        elif stat.S_ISDIR(st.st_mode):
            _walk(entry.path, rel + "/", lines)


_code_digest: list[str] = []


def _code_state() -> str:
    """logtool's version and the size and mtime of its modules and queries (once a process)."""
    if not _code_digest:
        package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        lines = [__version__]
        tops = [package]
        # A wheel ships the queries inside the package; a checkout keeps them beside it
        # (the lookup order of logtool/queries.py).
        if not os.path.isdir(os.path.join(package, "queries")):
            tops.append(os.path.join(os.path.dirname(package), "queries"))
        for top in tops:
            for dirpath, dirnames, filenames in os.walk(top):
                dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
                for name in sorted(filenames):
                    if name.endswith((".py", ".sql")):
                        lines.append(_describe_path(os.path.join(dirpath, name)))
        _code_digest.append(hashlib.blake2b("\n".join(lines).encode(), digest_size=24).hexdigest())
    return _code_digest[0]


def _connect() -> sqlite3.Connection:
    home = cache_home()
    os.makedirs(home, mode=0o700, exist_ok=True)
    con = sqlite3.connect(os.path.join(home, FILE_NAME), timeout=2.0, isolation_level=None)
    con.execute(_SCHEMA)
    return con


def lookup(argv: list[str], *, stdout_is_terminal: bool) -> tuple[str, int, str] | None:
    """(output, skipped lines, skip detail) stored for this invocation if still valid, else None.

    Never raises: anything wrong with the store only means the command runs in full.
    """
    key = answer_key(argv, stdout_is_terminal=stdout_is_terminal)
    if key is None or not os.path.exists(os.path.join(cache_home(), FILE_NAME)):
        return None
    try:
        con = _connect()
        try:
            row = con.execute("SELECT root, archived, state, output, skipped, skipped_detail "
                              "FROM answers WHERE key = ?", (key,)).fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return None
    if row is None or tree_state(row[0], bool(row[1])) != row[2]:
        return None
    return row[3], int(row[4]), row[5]


class Recording:
    """What one run tells about itself, stored as an answer when it qualifies (see module doc)."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.root: str | None = None
        self.archived = False
        self.before: str | None = None
        self.single_tree = True
        self.skips: list[tuple[int, str]] = []

    def tree(self, path: os.PathLike[str] | str, archived: bool) -> None:
        """The tree this run reads: its state now, before any of it is read."""
        if self.root is not None:
            self.single_tree = False  # two trees in one run: not an answer we can vouch for
            return
        self.root = os.path.abspath(os.fspath(path))
        self.archived = archived
        self.before = tree_state(self.root, archived)

    def skipped(self, count: int, detail: str) -> None:
        """A skipped-lines notice this run printed (replayed as a notice, not as bytes)."""
        self.skips.append((count, detail))

    def save(self, output: str) -> bool:
        """Store output as this invocation's answer if the run qualifies; True when stored."""
        if (not self.single_tree or self.root is None or self.before is None
                or len(self.skips) > 1 or len(output) > MAX_OUTPUT_CHARS
                or tree_state(self.root, self.archived) != self.before):
            return False
        count, detail = self.skips[0] if self.skips else (0, "")
        try:
            con = _connect()
            try:
                con.execute("BEGIN IMMEDIATE")
                con.execute("INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            (self.key, self.root, int(self.archived), self.before, output,
                             count, detail, time.time()))
                con.execute("DELETE FROM answers WHERE key NOT IN (SELECT key FROM answers "
                            "ORDER BY made DESC LIMIT ?)", (MAX_ANSWERS,))
                con.execute("COMMIT")
            finally:
                con.close()
        except sqlite3.OperationalError:
            return False  # busy or unwritable: keep the store, skip this answer
        except sqlite3.DatabaseError:
            # Corrupt or not ours: remove it so that the next answer starts a new store.
            try:
                os.unlink(os.path.join(cache_home(), FILE_NAME))
            except OSError:
                pass
            return False
        return True


def start(argv: list[str], *, stdout_is_terminal: bool) -> Recording | None:
    """A Recording for this invocation if its answer could be stored, else None."""
    key = answer_key(argv, stdout_is_terminal=stdout_is_terminal)
    return None if key is None else Recording(key)
