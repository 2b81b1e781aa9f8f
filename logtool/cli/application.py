"""The typer application: LogtoolError becomes `Error:` + exit code; commands load on demand."""

from __future__ import annotations

import functools
import importlib
import sys
from typing import Any

import typer
from typer.core import TyperGroup

from logtool.errors import LogtoolError

# Each module defines register(app); command bodies import the library lazily so that
# `logtool trace` does not pay for duckdb or pyarrow when it does not need them. A run
# registers only the module of the command it names: building every command's parameters
# costs ~60 ms, more than a stored answer takes in all.
COMMANDS: dict[str, str] = {
    "trace": "logtool.cli.trace_cmd",
    "container-health": "logtool.cli.analyze_cmds",
    "tiers": "logtool.cli.analyze_cmds",
    "errors": "logtool.cli.analyze_cmds",
    "export": "logtool.cli.analyze_cmds",
    "query": "logtool.cli.analyze_cmds",
    "summary": "logtool.cli.analyze_cmds",
    "prune": "logtool.cli.prune_cmd",
    "status": "logtool.cli.ops_cmds",
    "demo": "logtool.cli.demo_cmd",
}
COMMAND_MODULES = tuple(dict.fromkeys(COMMANDS.values()))


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


def build(command: str | None = None) -> typer.Typer:
    """The application with every command, or only with the module defining command."""
    app = typer.Typer(
        cls=LogtoolGroup,
        name="logtool",
        help="Analyze container-aware log trees: trace ids, container health, tier latencies, "
        "errors.",
        no_args_is_help=True,
        pretty_exceptions_show_locals=False,
        add_completion=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.callback()(_root)
    wanted = COMMANDS.get(command or "")
    modules = () if command == "version" else (wanted,) if wanted else COMMAND_MODULES
    for name in modules:
        importlib.import_module(name).register(app)
    if wanted is not None:  # typer builds the parameters of every registered command
        app.registered_commands = [c for c in app.registered_commands if c.name == command]
    app.command()(version)
    return app


@functools.cache
def full_app() -> typer.Typer:
    """The application with every command (built once a process)."""
    return build()


def _root() -> None:
    """Analyze container-aware log trees: trace ids, container health, tier latencies, errors."""


def version() -> None:
    """Print logtool's version and the log-tree format version it reads and writes."""
    from logtool import __version__
    from logtool.contract import FORMAT_VERSION

    typer.echo(f"logtool {__version__} (tree format {FORMAT_VERSION})")


def run(argv: list[str]) -> None:
    """Run the command argv names; a --cache answer that qualifies is stored for next time."""
    from logtool.cli import common, stdout_is_terminal

    app = build(argv[0] if argv else None)
    recording = None
    if "--cache" in argv:  # answers imports sqlite3 and hashlib: only for runs it may keep
        from logtool.analyze import answers

        recording = answers.start(argv, stdout_is_terminal=stdout_is_terminal())
    if recording is None:
        app(args=argv)
        return
    tee = _Tee(sys.stdout)
    sys.stdout = tee
    common.recording = recording
    succeeded = False
    try:
        app(args=argv)
        succeeded = True
    except SystemExit as exc:  # typer ends every run this way
        succeeded = exc.code in (0, None)
        raise
    finally:
        sys.stdout = tee.inner
        common.recording = None
        if succeeded:
            recording.save("".join(tee.parts))


class _Tee:
    """stdout that also keeps what was written (what a stored answer prints again)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return int(self.inner.write(text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
