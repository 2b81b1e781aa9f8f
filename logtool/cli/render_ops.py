"""Rich renderers for the operations commands: the prune plan and result, and `logtool status`."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from logtool.retention import Action, PruneOutcome


def human_bytes(n: float) -> str:
    """1536 -> '1.5 KiB'."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


@contextlib.contextmanager
def prune_progress(enabled: bool) -> Iterator[Callable[[int, int, Action], None] | None]:
    """A progress callback drawing a bar on stderr, or None when not on a terminal."""
    if not enabled:
        yield None
        return
    from logtool.cli.common import err

    with Progress(TextColumn("prune"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.description}"), console=err, transient=True) as bar:
        task = bar.add_task("", total=None)

        def update(done: int, total: int, action: Action) -> None:
            bar.update(task, completed=done, total=total, description=action.path)

        yield update


def render_prune(outcome: PruneOutcome, out: Console, err: Console) -> None:
    """The plan (dry run) or what was done, with the bytes freed."""
    if not outcome.actions:
        err.print(f"Nothing to prune in {outcome.root}")
        return
    result = outcome.result
    title = f"Prune plan for {outcome.root}" if result is None else f"Pruned {outcome.root}"
    table = Table(title=title)
    table.add_column("action")
    table.add_column("path", overflow="fold")
    table.add_column("bytes", justify="right", no_wrap=True)
    table.add_column("reason" if result is None else "archived to", overflow="fold")
    rows = outcome.actions if result is None else result.done
    for action in rows:
        last = action.reason if result is None else result.archived_to.get(action.path, "-")
        table.add_row(action.action, action.path, human_bytes(action.bytes), last)
    out.print(table)
    if result is None:
        total = sum(a.bytes for a in outcome.actions)
        err.print(f"Dry run: {len(outcome.actions)} action(s) over {human_bytes(total)}; "
                  "nothing changed.")
        return
    for message in result.skipped:
        err.print(f"[yellow]skipped[/yellow] {message}")
    if result.temp_files_removed:
        err.print(f"Removed {result.temp_files_removed} temporary file(s) of an interrupted run")
    out.print(f"Archived {sum(a.action == 'archive' for a in result.done)}, deleted "
              f"{sum(a.action == 'delete' for a in result.done)}, freed "
              f"{human_bytes(result.bytes_freed)} ({result.bytes_freed} bytes)")


def render_status(status: dict[str, Any], out: Console) -> None:
    """Placeholder replaced with the status view."""
    out.print(status)
