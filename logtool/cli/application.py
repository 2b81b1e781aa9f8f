"""The typer application: registers every command; LogtoolError becomes `Error:` + exit code."""

from __future__ import annotations

import importlib
from typing import Any

import typer
from typer.core import TyperGroup

from logtool.errors import LogtoolError

# Each module defines register(app); command bodies import the library lazily so that
# `logtool trace` does not pay for duckdb or pyarrow when it does not need them.
COMMAND_MODULES = (
    "logtool.cli.trace_cmd",
    "logtool.cli.analyze_cmds",
    "logtool.cli.prune_cmd",
    "logtool.cli.ops_cmds",
    "logtool.cli.demo_cmd",
)


class LogtoolGroup(TyperGroup):
    """The one place where LogtoolError meets the user."""

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except LogtoolError as exc:
            typer.echo(f"Error: {exc}", err=True)
            raise typer.Exit(exc.exit_code) from None

    # Simple parameters skip typer's pydantic coercion (~0.2 s per run): see cli/fast_params.py.
    def get_command(self, ctx: typer.Context, cmd_name: str) -> Any:  # type: ignore[override]
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            from logtool.cli import fast_params

            help_option = command.get_help_option(ctx) if ctx is not None else None
            fast_params.install([*command.params, help_option])
        return command

    def get_help_option(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        option = super().get_help_option(ctx)
        from logtool.cli import fast_params

        fast_params.install([option])
        return option


app = typer.Typer(
    cls=LogtoolGroup,
    name="logtool",
    help="Analyze container-aware log trees: trace ids, container health, tier latencies, errors.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)



@app.callback()
def _root() -> None:
    """Analyze container-aware log trees: trace ids, container health, tier latencies, errors."""


for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def main() -> None:
    """Console-script entry point."""
    app()


@app.command()
def version() -> None:
    """Print logtool's version and the log-tree format version it reads and writes."""
    from logtool import __version__
    from logtool.contract import FORMAT_VERSION

    typer.echo(f"logtool {__version__} (tree format {FORMAT_VERSION})")
