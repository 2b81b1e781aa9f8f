"""Run-scoped trees for backtests: <root>/<run_id>/<pid>/ with run_metadata.json beside the logs."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path
from typing import Any

import orjson

from logtool.contract import FORMAT_VERSION, RUN_METADATA
from logtool.write import runtime
from logtool.write.events import DomainEventLogger
from logtool.write.logger import ContainerLogger, text


class RunLogs:
    """One run's tree: component loggers (container_id = run_id) and a DomainEventLogger.

    Satisfies LifecycleManaged (initialize / cleanup / get_status).
    """

    def __init__(self, run_id: str, pid: int | None = None, **metadata: Any) -> None:
        self.run_id = text(run_id)
        self.pid = _pid(pid)
        self.metadata = metadata
        self.created = dt.datetime.fromtimestamp(runtime._STATE.clock(), dt.UTC).strftime(
            "%Y-%m-%dT%H:%M:%S.%fZ"
        )
        self.relative_dir = f"{runtime.path_part(self.run_id)}/{runtime.path_part(str(self.pid))}"
        self.path = runtime._STATE.resolved_root() / self.relative_dir
        self._base = self.relative_dir + "/"
        self._loggers: dict[str, ContainerLogger] = {}
        self.events = DomainEventLogger(self.path, correlation_id=self.run_id, pid=self.pid)
        self.metadata_written = False

    def get_logger(self, component: str) -> ContainerLogger:
        """The logger writing <run dir>/<component>.log (no master.log mirror: the run tree
        stays self-contained; correlations and metrics go below the run dir too)."""
        key = str(component)
        logger = self._loggers.get(key)
        if logger is None:
            relpath = f"{self._base}{runtime.path_part(key)}.log"
            logger = ContainerLogger(self.run_id, key, relpath=relpath, base=self._base,
                                     mirror=None)
            self._loggers[key] = logger
        return logger

    def initialize(self) -> None:
        """Create the run directory and write run_metadata.json atomically; never raises."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            body = {
                "format_version": FORMAT_VERSION,
                "run_id": self.run_id,
                "pid": self.pid,
                "created": self.created,
                "metadata": self.metadata,
            }
            data = orjson.dumps(body, default=repr, option=orjson.OPT_INDENT_2)
            fd, tmp = tempfile.mkstemp(prefix=".run_metadata.", dir=self.path)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data + b"\n")
                Path(tmp).replace(self.path / RUN_METADATA)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            self.metadata_written = True
        except Exception as exc:  # noqa: BLE001 - the writer never raises into its host
            runtime.note_error("create_run_logs", exc)

    def cleanup(self) -> None:
        """Flush what this run logged so far."""
        runtime.flush()

    def get_status(self) -> dict[str, Any]:
        """Where the run writes and what it has written."""
        return {
            "run_id": self.run_id,
            "pid": self.pid,
            "path": str(self.path),
            "metadata_written": self.metadata_written,
            "components": sorted(self._loggers),
            "events": dict(self.events.counts),
        }

    def __repr__(self) -> str:
        return f"RunLogs({self.run_id!r}, pid={self.pid})"


def _pid(pid: Any) -> int:
    if pid is None:
        return os.getpid()
    try:
        return int(pid)
    except Exception as exc:  # noqa: BLE001 - the writer never raises into its host
        runtime.note_error("create_run_logs(pid)", exc)
        return os.getpid()


def create_run_logs(run_id: str, pid: int | None = None, **metadata: Any) -> RunLogs:
    """Make <root>/<run_id>/<pid>/ with run_metadata.json and return its RunLogs."""
    run = RunLogs(run_id, pid, **metadata)
    run.initialize()
    return run
