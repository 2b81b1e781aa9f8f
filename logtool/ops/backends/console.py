"""The console backend: records as coloured lines on stderr through rich (development)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.markup import escape

from logtool.ops.backends import BaseBackend, Options
from logtool.ops.backends._format import text_line

_STYLES = {"DEBUG": "dim", "INFO": "", "WARNING": "yellow", "ERROR": "red", "CRITICAL": "bold red"}


class ConsoleBackend(BaseBackend):
    """Prints one line per record on stderr; never stdout, which belongs to command output."""

    @classmethod
    def parse_options(cls, options: Mapping[str, Any]) -> dict[str, Any]:
        opts = Options(options)
        parsed = {"color": opts.get("color", bool, True)}
        opts.done()
        return parsed

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.console = Console(stderr=True, highlight=False, soft_wrap=True,
                               no_color=not self.options["color"])

    def write(self, record: Mapping[str, Any]) -> None:
        style = _STYLES.get(str(record.get("level", "INFO")), "")
        line = escape(text_line(record))
        self.console.print(f"[{style}]{line}[/{style}]" if style else line)
