"""Correlation ids in contextvars: the `correlation()` block, set/get, and thread propagation."""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

# One ContextVar for the whole process: asyncio tasks copy it when created, threads see it
# only when started through copy_context().run (see propagate()).
CORRELATION_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "logtool_correlation_id", default=None
)


def get_correlation_id() -> str | None:
    """The correlation id active in the current context, or None."""
    return CORRELATION_ID.get()


def set_correlation_id(correlation_id: str | None) -> contextvars.Token[str | None]:
    """Make correlation_id active in the current context; returns a token for reset()."""
    value = None if correlation_id is None else str(correlation_id)
    return CORRELATION_ID.set(value)


def reset_correlation_id(token: contextvars.Token[str | None]) -> None:
    """Restore the correlation id that was active before set_correlation_id returned token."""
    CORRELATION_ID.reset(token)


def new_correlation_id(prefix: str = "trade") -> str:
    """A fresh id like `trade_3f2a9c1b7d4e` (the prefix picks the correlations/ topic)."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


@contextmanager
def correlation(correlation_id: str | None = None, *, prefix: str = "trade") -> Iterator[str]:
    """Run a block with correlation_id active (a new one with prefix when None); yields the id."""
    cid = new_correlation_id(prefix) if correlation_id is None else str(correlation_id)
    token = CORRELATION_ID.set(cid)
    try:
        yield cid
    finally:
        CORRELATION_ID.reset(token)


def propagate(fn: Callable[P, R]) -> Callable[P, R]:
    """Wrap fn so it runs in a copy of the caller's current context (use as a Thread target)."""
    ctx = contextvars.copy_context()

    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        return ctx.copy().run(fn, *args, **kwargs)

    run.__wrapped__ = fn  # type: ignore[attr-defined]
    return run
