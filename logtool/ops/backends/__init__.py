"""The Backend protocol, the option checker every backend uses, and the registry by type name."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

from logtool.contract import LEVEL_NUMBERS, LEVELS


@runtime_checkable
class Backend(Protocol):
    """A destination for routed records. write() runs on the router's thread, never the caller's."""

    name: str

    def should_handle(self, record: Mapping[str, Any]) -> bool:
        """Whether this backend takes the record (enabled, level, kind)."""
        ...

    def write(self, record: Mapping[str, Any]) -> None:
        """Deliver or buffer one record; may raise, the router counts the failure."""
        ...

    def flush(self) -> None:
        """Deliver anything buffered."""
        ...

    def close(self) -> None:
        """Flush and release resources; the backend is not used afterwards."""
        ...


class OptionError(Exception):
    """An option in a backend's `config` mapping is wrong; key is relative to that mapping."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message


@dataclass(frozen=True)
class BackendContext:
    """What a backend may need from its surroundings: the tree, the environment, a tree sink."""

    root: Path = Path("logs")
    environment: str = "dev"
    coordinator_id: str = "coordinator"
    # Writes one (kind, record) into the tree through the writer; None when records reaching
    # the router were already written by the writer (the usual case, see TreeBackend).
    tree_sink: Callable[[str, Mapping[str, Any]], None] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


class Options:
    """Reads a backend's `config` mapping: typed getters, unknown keys refused by done()."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = dict(data)
        self.seen: set[str] = set()

    def get(self, key: str, kind: type | tuple[type, ...], default: Any) -> Any:
        self.seen.add(key)
        if key not in self.data or self.data[key] is None:
            return default
        value = self.data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds:
            raise OptionError(key, f"must be {_names(kinds)}, not a boolean")
        if float in kinds and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kinds):
            raise OptionError(key, f"must be {_names(kinds)}, not {type(value).__name__}")
        return value

    def number(self, key: str, default: float | None, *, minimum: float = 0.0) -> Any:
        value = self.get(key, float, default)
        if value is not None and value < minimum:
            raise OptionError(key, f"must be at least {minimum:g} (got {value:g})")
        return value

    def integer(self, key: str, default: int, *, minimum: int = 0) -> int:
        value: int = self.get(key, int, default)
        if value < minimum:
            raise OptionError(key, f"must be at least {minimum} (got {value})")
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        value: str = self.get(key, str, default)
        if value not in choices:
            raise OptionError(key, f"unknown value {value!r}; use one of {', '.join(choices)}")
        return value

    def done(self) -> None:
        unknown = sorted(k for k in self.data if k not in self.seen)
        if unknown:
            known = ", ".join(sorted(self.seen)) or "none"
            raise OptionError(str(unknown[0]), f"unknown option (known: {known})")


def _names(kinds: tuple[type, ...]) -> str:
    words = {str: "a string", int: "a whole number", float: "a number", bool: "true or false",
             list: "a list", dict: "a mapping"}
    return " or ".join(words.get(k, k.__name__) for k in kinds)


def record_level(record: Mapping[str, Any]) -> int:
    """The numeric level of a record; records without one (metrics, audit) count as INFO."""
    level = record.get("level")
    return LEVEL_NUMBERS.get(level if isinstance(level, str) else "INFO", LEVEL_NUMBERS["INFO"])


class BaseBackend:
    """Shared plumbing: name, enabled flag, min_level filter, option parsing, no-op flush/close.

    A subclass sets `kinds` (record kinds it accepts, empty = all), implements parse_options
    and write.
    """

    kinds: ClassVar[tuple[str, ...]] = ()
    # True for backends with their own sender thread and timer: the router then flushes them
    # only on request (Router.flush, close), not on its periodic flush.
    self_flushing: ClassVar[bool] = False

    def __init__(self, name: str, options: Mapping[str, Any], context: BackendContext, *,
                 enabled: bool = True, min_level: str = "DEBUG") -> None:
        if min_level not in LEVELS:
            raise OptionError("min_level", f"unknown level {min_level!r}")
        self.name = name
        self.enabled = enabled
        self.min_level = LEVEL_NUMBERS[min_level]
        self.context = context
        self.options = self.parse_options(options)

    @classmethod
    def parse_options(cls, options: Mapping[str, Any]) -> Any:
        """Validate the `config` mapping and return what __init__ needs; raise OptionError."""
        Options(options).done()
        return None

    def should_handle(self, record: Mapping[str, Any]) -> bool:
        if not self.enabled or record_level(record) < self.min_level:
            return False
        return not self.kinds or record.get("kind") in self.kinds

    def write(self, record: Mapping[str, Any]) -> None:
        raise NotImplementedError

    def flush(self) -> None:
        """Nothing buffered by default."""

    def close(self) -> None:
        self.flush()


# Type name -> class, or "module:Class" imported on first use so that loading a config does
# not import prometheus_client unless a prometheus backend is configured.
_REGISTRY: dict[str, type | str] = {
    "tree": "logtool.ops.backends.tree:TreeBackend",
    "console": "logtool.ops.backends.console:ConsoleBackend",
    "file": "logtool.ops.backends.file:FileBackend",
    "prometheus": "logtool.ops.backends.prometheus:PrometheusBackend",
    "webhook": "logtool.ops.backends.webhook:WebhookBackend",
}


def register_backend(type_name: str, cls: type) -> None:
    """Make a backend class available to config files as `type: <type_name>`."""
    _REGISTRY[type_name] = cls


def registered_types() -> tuple[str, ...]:
    """Every type name a config file may use."""
    return tuple(sorted(_REGISTRY))


def backend_class(type_name: str) -> type:
    """The class registered under type_name (KeyError when unknown)."""
    entry = _REGISTRY[type_name]
    if isinstance(entry, str):
        module, _, attr = entry.partition(":")
        entry = getattr(importlib.import_module(module), attr)
        _REGISTRY[type_name] = entry
    assert isinstance(entry, type)
    return entry


def check_options(type_name: str, options: Mapping[str, Any]) -> None:
    """Validate a backend's options without creating it; raise OptionError."""
    cls = backend_class(type_name)
    parse = getattr(cls, "parse_options", None)
    if parse is not None:
        parse(options)


def create_backend(name: str, type_name: str, options: Mapping[str, Any],
                   context: BackendContext, *, enabled: bool = True,
                   min_level: str = "DEBUG") -> Backend:
    """Build a backend from its registered class."""
    backend = backend_class(type_name)(name, options, context, enabled=enabled,
                                       min_level=min_level)
    assert isinstance(backend, Backend)
    return backend
