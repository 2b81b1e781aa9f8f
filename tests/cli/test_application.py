"""Tests for logtool.cli.application: commands registered on demand behave as the full app."""

from __future__ import annotations

from typer.main import get_command
from typer.testing import CliRunner

from logtool.cli import app as full
from logtool.cli import application

runner = CliRunner()


def names(app: object) -> set[str]:
    """The command names a typer app registers."""
    group = get_command(app)  # type: ignore[arg-type]
    return set(group.commands)  # type: ignore[attr-defined]


def test_command_table_lists_every_registered_command() -> None:
    """COMMANDS (the on-demand table) names exactly the full app's commands but version."""
    assert names(full) == {*application.COMMANDS, "version"}


def test_a_named_command_is_built_alone() -> None:
    """A named command is built alone (with version); version and unknown names as needed."""
    assert names(application.build("trace")) == {"trace", "version"}
    assert names(application.build("tiers")) == {"tiers", "version"}
    assert names(application.build("version")) == {"version"}
    assert names(application.build("nonsense")) == names(full)
    assert names(application.build(None)) == names(full)


def test_partial_app_answers_help_and_version_like_the_full_one() -> None:
    """`trace --help` and `version` print the same through the partial and the full app."""
    for argv in (["trace", "--help"], ["version"]):
        partial = runner.invoke(application.build(argv[0]), argv)
        whole = runner.invoke(full, argv)
        assert partial.exit_code == 0, partial.output
        assert partial.output == whole.output


def test_unknown_command_still_lists_the_real_ones() -> None:
    """A misspelt command gets typer's usage error from the full app (exit 2)."""
    result = runner.invoke(application.build("trcae"), ["trcae"])
    assert result.exit_code == 2, result.output
    assert "No such command" in result.output
