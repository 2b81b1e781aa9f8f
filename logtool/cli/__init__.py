"""The `logtool` command: a stored --cache answer when one holds, else the typer application."""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # not typing's: see logtool/__init__.py
if TYPE_CHECKING:
    from typing import Any


def main() -> None:
    """Console-script entry point."""
    argv = sys.argv[1:]
    stored = None
    if "--cache" in argv:  # only --cache runs have stored answers (answers.answer_key)
        from logtool.analyze import answers

        stored = answers.lookup(argv, stdout_is_terminal=stdout_is_terminal())
    if stored is not None:
        output, skipped, detail = stored
        sys.stdout.write(output)
        sys.stdout.flush()
        if skipped:
            from logtool.cli import common

            common.report_skipped(skipped, detail)
        return
    from logtool.cli.application import run

    run(argv)


def stdout_is_terminal() -> bool:
    """Whether stdout is a terminal (stored answers are only for pipes and files)."""
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def __getattr__(name: str) -> Any:
    # `from logtool.cli import app` (tests, embedding) builds the full application on demand.
    if name in ("app", "LogtoolGroup"):
        from logtool.cli import application as module

        return module.full_app() if name == "app" else module.LogtoolGroup
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
