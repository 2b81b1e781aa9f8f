"""Plain str/bool/int/float/Path coercion for CLI parameters, so a run does not import pydantic.

typer 0.29 coerces every non-flag value (and even the --help flag) through a pydantic
TypeAdapter built on first use; importing pydantic and building the adapters costs about
0.2 s per process here, more than `logtool trace` needs for its whole search. For the simple
annotations our commands use, an equivalent conversion is a one-liner. Anything else (enums,
lists, datetimes, ranges, path checks, custom parsers) keeps typer's own coercion. If typer's
private hooks change, install() quietly does nothing and typer behaves as before.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

_SIMPLE = (str, bool, int, float, Path)
_PATH_CHECKS = ("exists", "resolve_path", "writable", "allow_dash")


def _light_param_class() -> Any:
    """A RuntimeParam subclass converting simple annotations without pydantic (None if absent)."""
    try:
        from typer._click.exceptions import BadParameter
        from typer._coercion import RuntimeParam
    except ImportError:
        return None

    class LightRuntimeParam(RuntimeParam):
        """Converts str/bool/int/float/Path values the way the pydantic adapter would."""

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            kind = self.annotation
            if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
                return value
            try:
                if kind is bool:
                    return _to_bool(value)
                return kind(value)
            except (TypeError, ValueError):
                label = getattr(kind, "__name__", str(kind))
                raise BadParameter(
                    f"{value!r} is not a valid {label}.", ctx=ctx, param=param
                ) from None

    return LightRuntimeParam


def _to_bool(value: Any) -> bool:
    text = str(value).strip().lower()
    if text in ("1", "true", "t", "yes", "y", "on"):
        return True
    if text in ("0", "false", "f", "no", "n", "off"):
        return False
    raise ValueError(value)


def _is_simple(param: Any) -> bool:
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is None or getattr(param, "_runtime_param", "missing") is not None:
        return False
    info = descriptor.parameter_info
    if descriptor.file_annotation is not None or getattr(info, "parser", None) is not None:
        return False
    if descriptor.annotation not in _SIMPLE or getattr(param, "multiple", False):
        return False
    if getattr(param, "nargs", 1) != 1:
        return False
    if descriptor.annotation is Path and any(getattr(info, c, False) for c in _PATH_CHECKS):
        return False
    return not (getattr(info, "min", None) is not None or getattr(info, "max", None) is not None)


def install(params: Any) -> None:
    """Give each simple parameter in params a pydantic-free converter (idempotent, best effort)."""
    light = _light_param_class()
    if light is None:
        return
    for param in params:
        if param is None or not _is_simple(param):
            continue
        descriptor = param.type_descriptor
        try:
            param._runtime_param = light(
                parameter_info=descriptor.parameter_info, annotation=descriptor.annotation
            )
        except (TypeError, AttributeError):
            return
