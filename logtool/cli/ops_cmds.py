"""`logtool status`: the operational state of a log tree, read back from disk."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def status(
    path: Annotated[
        Path | None, typer.Argument(help="Root of the log tree [default: ./logs]")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="Config file (YAML/TOML) for retention and thresholds."),
    ] = None,
    recent: Annotated[
        int, typer.Option(min=0, help="How many recent lifecycle actions and alerts to show.")
    ] = 10,
    json: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False,
) -> None:
    """Containers, files and bytes, oldest log, disk vs. cap, retention, writer counters, alerts."""
    from logtool.cli import common
    from logtool.ops.config import load_config
    from logtool.ops.status import read_status

    cfg = load_config(config) if config is not None else None
    if path is not None:
        root = path
    elif cfg is not None and cfg.source is not None:
        root = cfg.coordinator.log_dir
    else:
        root = common.default_root()
    data = read_status(root, cfg, recent=recent)
    if json:
        common.print_json(data)
    else:
        from logtool.cli.render_ops import render_status

        render_status(data, common.out)
    common.report_skipped(data["skipped_lines"], " in system/ files")


def register(app: typer.Typer) -> None:
    """Add this module's commands to app."""
    app.command("status")(status)
