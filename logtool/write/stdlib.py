"""LoggingHandler: a logging.Handler that puts stdlib (and third-party) records into the tree."""

from __future__ import annotations

import logging
from typing import Any, Final

from logtool.write import runtime
from logtool.write.logger import ContainerLogger, get_logger

# Attributes every LogRecord has; anything else on a record came from `extra=` and is context.
_STANDARD_ATTRS: Final = frozenset(
    vars(logging.LogRecord("n", logging.INFO, "p", 1, "m", None, None)).keys()
) | {"message", "asctime", "taskName"}
_FORMATTER: Final = logging.Formatter()


class LoggingHandler(logging.Handler):
    """Routes records of any stdlib logger to containers/<container_id>/<component>.log.

    The level maps to the contract names (custom numbers round up to the next name), the
    message is record.getMessage(), and the context holds the stdlib logger name, module,
    function, line, any `extra=` fields and, with exc_info, the formatted traceback. The
    active correlation id is the caller's (emit runs in the logging thread). Never raises.
    """

    def __init__(self, container_id: str, component: str = "stdlib",
                 level: int | str = logging.NOTSET) -> None:
        super().__init__(level)
        self._logger: ContainerLogger = get_logger(container_id, component)

    @property
    def logger(self) -> ContainerLogger:
        """The ContainerLogger records are written through."""
        return self._logger

    def emit(self, record: logging.LogRecord) -> None:
        """Write one stdlib record into the tree."""
        try:
            context: dict[str, Any] = {
                "logger": record.name,
                "module": record.module,
                "function": record.funcName,
                "line": record.lineno,
            }
            for key, value in vars(record).items():
                if key not in _STANDARD_ATTRS and not key.startswith("_"):
                    context[key] = value
            if record.exc_info and record.exc_info[0] is not None:
                context["traceback"] = (self.formatter or _FORMATTER).formatException(
                    record.exc_info
                )
            if record.stack_info:
                context["stack_info"] = record.stack_info
            self._logger.log(runtime.level_name(record.levelno), record.getMessage(), **context)
        except Exception as exc:  # noqa: BLE001 - the writer never raises into its host
            runtime.note_error("LoggingHandler.emit", exc)

    def handleError(self, record: logging.LogRecord) -> None:
        """Count instead of printing to stderr: the host program's output stays clean."""
        runtime.count("api_errors")

    def flush(self) -> None:
        """Flush the tree writer."""
        runtime.flush(1.0)
