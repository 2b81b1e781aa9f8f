"""The `logtool demo` command: options in, run_demo out, a summary rendered on stderr or JSON."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from logtool.cli import common

if TYPE_CHECKING:
    from logtool.demo import DemoResult

# logtool.demo's defaults, repeated so that `logtool --help` does not import the simulation;
# tests/cli/test_demo_cmd.py checks they stay equal.
DEFAULT_CONTAINERS = 50
DEFAULT_SEED = 7
DEFAULT_DURATION_S = 10.0


def register(app: typer.Typer) -> None:
    """Add this module's commands to app."""
    app.command("demo")(demo)


def demo(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Tree to write (default: $LOGTOOL_ROOT or ./logs). Must be new, "
                     "empty or an existing log tree."),
    ] = None,
    containers: Annotated[
        int, typer.Option("--containers", help="Number of strategy containers (1-999).")
    ] = DEFAULT_CONTAINERS,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: same seed, same tree.")] = (
        DEFAULT_SEED
    ),
    duration_s: Annotated[
        float, typer.Option("--duration-s", help="Simulated seconds of market data.")
    ] = DEFAULT_DURATION_S,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as JSON on stdout.")
    ] = False,
) -> None:
    """Simulate a trading workflow (data → strategies → risk → execution) into a log tree."""
    from logtool.demo import run_demo

    result = run_demo(out if out is not None else common.default_root(), containers=containers,
                      seed=seed, duration_s=duration_s)
    if as_json:
        common.print_json(result.to_dict())
    else:
        render(result)


def render(result: DemoResult) -> None:
    """What was written, grouped by top-level directory, and what to run next (on stderr)."""
    from rich.table import Table

    from logtool.demo import iter_example_commands

    err = common.err
    groups: dict[str, list[int]] = {}
    for f in result.files:
        top = f.path.split("/", 1)[0] if "/" in f.path else f.path
        files_records_bytes = groups.setdefault(top, [0, 0, 0])
        files_records_bytes[0] += 1
        files_records_bytes[1] += f.records
        files_records_bytes[2] += f.bytes
    table = Table()
    table.add_column("path")
    table.add_column("files", justify="right")
    table.add_column("records", justify="right")
    table.add_column("KiB", justify="right")
    for top, (n, records, size) in sorted(groups.items()):
        table.add_row(top, str(n), str(records), f"{size / 1024:.1f}")
    table.add_row("[bold]total[/bold]", str(len(result.files)), str(result.records),
                  f"{result.bytes / 1024:.1f}")
    err.print(table)
    verb = "Appended to the existing tree" if result.appended else "Wrote"
    err.print(f"{verb} {result.out}", markup=False, soft_wrap=True)
    err.print(
        f"{result.containers} strategy containers, seed {result.seed}, "
        f"{result.duration_s:g} simulated s: {result.signals} signals, "
        f"{result.filled} filled, {result.rejected} rejected by risk, {result.failed} failed.",
        soft_wrap=True,
    )
    if result.writer_problems:
        err.print(f"[yellow]Writer reported problems: {result.writer_problems}[/yellow]")
    err.print("Try:")
    for command in iter_example_commands(result):
        err.print(f"  {command}", markup=False, soft_wrap=True)
