"""The file backend: records as text or JSON lines appended to one file of its own."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from logtool.contract import EVENTS_SUFFIX, GZIP_SUFFIX, LOG_SUFFIX
from logtool.ops.backends import BaseBackend, OptionError, Options
from logtool.ops.backends._format import json_line, text_line

TREE_SUFFIXES = (LOG_SUFFIX, EVENTS_SUFFIX, GZIP_SUFFIX)


class FileBackend(BaseBackend):
    """Appends one line per record to `path` (relative paths are relative to the tree root)."""

    @classmethod
    def parse_options(cls, options: Mapping[str, Any]) -> dict[str, Any]:
        opts = Options(options)
        path = opts.get("path", str, None) or opts.get("file_path", str, None)
        if not path:
            raise OptionError("path", "the file backend needs a path")
        if not Path(path).expanduser().is_absolute() and path.endswith(TREE_SUFFIXES):
            raise OptionError("path", f"{path!r} is inside the tree with a tree-file suffix; the "
                                      "analyzer would read it as tree records (use .txt/.ndjson)")
        parsed = {"path": path, "format": opts.choice("format", ("text", "json"), "text")}
        opts.done()
        return parsed

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        path = Path(self.options["path"]).expanduser()
        self.path = path if path.is_absolute() else self.context.root / path
        self._format = json_line if self.options["format"] == "json" else text_line
        self._fh: IO[str] | None = None

    def write(self, record: Mapping[str, Any]) -> None:
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.path.open("a", encoding="utf-8")
        self._fh.write(self._format(record) + "\n")

    def flush(self) -> None:
        if self._fh is not None:
            self._fh.flush()

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
