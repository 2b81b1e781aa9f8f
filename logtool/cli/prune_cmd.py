"""`logtool prune`: apply the retention policy to a tree (archive, delete, size cap)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def prune(
    path: Annotated[
        Path | None, typer.Argument(help="Root of the log tree [default: ./logs]")
    ] = None,
    archive_after_days: Annotated[
        float, typer.Option(min=0, help="Gzip logs into archived/ after this many days.")
    ] = 7,
    delete_after_days: Annotated[
        float, typer.Option(min=0, help="Delete archives older than this many days.")
    ] = 30,
    max_size_gb: Annotated[
        float | None,
        typer.Option(min=0, help="Total size cap: oldest archives go first, then oldest logs."),
    ] = None,
    min_age_minutes: Annotated[
        float, typer.Option(min=0, help="Never touch files modified this recently.")
    ] = 10,
    no_compress: Annotated[
        bool, typer.Option("--no-compress", help="Move files into archived/ without gzip.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan, change nothing.")
    ] = False,
    json: Annotated[bool, typer.Option("--json", help="Print the plan or result as JSON.")] = False,
) -> None:
    """Archive old logs, delete old archives, enforce a size cap (the one command that writes)."""
    from logtool.cli import common, render_ops
    from logtool.retention import RetentionPolicy
    from logtool.retention import prune as run_prune

    policy = RetentionPolicy(
        archive_after_days=archive_after_days,
        delete_after_days=delete_after_days,
        max_total_size_gb=max_size_gb,
        compression_enabled=not no_compress,
        min_age_minutes=min_age_minutes,
    )
    root = path if path is not None else common.default_root()
    with render_ops.prune_progress(enabled=common.progress_enabled() and not dry_run) as progress:
        outcome = run_prune(root, policy, dry_run=dry_run, progress=progress)
    if json:
        common.print_json(
            outcome.plan_json() if outcome.result is None
            else {"plan": outcome.plan_json(), **outcome.result.as_dict()}
        )
    else:
        render_ops.render_prune(outcome, common.out, common.err)
    if outcome.result is not None and outcome.result.errors:
        for message in outcome.result.errors:
            common.err.print(f"[red]failed[/red] {message}", markup=True)
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add this module's commands to app."""
    app.command("prune")(prune)
