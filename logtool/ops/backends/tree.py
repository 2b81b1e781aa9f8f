"""The tree backend: the default destination, the log tree itself, reached through the writer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from logtool.ops.backends import BaseBackend


class TreeBackend(BaseBackend):
    """Hands records to the tree writer through the context's tree_sink.

    Records that reach the router from the writer's hook are already in the tree (the writer
    enqueues them before dispatching), so without a sink there is nothing left to do and the
    record counts as written; with a sink (a program feeding the router directly) the sink
    enqueues it on the writer, which owns every file handle in the tree.
    """

    def write(self, record: Mapping[str, Any]) -> None:
        sink = self.context.tree_sink
        if sink is not None:
            sink(str(record.get("kind", "text")), record)
