"""Tests for logtool.ops.config: YAML and TOML files, environment overrides, every invalid case."""

from __future__ import annotations

from pathlib import Path

import pytest

from logtool.errors import ConfigError
from logtool.ops.config import RoutingRule, load_config

SEED_YAML = """\
coordinator:
  coordinator_id: "main_trading_coordinator"
  log_dir: "/var/logs/admf-pc"

logging:
  retention_policy:
    max_age_days: 30
    archive_after_days: 7
    max_total_size_gb: 10.0
    compression_enabled: true
  log_levels:
    system: "INFO"
    containers: "DEBUG"
    event_flows: "INFO"
    lifecycle_management: "INFO"
  performance:
    async_writing: true
    batch_size: 1000
    flush_interval_seconds: 5
    max_file_size_mb: 100
    enable_compression: true
  monitoring:
    disk_usage_alert_threshold_gb: 8.0
    error_rate_alert_threshold: 10  # errors per minute
    performance_metrics_enabled: true

containers:
  data_container:
    type: "data"
    logging:
      level: "INFO"
      components: ["data_handler", "stream_processor"]
  strategy_ensemble:
    type: "strategy_ensemble"
    logging:
      level: "DEBUG"
      components: ["strategy_manager", "signal_aggregator"]
"""

ROUTING_TOML = """\
[coordinator]
coordinator_id = "c1"
log_dir = "tree"

[logging]
environment = "prod"

[logging.retention_policy]
max_age_days = 14
archive_after_days = 2

[logging.backends.errors]
type = "file"
min_level = "ERROR"
config = { path = "routed/errors.txt", format = "text" }

[logging.backends.hook]
type = "webhook"
enabled = false
config = { url = "http://127.0.0.1:9/hook" }

[[logging.routing_rules]]
name = "errors"
log_types = ["text"]
min_level = "ERROR"
backends = ["errors", "hook"]

[logging.global_context]
service = "trading"
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_file() -> None:
    """No file and no environment gives the documented defaults and seed routing."""
    cfg = load_config(env={})
    assert cfg.source is None
    assert cfg.coordinator.log_dir == Path("logs")
    assert cfg.logging.environment == "dev"
    assert cfg.logging.retention.delete_after_days == 30
    assert {"tree", "console", "file", "prometheus"} <= set(cfg.logging.backends)
    assert any(r.kinds == ("audit",) for r in cfg.logging.routing_rules)


def test_seed_yaml_loads(tmp_path: Path) -> None:
    """The seed's coordinator_config.yaml loads with every section mapped to typed fields."""
    cfg = load_config(write(tmp_path, "c.yaml", SEED_YAML), env={})
    assert cfg.coordinator.coordinator_id == "main_trading_coordinator"
    assert cfg.coordinator.log_dir == Path("/var/logs/admf-pc")
    r = cfg.logging.retention
    assert (r.archive_after_days, r.delete_after_days, r.max_total_size_gb) == (7, 30, 10.0)
    assert r.compression_enabled is True
    assert cfg.logging.performance.batch_size == 1000
    assert cfg.logging.monitoring.error_rate_alert_threshold == 10
    assert cfg.containers["data_container"].components == ("data_handler", "stream_processor")
    assert cfg.container_level("data_container") == "INFO"
    assert cfg.container_level("unknown_container") == "DEBUG"


def test_toml_with_routing(tmp_path: Path) -> None:
    """A TOML file adds backends beside the built-in ones, and defines rules and context."""
    cfg = load_config(write(tmp_path, "c.toml", ROUTING_TOML), env={})
    assert cfg.logging.environment == "prod"
    assert set(cfg.logging.backends) == {"errors", "hook", "tree", "console", "file",
                                         "audit_file", "prometheus"}
    assert cfg.logging.backends["errors"].min_level == "ERROR"
    assert cfg.logging.backends["hook"].enabled is False
    assert cfg.logging.routing_rules == (
        RoutingRule("errors", ("errors", "hook"), kinds=("text",), min_level="ERROR"),
    )
    assert cfg.logging.global_context == {"service": "trading"}


def test_env_overrides_win_over_file(tmp_path: Path) -> None:
    """Aliases and LOGTOOL_SECTION__KEY variables override the file, parsed as YAML scalars."""
    path = write(tmp_path, "c.yaml", SEED_YAML)
    cfg = load_config(path, env={
        "LOGTOOL_ROOT": str(tmp_path / "elsewhere"),
        "LOGTOOL_ENV": "prod",
        "LOGTOOL_LEVEL": "warning",
        "LOGTOOL_LOGGING__RETENTION_POLICY__MAX_AGE_DAYS": "60",
        "LOGTOOL_LOGGING__MONITORING__PERFORMANCE_METRICS_ENABLED": "false",
    })
    assert cfg.coordinator.log_dir == tmp_path / "elsewhere"
    assert cfg.logging.environment == "prod"
    assert cfg.logging.log_levels.containers == "WARNING"
    assert cfg.logging.retention.delete_after_days == 60
    assert cfg.logging.monitoring.performance_metrics_enabled is False
    assert cfg.logging.backends["console"].enabled is False  # prod default: no console


def test_config_path_from_env(tmp_path: Path) -> None:
    """LOGTOOL_CONFIG names the file when no path is given."""
    path = write(tmp_path, "c.toml", ROUTING_TOML)
    cfg = load_config(env={"LOGTOOL_CONFIG": str(path)})
    assert cfg.source == str(path)
    assert cfg.coordinator.coordinator_id == "c1"


def test_variable_expansion(tmp_path: Path) -> None:
    """${VAR} and ${VAR:-default} expand in strings; an unset variable without default fails."""
    text = 'coordinator:\n  log_dir: "${BASE}/logs"\n  coordinator_id: "${CID:-main}"\n'
    cfg = load_config(write(tmp_path, "c.yaml", text), env={"BASE": "/srv"})
    assert cfg.coordinator.log_dir == Path("/srv/logs")
    assert cfg.coordinator.coordinator_id == "main"
    with pytest.raises(ConfigError, match=r"coordinator\.log_dir.*BASE"):
        load_config(write(tmp_path, "d.yaml", text), env={})


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        ("logging:\n  retention_policy:\n    max_age_days: -1\n",
         "logging.retention_policy.max_age_days", "negative"),
        ("logging:\n  retention_policy:\n    max_age_days: soon\n",
         "logging.retention_policy.max_age_days", "must be a number"),
        ("logging:\n  retention_policy:\n    max_age_dayz: 3\n",
         "logging.retention_policy.max_age_dayz", "unknown key"),
        ("logging:\n  log_levels:\n    system: LOUD\n", "logging.log_levels.system", "LOUD"),
        ("logging:\n  performance:\n    batch_size: 0\n", "logging.performance.batch_size",
         "greater than 0"),
        ("logging:\n  performance:\n    batch_size: 2.5\n", "logging.performance.batch_size",
         "whole number"),
        ("logging:\n  performance:\n    enable_compression: 'yes'\n",
         "logging.performance.enable_compression", "true or false"),
        ("logging:\n  environment: staging\n", "logging.environment", "staging"),
        ("coordinator:\n  coordinator_id: ../etc\n", "coordinator.coordinator_id", "file name"),
        ("containers:\n  c1:\n    logging:\n      level: LOUD\n", "containers.c1.logging.level",
         "LOUD"),
        ("logging:\n  backends:\n    x:\n      type: carrier_pigeon\n", "logging.backends.x.type",
         "carrier_pigeon"),
        ("logging:\n  backends:\n    f:\n      type: file\n"
         "      config: {format: xml, path: a.txt}\n",
         "logging.backends.f.config.format", "xml"),
        ("logging:\n  backends:\n    f:\n      type: file\n"
         "      config: {path: containers/a.log}\n",
         "logging.backends.f.config.path", "tree"),
        ("logging:\n  routing_rules:\n    - backends: [nowhere]\n",
         "logging.routing_rules[0].backends[0]", "nowhere"),
        ("logging:\n  routing_rules:\n    - backends: [tree]\n      log_types: [gossip]\n",
         "logging.routing_rules[0].log_types[0]", "gossip"),
        ("logging:\n  routing_rules:\n    - backends: [tree]\n      min_level: ERROR\n"
         "      max_level: INFO\n", "logging.routing_rules[0].max_level", "below"),
        ("logging: [1, 2]\n", "logging", "mapping"),
        ("surprise: 1\n", "surprise", "unknown key"),
        ("logging:\n  performance: {async_writing: false}\n",
         "logging.performance.async_writing", "background thread"),
    ],
)
def test_invalid_values_name_file_and_key(tmp_path: Path, text: str, key: str,
                                          message: str) -> None:
    """Each invalid value is a ConfigError naming the file and the dotted key path."""
    path = write(tmp_path, "bad.yaml", text)
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert info.value.key == key
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_unparsable_yaml_names_line(tmp_path: Path) -> None:
    """Broken YAML is reported with the file and the line of the problem."""
    path = write(tmp_path, "bad.yaml", "logging:\n  environment: dev\n  bad: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml.*line \d+"):
        load_config(path, env={})


def test_unparsable_toml_names_line(tmp_path: Path) -> None:
    """Broken TOML is reported with the file and the line of the problem."""
    path = write(tmp_path, "bad.toml", "[logging]\nenvironment = \n")
    with pytest.raises(ConfigError, match=r"bad\.toml.*line 2"):
        load_config(path, env={})


def test_missing_file_and_unknown_suffix(tmp_path: Path) -> None:
    """A missing file or an unsupported suffix is a ConfigError, not silent defaults."""
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "absent.yaml", env={})
    with pytest.raises(ConfigError, match="unknown config file type"):
        load_config(write(tmp_path, "c.ini", "[x]\n"), env={})


def test_bad_env_override_names_variable(tmp_path: Path) -> None:
    """A bad value or unknown key from the environment names the variable and the key."""
    with pytest.raises(ConfigError) as info:
        load_config(env={"LOGTOOL_LOGGING__PERFORMANCE__BATCH_SIZE": "many"})
    assert "LOGTOOL_LOGGING__PERFORMANCE__BATCH_SIZE" in str(info.value)
    assert info.value.key == "logging.performance.batch_size"
    with pytest.raises(ConfigError, match="LOGTOOL_LOGGING__NOPE"):
        load_config(env={"LOGTOOL_LOGGING__NOPE": "1"})
    with pytest.raises(ConfigError, match="LOGTOOL_ENV"):
        load_config(env={"LOGTOOL_ENV": "staging"})


def test_rule_matching() -> None:
    """A rule matches by kind, level bounds and environment."""
    rule = RoutingRule("r", ("tree",), kinds=("text",), min_level="INFO", max_level="WARNING",
                       environments=("dev",))
    assert rule.matches("text", "INFO", "dev")
    assert rule.matches("text", "WARNING", "dev")
    assert not rule.matches("text", "DEBUG", "dev")
    assert not rule.matches("text", "ERROR", "dev")
    assert not rule.matches("metric", "INFO", "dev")
    assert not rule.matches("text", "INFO", "prod")


def test_cli_status_with_broken_config_exits_2(tmp_path: Path) -> None:
    """`logtool status --config bad.yaml` prints the file and key on stderr and exits 2."""
    from typer.testing import CliRunner

    from logtool.cli import app

    bad = write(tmp_path, "bad.yaml", "logging:\n  monitoring:\n    check_interval_seconds: -5\n")
    result = CliRunner().invoke(app, ["status", str(tmp_path), "--config", str(bad)])
    assert result.exit_code == 2, result.output
    assert "logging.monitoring.check_interval_seconds" in result.output
    assert str(bad) in result.output
    assert "Traceback" not in result.output


def test_documented_example_loads() -> None:
    """docs/examples/logtool.yaml is valid and means what its comments say."""
    path = Path(__file__).resolve().parents[2] / "docs" / "examples" / "logtool.yaml"
    cfg = load_config(path, env={})
    assert cfg.coordinator.log_dir == Path("/var/log/admf-pc")
    assert cfg.logging.environment == "prod"
    assert cfg.logging.backends["prometheus"].options["port"] == 9464
    assert cfg.logging.backends["oncall"].options["headers"] == {"Authorization": "Bearer unset"}
    assert [r.name for r in cfg.logging.routing_rules][-1] == "critical_to_oncall"
    assert len(cfg.containers) == 4


SEED_ROUTING_YAML = """\
logging:
  environment: "dev"
  backends:
    console:
      enabled: true
      min_level: "DEBUG"
      config:
        color: true
    file:
      enabled: true
      min_level: "WARNING"
      config:
        file_path: "logs/hft.txt"
        format: "text"
        rotation: true
        max_size_mb: 100
    prometheus:
      enabled: true
      min_level: "INFO"
      config:
        push_gateway: "localhost:9091"
        job_name: "hft_arbitrage"
        prefix: "hft_"
        batch_size: 50
        flush_interval: 3.0
  routing_rules:
    - name: "metrics_to_prometheus"
      log_types: ["METRIC"]
      backends: ["prometheus"]
    - name: "errors_to_file_and_console"
      min_level: "WARNING"
      backends: ["file", "console"]
    - name: "debug_to_console_dev_only"
      max_level: "INFO"
      environments: ["dev"]
      backends: ["console"]
  global_context:
    service: "hft-arbitrage"
    version: "1.0.0"
"""


def test_seed_routing_yaml_loads(tmp_path: Path) -> None:
    """Seed 002's logging.yaml (minus its Datadog entry) loads: type defaults to the name,
    upper-case log types are accepted, seed option spellings are understood."""
    cfg = load_config(write(tmp_path, "logging.yaml", SEED_ROUTING_YAML), env={})
    backends = cfg.logging.backends
    assert (backends["file"].type, backends["file"].min_level) == ("file", "WARNING")
    assert backends["prometheus"].options["push_gateway"] == "localhost:9091"
    assert cfg.logging.routing_rules[0].kinds == ("metric",)
    assert cfg.logging.routing_rules[2].environments == ("dev",)
    assert cfg.logging.global_context["service"] == "hft-arbitrage"
