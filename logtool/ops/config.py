"""The one configuration loader: a YAML or TOML file plus environment overrides, validated."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

import yaml

from logtool.contract import LEVEL_NUMBERS, LEVELS, is_valid_path_part
from logtool.errors import ConfigError
from logtool.retention import RetentionPolicy

# Environment variables. LOGTOOL_CONFIG names the file; the short names below are aliases for
# common keys; any other key is LOGTOOL_ + its dotted path with "__" for the dots, upper-case:
#   LOGTOOL_LOGGING__RETENTION_POLICY__MAX_AGE_DAYS=14
# Values are parsed as YAML scalars ("14" -> 14, "true" -> True, "[a, b]" -> a list).
CONFIG_ENV: Final = "LOGTOOL_CONFIG"
ENV_PREFIX: Final = "LOGTOOL_"
ENV_SEPARATOR: Final = "__"
ENV_ALIASES: Final = {
    "LOGTOOL_ROOT": ("coordinator", "log_dir"),
    "LOGTOOL_COORDINATOR_ID": ("coordinator", "coordinator_id"),
    "LOGTOOL_ENV": ("logging", "environment"),
    "LOGTOOL_LEVEL": ("logging", "log_levels", "containers"),
}

ENVIRONMENTS: Final = ("dev", "prod")
RECORD_KINDS: Final = ("text", "metric", "counter", "latency", "audit")
TREE_BACKEND: Final = "tree"  # always present, writes through the tree writer

_VAR_RE: Final = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


# ---------------------------------------------------------------- the configuration


@dataclass(frozen=True)
class CoordinatorConfig:
    """Who owns the tree and where it lives."""

    coordinator_id: str = "coordinator"
    log_dir: Path = Path("logs")


@dataclass(frozen=True)
class LogLevels:
    """Minimum level per record category."""

    system: str = "INFO"
    containers: str = "DEBUG"
    event_flows: str = "INFO"
    lifecycle_management: str = "INFO"


@dataclass(frozen=True)
class PerformanceConfig:
    """Writer and router tuning: flush cadence of the backends, rotation size, gzip of rotated
    files (with retention_policy.compression_enabled: both must be on)."""

    async_writing: bool = True
    batch_size: int = 1000
    flush_interval_seconds: float = 5.0
    max_file_size_mb: float = 100.0
    enable_compression: bool = True


@dataclass(frozen=True)
class MonitoringConfig:
    """Alert thresholds and how often the manager checks them."""

    disk_usage_alert_threshold_gb: float | None = 8.0
    error_rate_alert_threshold: float = 10.0  # errors per minute per container
    performance_metrics_enabled: bool = True
    check_interval_seconds: float = 60.0


@dataclass(frozen=True)
class ContainerConfig:
    """One container's logging settings from `containers.<id>`."""

    container_id: str
    type: str | None = None
    level: str = "DEBUG"
    components: tuple[str, ...] = ()


@dataclass(frozen=True)
class BackendConfig:
    """A named destination: its type, whether it is on, its minimum level, type options."""

    name: str
    type: str
    enabled: bool = True
    min_level: str = "DEBUG"
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RoutingRule:
    """Records of these kinds, within these levels, in these environments, go to these backends.

    An empty `kinds` or `environments` means any; a level bound of None means unbounded.
    """

    name: str
    backends: tuple[str, ...]
    kinds: tuple[str, ...] = ()
    min_level: str | None = None
    max_level: str | None = None
    environments: tuple[str, ...] = ()

    def matches(self, kind: str, level: str, environment: str) -> bool:
        """Whether a record of this kind and level, in this environment, is routed by the rule."""
        if self.kinds and kind not in self.kinds:
            return False
        if self.environments and environment not in self.environments:
            return False
        number = LEVEL_NUMBERS.get(level, LEVEL_NUMBERS["INFO"])
        if self.min_level is not None and number < LEVEL_NUMBERS[self.min_level]:
            return False
        return not (self.max_level is not None and number > LEVEL_NUMBERS[self.max_level])


@dataclass(frozen=True)
class LoggingConfig:
    """The `logging` section: retention, levels, performance, monitoring and routing."""

    environment: str = "dev"
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    log_levels: LogLevels = field(default_factory=LogLevels)
    performance: PerformanceConfig = field(default_factory=PerformanceConfig)
    monitoring: MonitoringConfig = field(default_factory=MonitoringConfig)
    backends: Mapping[str, BackendConfig] = field(default_factory=dict)
    routing_rules: tuple[RoutingRule, ...] = ()
    global_context: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LogtoolConfig:
    """Everything logtool reads from its config file and environment."""

    source: str | None = None  # the file it came from, None for built-in defaults
    coordinator: CoordinatorConfig = field(default_factory=CoordinatorConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    containers: Mapping[str, ContainerConfig] = field(default_factory=dict)

    def container_level(self, container_id: str) -> str:
        """The minimum level for a container: its own setting, else log_levels.containers."""
        cfg = self.containers.get(container_id)
        return cfg.level if cfg is not None else self.logging.log_levels.containers


# ---------------------------------------------------------------- built-in routing (seed 002)


def default_backends(environment: str) -> dict[str, BackendConfig]:
    """The backends used when the file names none: tree, console (dev), file, prometheus.

    The file backends write beside the tree's own files under `routed/` with suffixes the
    analyzer does not read (.txt, .ndjson): the same records are in the tree already.
    """
    return {
        TREE_BACKEND: BackendConfig(TREE_BACKEND, "tree"),
        "console": BackendConfig("console", "console", enabled=environment == "dev"),
        "file": BackendConfig(
            "file", "file", min_level="WARNING",
            options={"path": f"routed/{environment}-warnings.txt", "format": "text"},
        ),
        "audit_file": BackendConfig(
            "audit_file", "file", options={"path": "routed/audit.ndjson", "format": "json"},
        ),
        # No port and no gateway: series are kept in the registry until one is configured.
        "prometheus": BackendConfig("prometheus", "prometheus"),
    }


def default_rules(environment: str) -> tuple[RoutingRule, ...]:
    """Seed 002's routing: metrics to Prometheus, warnings up to a file, debug/info to the
    console in dev only, audit to a file plus the tree; everything also lands in the tree."""
    del environment  # the rules carry their own environment filter
    return (
        RoutingRule("everything_to_tree", (TREE_BACKEND,)),
        RoutingRule("metrics_to_prometheus", ("prometheus",),
                    kinds=("metric", "counter", "latency")),
        RoutingRule("warnings_to_file", ("file", "console"), kinds=("text",), min_level="WARNING"),
        RoutingRule(
            "debug_to_console_dev_only", ("console",), kinds=("text",), max_level="INFO",
            environments=("dev",),
        ),
        RoutingRule("audit_to_file", ("audit_file",), kinds=("audit",)),
    )


# ---------------------------------------------------------------- loading


def load_config(path: str | Path | None = None,
                env: Mapping[str, str] | None = None) -> LogtoolConfig:
    """Read path (or $LOGTOOL_CONFIG; built-in defaults when neither), apply environment
    overrides, validate everything; raise ConfigError naming the file and key on any problem."""
    env = os.environ if env is None else env
    if path is None and env.get(CONFIG_ENV):
        path = env[CONFIG_ENV]
    raw: dict[str, Any] = {}
    source: str | None = None
    if path is not None:
        source = str(path)
        raw = _read_file(Path(path))
    _apply_env(raw, env)
    return _build(raw, source or "<defaults>", env, file_source=source)


def _read_file(path: Path) -> dict[str, Any]:
    where = str(path)
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file: {exc.strerror or exc}", source=where) from None
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            data: Any = tomllib.loads(text.decode("utf-8"))
        elif suffix in (".yaml", ".yml"):
            data = yaml.safe_load(text)
        else:
            raise ConfigError(
                f"unknown config file type {suffix or '(none)'!r}; use .yaml, .yml or .toml",
                source=where,
            )
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text (byte {exc.start})", source=where) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", source=where) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        opened = getattr(exc, "context_mark", None)
        if opened is not None and mark is not None and opened.line != mark.line:
            problem += f" (opened at line {opened.line + 1}, column {opened.column + 1})"
        raise ConfigError(f"invalid YAML at {line}{problem}", source=where) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"the top level must be a mapping, not {_type_name(data)}", source=where)
    return data


def _apply_env(raw: dict[str, Any], env: Mapping[str, str]) -> None:
    """Write environment overrides into the raw tree; they win over the file."""
    overrides: list[tuple[str, tuple[str, ...]]] = []
    for name in sorted(env):
        if name in ENV_ALIASES:
            overrides.append((name, ENV_ALIASES[name]))
        elif name.startswith(ENV_PREFIX) and ENV_SEPARATOR in name:
            parts = tuple(p.lower() for p in name[len(ENV_PREFIX):].split(ENV_SEPARATOR))
            if not all(parts):
                raise ConfigError("empty key part in variable name", source=f"environment {name}")
            overrides.append((name, parts))
    for name, parts in overrides:
        try:
            value = yaml.safe_load(env[name]) if env[name].strip() else ""
        except yaml.YAMLError:
            value = env[name]
        if isinstance(value, dict):
            raise ConfigError("a variable sets one value, not a mapping",
                              source=f"environment {name}")
        node = raw
        for i, part in enumerate(parts[:-1]):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(
                    f"{'.'.join(parts[: i + 1])} is not a section", source=f"environment {name}"
                )
            node = child
        node[parts[-1]] = _EnvValue(value, name)


@dataclass(frozen=True)
class _EnvValue:
    """A value that came from an environment variable, so errors can name the variable."""

    value: Any
    variable: str


def _type_name(value: Any) -> str:
    return {
        bool: "a boolean", int: "an integer", float: "a number", str: "a string",
        list: "a list", dict: "a mapping", type(None): "null",
    }.get(type(value), type(value).__name__)


class _Section:
    """Reads one mapping of the raw config, checking each key's type and refusing unknown keys."""

    def __init__(self, data: Any, path: str, source: str, env: Mapping[str, str]) -> None:
        self.path = path
        self.source = source
        self.env = env
        if isinstance(data, _EnvValue):
            raise ConfigError("must be a section, not a single value",
                              source=f"environment {data.variable}", key=path or None)
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ConfigError(f"must be a mapping, not {_type_name(data)}", source=source,
                              key=path or None)
        self.data = data
        self.seen: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def fail(self, name: str, message: str) -> ConfigError:
        raw = self.data.get(name)
        src = f"environment {raw.variable}" if isinstance(raw, _EnvValue) else self.source
        return ConfigError(message, source=src, key=self.key(name))

    def has(self, name: str) -> bool:
        return name in self.data

    def raw(self, name: str) -> Any:
        self.seen.add(name)
        value = self.data.get(name)
        return value.value if isinstance(value, _EnvValue) else value

    def section(self, name: str) -> _Section:
        self.seen.add(name)
        return _Section(self.data.get(name), self.key(name), self.source, self.env)

    def get(self, name: str, check: Callable[[_Section, str, Any], Any], default: Any) -> Any:
        if name not in self.data:
            self.seen.add(name)
            return default
        return check(self, name, self.raw(name))

    def done(self) -> None:
        unknown = [k for k in self.data if k not in self.seen]
        if unknown:
            known = ", ".join(sorted(self.seen)) or "none"
            raise self.fail(str(unknown[0]), f"unknown key (known here: {known})")


# Checkers: (section, key, value) -> validated value, raising a ConfigError naming the key.


def _str(sec: _Section, name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise sec.fail(name, f"must be a string, not {_type_name(value)}")
    return _expand(sec, name, value)


def _expand(sec: _Section, name: str, value: str) -> str:
    def sub(m: re.Match[str]) -> str:
        var, default = m.group(1), m.group(2)
        if var in sec.env:
            return sec.env[var]
        if default is not None:
            return default
        raise sec.fail(name, f"${{{var}}} is not set in the environment (use ${{{var}:-default}})")

    return _VAR_RE.sub(sub, value)


def _bool(sec: _Section, name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise sec.fail(name, f"must be true or false, not {_type_name(value)}")
    return value


def _number(sec: _Section, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise sec.fail(name, f"must be a number, not {_type_name(value)}")
    if value < 0:
        raise sec.fail(name, f"must not be negative (got {value})")
    return float(value)


def _positive(sec: _Section, name: str, value: Any) -> float:
    number = _number(sec, name, value)
    if number <= 0:
        raise sec.fail(name, f"must be greater than 0 (got {value})")
    return number


def _optional_number(sec: _Section, name: str, value: Any) -> float | None:
    return None if value is None else _number(sec, name, value)


def _positive_int(sec: _Section, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise sec.fail(name, f"must be a whole number, not {_type_name(value)}")
    if value <= 0:
        raise sec.fail(name, f"must be greater than 0 (got {value})")
    return value


def _level(sec: _Section, name: str, value: Any) -> str:
    if not isinstance(value, str) or value.upper() not in LEVELS:
        raise sec.fail(name, f"unknown level {value!r}; use one of {', '.join(LEVELS)}")
    return value.upper()


def _path_part(sec: _Section, name: str, value: Any) -> str:
    text = _str(sec, name, value)
    if not is_valid_path_part(text):
        raise sec.fail(name, f"{text!r} is not usable as a file name part ([A-Za-z0-9._-], "
                             "1-128 characters, not starting with a dot)")
    return text


def _choice(choices: Iterable[str]) -> Callable[[_Section, str, Any], str]:
    allowed = tuple(choices)

    def check(sec: _Section, name: str, value: Any) -> str:
        if not isinstance(value, str) or value.lower() not in allowed:
            raise sec.fail(name, f"unknown value {value!r}; use one of {', '.join(allowed)}")
        return value.lower()

    return check


_Check = Callable[[_Section, str, Any], Any]


def _str_list(item: _Check) -> Callable[[_Section, str, Any], tuple[str, ...]]:
    def check(sec: _Section, name: str, value: Any) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise sec.fail(name, f"must be a list of strings, not {_type_name(value)}")
        out: list[str] = []
        for i, v in enumerate(value):
            holder = _Section({f"{name}[{i}]": v}, sec.path, sec.source, sec.env)
            out.append(item(holder, f"{name}[{i}]", v))
        return tuple(out)

    return check


def _mapping(sec: _Section, name: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise sec.fail(name, f"must be a mapping, not {_type_name(value)}")
    return {str(k): _expand_any(sec, f"{name}.{k}", v) for k, v in value.items()}


def _expand_any(sec: _Section, name: str, value: Any) -> Any:
    if isinstance(value, str):
        return _expand(sec, name, value)
    if isinstance(value, list):
        return [_expand_any(sec, f"{name}[{i}]", v) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {str(k): _expand_any(sec, f"{name}.{k}", v) for k, v in value.items()}
    return value


# ---------------------------------------------------------------- building


def _build(raw: dict[str, Any], source: str, env: Mapping[str, str],
           file_source: str | None) -> LogtoolConfig:
    top = _Section(raw, "", source, env)
    coordinator = _coordinator(top.section("coordinator"))
    logging_cfg = _logging(top.section("logging"))
    containers = _containers(top.section("containers"))
    top.done()
    return LogtoolConfig(file_source, coordinator, logging_cfg, containers)


def _coordinator(sec: _Section) -> CoordinatorConfig:
    d = CoordinatorConfig()
    cfg = CoordinatorConfig(
        coordinator_id=sec.get("coordinator_id", _path_part, d.coordinator_id),
        log_dir=Path(sec.get("log_dir", _str, str(d.log_dir))),
    )
    sec.done()
    return cfg


def _logging(sec: _Section) -> LoggingConfig:
    environment = sec.get("environment", _choice(ENVIRONMENTS), "dev")
    retention = _retention(sec.section("retention_policy"))
    levels = _levels(sec.section("log_levels"))
    performance = _performance(sec.section("performance"))
    monitoring = _monitoring(sec.section("monitoring"))
    backends = _backends(sec.section("backends"), environment)
    rules = _rules(sec, backends, environment)
    global_context = sec.get("global_context", _mapping, {})
    sec.done()
    return LoggingConfig(environment, retention, levels, performance, monitoring, backends,
                         rules, global_context)


def _retention(sec: _Section) -> RetentionPolicy:
    d = RetentionPolicy()
    policy = RetentionPolicy(
        archive_after_days=sec.get("archive_after_days", _optional_number, d.archive_after_days),
        delete_after_days=sec.get("max_age_days", _optional_number, d.delete_after_days),
        max_total_size_gb=sec.get("max_total_size_gb", _optional_number, d.max_total_size_gb),
        compression_enabled=sec.get("compression_enabled", _bool, d.compression_enabled),
        min_age_minutes=sec.get("min_age_minutes", _number, d.min_age_minutes),
    )
    if (policy.archive_after_days is not None and policy.delete_after_days is not None
            and policy.delete_after_days < policy.archive_after_days):
        raise sec.fail("max_age_days", f"({policy.delete_after_days:g}) must not be less than "
                       f"archive_after_days ({policy.archive_after_days:g})")
    sec.done()
    return policy


def _levels(sec: _Section) -> LogLevels:
    d = LogLevels()
    levels = LogLevels(**{
        name: sec.get(name, _level, getattr(d, name))
        for name in ("system", "containers", "event_flows", "lifecycle_management")
    })
    sec.done()
    return levels


def _performance(sec: _Section) -> PerformanceConfig:
    d = PerformanceConfig()
    cfg = PerformanceConfig(
        async_writing=sec.get("async_writing", _bool, d.async_writing),
        batch_size=sec.get("batch_size", _positive_int, d.batch_size),
        flush_interval_seconds=sec.get("flush_interval_seconds", _positive,
                                       d.flush_interval_seconds),
        max_file_size_mb=sec.get("max_file_size_mb", _positive, d.max_file_size_mb),
        enable_compression=sec.get("enable_compression", _bool, d.enable_compression),
    )
    if not cfg.async_writing:
        # Accepting it would promise synchronous writes the writer does not make.
        raise sec.fail("async_writing", "must be true: logtool's writer always writes from "
                       "its own background thread (logtool.flush() waits for it)")
    sec.done()
    return cfg


def _monitoring(sec: _Section) -> MonitoringConfig:
    d = MonitoringConfig()
    cfg = MonitoringConfig(
        disk_usage_alert_threshold_gb=sec.get("disk_usage_alert_threshold_gb", _optional_number,
                                              d.disk_usage_alert_threshold_gb),
        error_rate_alert_threshold=sec.get("error_rate_alert_threshold", _number,
                                           d.error_rate_alert_threshold),
        performance_metrics_enabled=sec.get("performance_metrics_enabled", _bool,
                                            d.performance_metrics_enabled),
        check_interval_seconds=sec.get("check_interval_seconds", _positive,
                                       d.check_interval_seconds),
    )
    sec.done()
    return cfg


def _backends(sec: _Section, environment: str) -> dict[str, BackendConfig]:
    # The built-in backends are always defined, so the default rules always resolve; an entry
    # in the file with the same name replaces the built-in one.
    backends: dict[str, BackendConfig] = default_backends(environment)
    for name in list(sec.data):
        key_ok = isinstance(name, str) and re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", name)
        if not key_ok:
            raise sec.fail(str(name), "backend names are 1-64 characters of [A-Za-z0-9_.-]")
        b = sec.section(name)
        type_name = b.get("type", _str, name)
        options = b.get("config", _mapping, {})
        _check_backend(b, type_name, options)
        backends[name] = BackendConfig(
            name=name,
            type=type_name,
            enabled=b.get("enabled", _bool, True),
            min_level=b.get("min_level", _level, "DEBUG"),
            options=options,
        )
        b.done()
    return backends


def _check_backend(sec: _Section, type_name: str, options: Mapping[str, Any]) -> None:
    """The type must be registered and its options valid; nothing is started here."""
    from logtool.ops import backends as registry  # imports only the named backend's module

    if type_name not in registry.registered_types():
        raise sec.fail("type", f"unknown backend type {type_name!r}; "
                               f"use one of {', '.join(registry.registered_types())}")
    try:
        registry.check_options(type_name, options)
    except registry.OptionError as exc:
        raise ConfigError(exc.message, source=sec.source,
                          key=f"{sec.key('config')}.{exc.key}") from None


def _rules(sec: _Section, backends: Mapping[str, BackendConfig],
           environment: str) -> tuple[RoutingRule, ...]:
    if not sec.has("routing_rules") or sec.raw("routing_rules") in (None, []):
        sec.seen.add("routing_rules")
        return default_rules(environment)
    value = sec.raw("routing_rules")
    if not isinstance(value, list):
        raise sec.fail("routing_rules", f"must be a list of rules, not {_type_name(value)}")
    rules: list[RoutingRule] = []
    for i, item in enumerate(value):
        r = _Section(item, sec.key(f"routing_rules[{i}]"), sec.source, sec.env)
        name = r.get("name", _str, f"rule_{i}")
        targets = r.get("backends", _str_list(_str), ())
        if not targets:
            raise r.fail("backends", "a rule needs at least one backend")
        for j, target in enumerate(targets):
            if target not in backends:
                raise r.fail(f"backends[{j}]", f"no backend named {target!r} "
                                               f"(defined: {', '.join(sorted(backends))})")
        kinds = r.get("log_types", _str_list(_choice(RECORD_KINDS)), ())
        rule = RoutingRule(
            name=name,
            backends=targets,
            kinds=kinds,
            min_level=r.get("min_level", _level, None),
            max_level=r.get("max_level", _level, None),
            environments=r.get("environments", _str_list(_choice(ENVIRONMENTS)), ()),
        )
        if (rule.min_level and rule.max_level
                and LEVEL_NUMBERS[rule.min_level] > LEVEL_NUMBERS[rule.max_level]):
            raise r.fail("max_level", f"{rule.max_level} is below min_level {rule.min_level}")
        r.done()
        rules.append(rule)
    return tuple(rules)


def _containers(sec: _Section) -> dict[str, ContainerConfig]:
    out: dict[str, ContainerConfig] = {}
    for cid in list(sec.data):
        if not is_valid_path_part(cid):
            raise sec.fail(str(cid), "container ids are file name parts ([A-Za-z0-9._-], "
                                     "1-128 characters, not starting with a dot)")
        c = sec.section(cid)
        ctype = c.get("type", _str, None)
        lg = c.section("logging")
        out[cid] = ContainerConfig(
            container_id=cid,
            type=ctype,
            level=lg.get("level", _level, "DEBUG"),
            components=lg.get("components", _str_list(_path_part), ()),
        )
        lg.done()
        c.done()
    return out


def with_overrides(config: LogtoolConfig, **changes: Any) -> LogtoolConfig:
    """A copy of config with top-level fields replaced (tests and programs building configs)."""
    return replace(config, **changes)
