"""Rich rendering of a trace: a waterfall of container visits and hops, then errors and events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

MAX_BAR = 50


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _bar(start: datetime, end: datetime, origin: datetime, span_ms: float, style: str,
         cells: int) -> Text:
    """A bar placed on the trace's time axis (at least one cell wide)."""
    if span_ms <= 0:
        return Text("█", style=style)
    left = int((start - origin).total_seconds() * 1000 / span_ms * cells)
    right = int((end - origin).total_seconds() * 1000 / span_ms * cells)
    left = min(max(left, 0), cells - 1)
    width = max(1, min(right, cells) - left)
    return Text(" " * left + "█" * width, style=style)


def render(data: dict[str, Any], console: Console) -> None:
    """Print the waterfall for trace data (the --json document) to console."""
    visits = data["visits"]
    hops = data["hops"]
    title = (
        f"trace {data['correlation_id']}: {len(visits)} visit(s), total {data['total_ms']:.3f} ms"
    )
    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    name_width = max([9, *(len(str(v["container_id"])) for v in visits)])
    # What the other columns leave of the terminal goes to the timeline.
    cells = min(MAX_BAR, max(10, console.width - name_width - 52))
    table.add_column("#", no_wrap=True, min_width=2)
    table.add_column("container / hop", no_wrap=True, min_width=name_width)
    table.add_column("start", no_wrap=True)
    table.add_column("ms", justify="right", no_wrap=True)
    table.add_column("recs", justify="right", no_wrap=True)
    table.add_column("errs", justify="right", no_wrap=True)
    table.add_column("timeline", no_wrap=True)
    if visits:
        origin = _ts(visits[0]["start"])
        span = data["total_ms"]
        for i, visit in enumerate(visits):
            style = "red" if visit["errors"] else "green"
            table.add_row(
                str(i + 1),
                Text(str(visit["container_id"]), style="bold"),
                visit["start"][11:26],
                f"{visit['duration_ms']:.3f}",
                str(visit["records"]),
                Text(str(visit["errors"]), style="red" if visit["errors"] else ""),
                _bar(_ts(visit["start"]), _ts(visit["end"]), origin, span, style, cells),
            )
            if i < len(hops):
                hop = hops[i]
                tier = hop["tier"] or "?"
                table.add_row(
                    "",
                    Text(f" ↓ {tier}", style="dim"),
                    "",
                    Text(f"{hop['latency_ms']:.3f}", style="yellow"),
                    "",
                    "",
                    _bar(_ts(visit["end"]), _ts(visits[i + 1]["start"]), origin, span, "yellow",
                         cells),
                )
    console.print(table)
    if data["error_records"]:
        console.print(Text(f"\nErrors on the way ({data['errors']}):", style="bold red"))
        for rec in data["error_records"]:
            console.print(
                f"  {rec['timestamp']}  {rec['container_id']}/{rec['component_name']}  "
                f"{rec['level']}: {rec['message']}",
                markup=False,
            )
    if data["events"]:
        console.print(Text(f"\nDomain events ({len(data['events'])}):", style="bold"))
        for event in data["events"]:
            console.print(f"  {event.get('timestamp')}  {event['event_type']}", markup=False)
    if data["flows"]:
        console.print(Text(f"\nFlow records ({len(data['flows'])}):", style="bold"))
        for flow in data["flows"]:
            latency = flow.get("latency_ms")
            console.print(
                f"  {flow.get('timestamp')}  {flow.get('source')} → {flow.get('target')}  "
                f"tier={flow.get('tier')}  latency_ms={latency}",
                markup=False,
            )
    console.print(
        f"\nTotal {data['total_ms']:.3f} ms, {data['records']} record(s), "
        f"{data['errors']} error(s), path: {' → '.join(str(p) for p in data['path'])}",
        markup=False,
    )
