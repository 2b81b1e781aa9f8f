"""Fixtures for the writer API tests: a fresh tree root per test, and a reader for its files."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

import logtool
from logtool.write import runtime

Reader = Callable[[str], list[dict[str, Any]]]


@pytest.fixture
def tree(tmp_path: Path) -> Iterator[Path]:
    """Configure the writer for tmp_path/logs at DEBUG, and restore the defaults afterwards."""
    root = tmp_path / "logs"
    logtool.configure(root=root, level="DEBUG")
    runtime.reset_counters()
    yield root
    logtool.shutdown()
    logtool.set_router(None)
    logtool.set_global_context()
    logtool.configure(root=tmp_path / "after", level="INFO")
    runtime.reset_counters()


@pytest.fixture
def read(tree: Path) -> Reader:
    """Flush, then parse every JSON line of tree/<relpath> (an empty list if it is absent)."""

    def reader(relpath: str) -> list[dict[str, Any]]:
        assert logtool.flush(10.0)
        path = tree / relpath
        if not path.exists():
            return []
        return [orjson.loads(line) for line in path.read_bytes().splitlines()]

    return reader
