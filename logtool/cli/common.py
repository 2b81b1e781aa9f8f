"""Shared CLI plumbing: the default tree path, stdout/stderr consoles, JSON output, skip notices."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from logtool.analyze.answers import Recording

ROOT_ENV = "LOGTOOL_ROOT"
PIPED_WIDTH = 200

# Data goes to stdout, messages and progress to stderr. The consoles are made on first use
# (PEP 562) so that commands printing JSON never import rich (~50 ms per process).
out: Console
err: Console
_consoles: dict[str, Console] = {}
# Set by application.run while a --cache run may become a stored answer (answers.py).
recording: Recording | None = None


def __getattr__(name: str) -> Console:
    if name not in ("out", "err"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return _console(name)


def _console(name: str) -> Console:
    if name not in _consoles:
        from rich.console import Console

        console = (
            Console(highlight=False, soft_wrap=True)
            if name == "out"
            else Console(stderr=True, highlight=False)
        )
        # Piped tables would be squeezed into rich's 80-column default and cut to "stra…":
        # a pipe or a file has room, so give it some unless COLUMNS says otherwise.
        if name == "out" and not console.is_terminal and "COLUMNS" not in os.environ:
            console.width = PIPED_WIDTH
        _consoles[name] = console
    return _consoles[name]


def default_root() -> Path:
    """The tree to read when no PATH is given: $LOGTOOL_ROOT, else ./logs."""
    return Path(os.environ.get(ROOT_ENV) or "logs")


def note_tree(root: Path, archived: bool) -> None:
    """Tell a recording run which tree it reads, before reading it."""
    if recording is not None:
        recording.tree(root, archived)


def print_json(data: Any) -> None:
    """Write data to stdout as indented JSON (datetimes, paths and the like as strings)."""
    import orjson  # here, not at the top: a stored answer is printed without it

    sys.stdout.write(
        orjson.dumps(
            data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS, default=str
        ).decode()
        + "\n"
    )
    sys.stdout.flush()


def report_skipped(skipped: int, detail: str = "") -> None:
    """Tell the user on stderr how many input lines were skipped as unreadable."""
    if recording is not None:
        recording.skipped(skipped, detail)
    if skipped:
        _notice(f"Skipped {skipped} unreadable line(s){detail}", "yellow")


# What a --cache catalog (or trace index) report calls each kind of file it had to read.
_CATALOG_WORK = (("new", "new"), ("appended", "grown"), ("reparsed", "re-read"),
                 ("reindexed", "re-read"), ("dropped", "gone"))


def report_catalog(stats: dict[str, Any] | None) -> None:
    """Tell the user on stderr what the --cache catalog had to read this run, if anything.

    A notice, not data: the answer on stdout is the same whether or not the catalog was
    brought up to date, which is what lets a stored answer be printed again (answers.py).
    """
    if not stats:
        return
    parts = [f"{stats[key]} {label}" for key, label in _CATALOG_WORK if stats.get(key)]
    if not parts:
        return
    read = int(stats.get("bytes_parsed", stats.get("bytes_indexed", 0)) or 0)
    _notice(f"Catalog {stats.get('dir', '')} brought up to date: {', '.join(parts)} file(s), "
            f"{read / 1024**2:.1f} MiB read", "dim")


def _notice(text: str, style: str) -> None:
    if "err" in _consoles or _stderr_is_terminal():
        from rich.markup import escape

        _console("err").print(f"[{style}]{escape(text)}[/{style}]")
    else:
        # Piped stderr gets no colour anyway: plain text spares a --json run importing rich.
        sys.stderr.write(text + "\n")
        sys.stderr.flush()


def progress_enabled() -> bool:
    """Progress bars only on a terminal: piped output stays quiet."""
    if "err" in _consoles:
        return _consoles["err"].is_terminal
    return _stderr_is_terminal()


def _stderr_is_terminal() -> bool:
    """rich's terminal test for stderr (TTY_COMPATIBLE, FORCE_COLOR, isatty) without rich."""
    forced = os.environ.get("TTY_COMPATIBLE", "")
    if forced in ("0", "1"):
        return forced == "1"
    if "FORCE_COLOR" in os.environ:
        return os.environ["FORCE_COLOR"] != ""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False
