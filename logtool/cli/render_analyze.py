"""Rich renderers for the analyzer commands: tables, bar-chart histogram, summary."""

from __future__ import annotations

import csv
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from logtool.analyze.health import HealthReport
    from logtool.analyze.hotspots import Hotspots
    from logtool.analyze.summary import Summary
    from logtool.analyze.tiers import TiersReport

_STATUS_STYLE = {"ok": "green", "degraded": "yellow", "failing": "bold red", "silent": "dim"}


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.3f}"


def _time(value: datetime | None) -> str:
    return "-" if value is None else value.isoformat(sep=" ", timespec="milliseconds")


def _bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{n} B"


def health(report: HealthReport, console: Console) -> None:
    """The container table, thresholds in the caption."""
    t = report.thresholds
    table = Table(
        title="Container health",
        caption=(f"degraded: error rate ≥ {t.degraded_rate:.1%} or warnings ≥ {t.warning_rate:.1%}"
                 f" · failing: error rate ≥ {t.failing_rate:.1%} · silent: no record for "
                 f"{t.silent_after_s:g}s before the tree's newest"),
    )
    for name, justify in (("container", "left"), ("records", "right"), ("warnings", "right"),
                          ("errors", "right"), ("error rate", "right"),
                          ("components", "right"), ("first", "left"), ("last", "left"),
                          ("bytes", "right"), ("status", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for c in report.containers:
        style = _STATUS_STYLE.get(c.status, "")
        table.add_row(c.container_id, f"{c.records:,}", f"{c.warnings:,}", f"{c.errors:,}",
                      f"{c.error_rate:.2%}", str(c.components), _time(c.first_activity),
                      _time(c.last_activity), _bytes(c.bytes),
                      f"[{style}]{c.status}[/{style}]" if style else c.status)
    console.print(table)


def tiers(report: TiersReport, console: Console) -> None:
    """Latency table per tier (and route)."""
    table = Table(title="Tier latency (ms)",
                  caption="percentiles: quantile_cont, linear interpolation between ranks")
    table.add_column("tier", no_wrap=True)
    if report.by_route:
        table.add_column("source", no_wrap=True)
        table.add_column("target", no_wrap=True)
    for name in ("count", "measured", "p50", "p90", "p99", "max"):
        table.add_column(name, justify="right")
    for r in report.rows:
        cells = [r.tier]
        if report.by_route:
            cells += [r.source or "-", r.target or "-"]
        cells += [f"{r.count:,}", f"{r.measured:,}", _ms(r.p50_ms), _ms(r.p90_ms),
                  _ms(r.p99_ms), _ms(r.max_ms)]
        table.add_row(*cells)
    console.print(table)


def hotspots(spots: Hotspots, console: Console) -> None:
    """Top lists side by side and a horizontal bar chart of errors over time."""
    console.print(f"[bold]{spots.total:,} ERROR/CRITICAL record(s)[/bold]")
    for title, items in (("containers", spots.containers), ("components", spots.components),
                         ("messages", spots.messages), ("error codes", spots.codes)):
        if not items:
            continue
        table = Table(title=f"Top {title}", title_justify="left")
        table.add_column(title.rstrip("s"), overflow="fold")
        table.add_column("count", justify="right")
        for key, count in items:
            table.add_row(key, f"{count:,}")
        console.print(table)
    if spots.histogram:
        peak = max(b.count for b in spots.histogram) or 1
        width = 50
        chart = Table(title=f"Errors per {spots.bucket_seconds}s", title_justify="left",
                      show_header=False, box=None)
        chart.add_column("start")
        chart.add_column("bar")
        chart.add_column("count", justify="right")
        for b in spots.histogram:
            bar = "█" * max(1 if b.count else 0, round(b.count / peak * width))
            chart.add_row(b.start.isoformat(sep=" "), f"[red]{bar}[/red]", str(b.count))
        console.print(chart)


def summary(s: Summary, console: Console) -> None:
    """Key facts, then counts by kind, level and event type, then disk use."""
    facts = Table(title="Tree summary", show_header=False, title_justify="left")
    facts.add_column("what")
    facts.add_column("value")
    facts.add_row("containers", f"{len(s.containers):,}")
    facts.add_row("components", f"{sum(len(v) for v in s.containers.values()):,}")
    facts.add_row("records", f"{s.records:,}")
    facts.add_row("time span", f"{_time(s.first)} → {_time(s.last)}")
    facts.add_row("tiers seen", ", ".join(s.tiers) or "-")
    facts.add_row("skipped lines", f"{s.skipped.total:,}")
    facts.add_row("disk", _bytes(s.bytes))
    console.print(facts)
    for title, data in (("Records by kind", s.records_by_kind),
                        ("Log records by level", s.records_by_level),
                        ("Events by type", s.events_by_type)):
        if not data:
            continue
        table = Table(title=title, title_justify="left")
        table.add_column("name")
        table.add_column("records", justify="right")
        for key, n in data.items():
            table.add_row(key, f"{n:,}")
        console.print(table)
    disk = Table(title="Disk", title_justify="left")
    for name in ("kind", "archived", "files", "bytes"):
        disk.add_column(name)
    for d in s.disk:
        disk.add_row(d["kind"], "yes" if d["archived"] else "no", str(d["files"]),
                     _bytes(d["bytes"]))
    console.print(disk)
    table = Table(title="Containers", title_justify="left")
    table.add_column("container")
    table.add_column("components", overflow="fold")
    for cid, comps in s.containers.items():
        table.add_row(cid, ", ".join(comps))
    console.print(table)


def named_queries(named: list[dict[str, str]], console: Console) -> None:
    """The named queries and their descriptions."""
    table = Table(title="Named queries")
    table.add_column("name")
    table.add_column("description", overflow="fold")
    for q in named:
        table.add_row(q["name"], q["description"])
    console.print(table)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value)


def query_table(columns: list[str], rows: list[tuple[Any, ...]], console: Console) -> None:
    """Query rows as a rich table."""
    table = Table()
    for name in columns:
        table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(*(_cell(v) for v in row))
    console.print(table)


def csv_rows(columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """Query rows as CSV on stdout."""
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    sys.stdout.flush()
