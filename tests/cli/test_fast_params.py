"""Tests for logtool.cli.fast_params: simple parameters converted without typer's pydantic path."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from typer.testing import CliRunner

from logtool.cli import LogtoolGroup, fast_params

runner = CliRunner()


def make_app(seen: dict[str, Any]) -> typer.Typer:
    """A two-command app on logtool's group class recording what its command received."""
    app = typer.Typer(cls=LogtoolGroup)

    @app.command()
    def run(
        name: str,
        where: Path,
        count: Annotated[int, typer.Option()] = 1,
        ratio: Annotated[float, typer.Option()] = 0.5,
        flag: Annotated[bool, typer.Option("--flag")] = False,
        maybe: Annotated[Path | None, typer.Option()] = None,
    ) -> None:
        seen.update(name=name, where=where, count=count, ratio=ratio, flag=flag, maybe=maybe)

    @app.command()
    def other() -> None:
        seen["other"] = True

    return app


def test_simple_values_convert_to_their_annotated_types() -> None:
    """str, Path, int, float, bool and optional Path arrive with the annotated types."""
    seen: dict[str, Any] = {}
    result = runner.invoke(
        make_app(seen),
        ["run", "x", "some/dir", "--count", "7", "--ratio", "2.5", "--flag", "--maybe", "m"],
    )
    assert result.exit_code == 0, result.output
    assert seen == {
        "name": "x",
        "where": Path("some/dir"),
        "count": 7,
        "ratio": 2.5,
        "flag": True,
        "maybe": Path("m"),
    }
    assert type(seen["count"]) is int and isinstance(seen["where"], Path)


def test_bad_number_is_a_usage_error_naming_the_option() -> None:
    """A value that is not an int exits 2 and names the option."""
    seen: dict[str, Any] = {}
    result = runner.invoke(make_app(seen), ["run", "x", "d", "--count", "many"])
    assert result.exit_code == 2
    assert "count" in result.output and "many" in result.output
    assert seen == {}


def test_install_leaves_rich_annotations_to_typer() -> None:
    """Parameters with checks (exists=True) or non-simple types keep typer's coercion."""
    app = typer.Typer(cls=LogtoolGroup)

    @app.command()
    def check(
        path: Annotated[Path, typer.Argument(exists=True)],
        items: Annotated[list[int] | None, typer.Option()] = None,
    ) -> None:
        pass

    @app.command()
    def noop() -> None:
        pass

    command = typer.main.get_command(app).get_command(None, "check")  # type: ignore[attr-defined,arg-type]
    fast_params.install(command.params)
    assert all(p._runtime_param is None for p in command.params)
    result = runner.invoke(app, ["check", "/definitely/not/here"])
    assert result.exit_code == 2
