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


def _gb(value: Any) -> str:
    return "-" if value is None else f"{value:g} GB"


def render_status(status: dict[str, Any], out: Console) -> None:
    """The status view: summary, containers, retention and writer, lifecycle and alerts."""
    running = {True: "started, no shutdown recorded", False: "shut down",
               None: "unknown"}[status["manager_running"]]
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    head.add_row("tree", status["root"])
    head.add_row("coordinator", f"{status['coordinator_id'] or '-'} (manager {running})")
    active = status["active_containers"]
    head.add_row("active containers", f"{len(active)}: {', '.join(active)}" if active else "0")
    used = f"{human_bytes(status['total_bytes'])} in {status['files']} files"
    if status["size_cap_gb"]:
        used += f", {status['size_cap_used'] * 100:.1f}% of the {_gb(status['size_cap_gb'])} cap"
    head.add_row("disk usage", used)
    head.add_row("alert threshold", _gb(status["disk_alert_threshold_gb"]))
    head.add_row("archived", f"{status['archived_files']} files, "
                             f"{human_bytes(status['archived_bytes'])}")
    oldest = status["oldest_log"]
    head.add_row("oldest log", f"{oldest['path']} ({oldest['modified']})" if oldest else "-")
    r = status["retention"]
    head.add_row("retention", f"archive after {r.get('archive_after_days')} d, delete archives "
                 f"after {r.get('max_age_days')} d, cap {_gb(r.get('max_total_size_gb'))}, "
                 f"gzip {'on' if r.get('compression_enabled') else 'off'} "
                 f"({status['retention_source']})")
    out.print(head)

    if status["containers"]:
        table = Table(title="Containers", title_justify="left")
        for name, justify in (("container", "left"), ("files", "right"), ("bytes", "right"),
                              ("last write", "left"), ("errors/min", "right")):
            table.add_column(name, justify=justify)  # type: ignore[arg-type]
        rates = status.get("errors_per_minute") or {}
        for cid, row in status["containers"].items():
            mark = "" if row["recently_active"] else " [dim](idle)[/dim]"
            table.add_row(cid + mark, str(row["files"]), human_bytes(row["bytes"]),
                          row["last_modified"], str(rates.get(cid, "-")))
        out.print(table)

    writer = status.get("writer")
    if writer:
        table = Table(title=f"Writer counters (at {status['writer_stats_at']})",
                      title_justify="left")
        table.add_column("counter")
        table.add_column("value", justify="right")
        for key, value in writer.items():
            table.add_row(key, f"{value:.3f}" if isinstance(value, float) else str(value))
        out.print(table)

    for title, rows in (("Recent lifecycle actions", status["recent_lifecycle"]),
                        ("Recent alerts", status["recent_alerts"])):
        table = Table(title=title, title_justify="left")
        table.add_column("time", no_wrap=True)
        table.add_column("operation")
        table.add_column("message", overflow="fold")
        for row in rows:
            style = "red" if row["level"] in ("ERROR", "CRITICAL") else (
                "yellow" if row["level"] == "WARNING" else "")
            table.add_row(str(row["timestamp"]), str(row["operation"]), str(row["message"]),
                          style=style)
        if not rows:
            table.add_row("-", "-", "none")
        out.print(table)
