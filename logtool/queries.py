"""Finds and loads the named SQL queries shipped with logtool (queries/<name>.sql)."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from pathlib import Path

from logtool.errors import BadInputError

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


@cache
def queries_dir() -> Path:
    """The directory of .sql files: inside the installed package, else the source checkout."""
    packaged = Path(str(resources.files("logtool"))) / "queries"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "queries"


def available() -> dict[str, str]:
    """Every named query and the first line of its header comment."""
    found = {}
    for path in sorted(queries_dir().glob("*.sql")):
        first = path.read_text(encoding="utf-8").splitlines()[:1]
        found[path.stem] = first[0].lstrip("- ").strip() if first else ""
    return found


def load(name: str) -> str:
    """The SQL text of a named query; BadInputError naming the choices when it does not exist."""
    path = queries_dir() / f"{name}.sql"
    if not _NAME_RE.match(name) or not path.is_file():
        choices = ", ".join(available()) or "none"
        raise BadInputError(f"no named query {name!r}", hint=f"Available: {choices}")
    return path.read_text(encoding="utf-8")
