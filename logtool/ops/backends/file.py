"""The file backend: records as text or JSON lines appended to one file of its own."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from logtool.contract import EVENTS_SUFFIX, GZIP_SUFFIX, LOG_SUFFIX, ROTATION_STAMP_FORMAT
from logtool.ops.backends import BaseBackend, OptionError, Options
from logtool.ops.backends._format import json_line, text_line

TREE_SUFFIXES = (LOG_SUFFIX, EVENTS_SUFFIX, GZIP_SUFFIX)


class FileBackend(BaseBackend):
    """Appends one line per record to `path` (relative paths are relative to the tree root).

    With max_size_mb the file is renamed to <stem>.<YYYYmmddTHHMMSS>[-N]<suffix> beside itself
    once it reaches that size, and a new one is started.
    """

    @classmethod
    def parse_options(cls, options: Mapping[str, Any]) -> dict[str, Any]:
        opts = Options(options)
        path = opts.get("path", str, None) or opts.get("file_path", str, None)
        if not path:
            raise OptionError("path", "the file backend needs a path")
        if not Path(path).expanduser().is_absolute() and path.endswith(TREE_SUFFIXES):
            raise OptionError("path", f"{path!r} is inside the tree with a tree-file suffix; the "
                                      "analyzer would read it as tree records (use .txt/.ndjson)")
        max_mb = opts.number("max_size_mb", None, minimum=0.001)
        parsed = {
            "path": path,
            "format": opts.choice("format", ("text", "json"), "text"),
            # Seed 002 spells rotation as `rotation: true` plus `max_size_mb`.
            "max_bytes": (int(max_mb * 2**20) if max_mb is not None
                          and opts.get("rotation", bool, True) else None),
        }
        opts.done()
        return parsed

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        path = Path(self.options["path"]).expanduser()
        self.path = path if path.is_absolute() else self.context.root / path
        self._format = json_line if self.options["format"] == "json" else text_line
        self._fh: IO[str] | None = None
        self._size = 0
        self.rotations = 0

    def write(self, record: Mapping[str, Any]) -> None:
        line = self._format(record) + "\n"
        limit = self.options["max_bytes"]
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.path.open("a", encoding="utf-8")
            self._size = self._fh.tell()
        elif limit is not None and self._size and self._size + len(line) > limit:
            self._rotate()
        assert self._fh is not None
        self._fh.write(line)
        self._size += len(line.encode())

    def _rotate(self) -> None:
        assert self._fh is not None
        self._fh.close()
        stamp = time.strftime(ROTATION_STAMP_FORMAT, time.gmtime())
        target = self.path.with_name(f"{self.path.stem}.{stamp}{self.path.suffix}")
        n = 0
        while target.exists():
            n += 1
            target = self.path.with_name(f"{self.path.stem}.{stamp}-{n}{self.path.suffix}")
        self.path.rename(target)
        self.rotations += 1
        self._fh = self.path.open("a", encoding="utf-8")
        self._size = 0

    def stats(self) -> dict[str, Any]:
        """Where the file is and how often it was rotated."""
        return {"path": str(self.path), "rotations": self.rotations}

    def flush(self) -> None:
        if self._fh is not None:
            self._fh.flush()

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
