"""`logtool trace`: one correlation id's path across containers (imports nothing heavy up front)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def trace(
    correlation_id: Annotated[str, typer.Argument(help="The correlation id to follow.")],
    path: Annotated[
        Path | None, typer.Argument(help="Tree root or any directory below it [default: ./logs]")
    ] = None,
    json: Annotated[bool, typer.Option("--json", help="Print the trace as JSON.")] = False,
    archived: Annotated[bool, typer.Option("--archived", help="Also read archived/.")] = False,
    cache: Annotated[
        bool, typer.Option("--cache", help="Use the persistent catalog (kept outside the tree).")
    ] = False,
) -> None:
    """The path of a correlation id across containers: visits, hops (tier, latency), errors."""
    from logtool.analyze.trace import trace as run_trace
    from logtool.cli import common

    root = path if path is not None else common.default_root()
    common.note_tree(root, archived)
    result = run_trace(root, correlation_id, archived=archived, cache=cache)
    data = result.to_json()
    common.report_catalog(data.pop("cache"))
    if json:
        common.print_json(data)
    else:
        from logtool.cli.render_trace import render

        render(data, common.out)
    common.report_skipped(result.skipped, _skip_detail(data["skipped_detail"]))


def _skip_detail(detail: list[dict[str, object]]) -> str:
    """' (first: file line N: reason)' for the skip notice, empty when nothing was skipped."""
    if not detail:
        return ""
    first = detail[0]
    where = f"{first['file']} line {first['line']}" if first.get("line") else str(first["file"])
    return f" among the candidate lines (first: {where}: {first['reason']})"


def register(app: typer.Typer) -> None:
    """Add this module's commands to app."""
    app.command("trace")(trace)
