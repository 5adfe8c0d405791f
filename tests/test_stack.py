"""The launcher without the services: config, rendered broker/cluster settings, ports, pids."""

from __future__ import annotations

import dataclasses
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from stack import dashboard, flink, kafka
from stack.config import (
    DBT_VARS,
    REPO_ROOT,
    Config,
    ConfigError,
    load_config,
    private_stack_environ,
)
from stack.processes import Service, StackError, port_in_use, require_free_ports


def test_defaults_bind_loopback_and_env_overrides_win(tmp_path):
    config = load_config(path=tmp_path / "none.toml", environ={"CLICKSTREAM_KAFKA_PORT": "19092"})
    assert config.bind_host == "127.0.0.1"
    assert config.bootstrap_servers == "127.0.0.1:19092"
    assert config.rest_url == "http://127.0.0.1:8081"


def test_toml_file_then_environment(tmp_path):
    path = tmp_path / "clickstream.toml"
    path.write_text('flink_rest_port = 18081\nkafka_topic = "shop.events"\n')
    config = load_config(path=path, environ={"CLICKSTREAM_KAFKA_TOPIC": "other"})
    assert config.flink_rest_port == 18081
    assert config.kafka_topic == "other"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"CLICKSTREAM_KAFKA_PORT": "ninety"}, "kafka_port must be an integer"),
        ({"CLICKSTREAM_KAFKA_PORT": "70000"}, "kafka_port must be a TCP port"),
        ({"CLICKSTREAM_FLINK_REST_PORT": "9092"}, "ports must be distinct"),
        ({"CLICKSTREAM_DASHBOARD_PORT": "8081"}, "ports must be distinct"),
        ({"CLICKSTREAM_TASKMANAGER_SLOTS": "2"}, "at least 4"),
        ({"CLICKSTREAM_WATERMARK_DELAY_SECONDS": "120"}, "between 1 and 99"),
        ({"CLICKSTREAM_WINDOW_MINUTES": "0"}, "window_minutes must be between 1 and 99"),
        ({"CLICKSTREAM_SESSION_TIMEOUT_MINUTES": "0"}, "session_timeout_minutes"),
        ({"CLICKSTREAM_SESSION_TIMEOUT_MINUTES": "1441"}, "between 1 and 1440"),
        ({"CLICKSTREAM_TASKMANAGER_MEMORY": "4g"}, "taskmanager_memory must be at least 5g"),
        ({"CLICKSTREAM_TASKMANAGER_MEMORY": "lots"}, "not a memory size: 'lots'"),
    ],
)
def test_bad_values_are_rejected_with_the_setting_named(tmp_path, environ, message):
    with pytest.raises(ConfigError, match=message):
        load_config(path=tmp_path / "none.toml", environ=environ)


DBT_PROJECT_VARS = yaml.safe_load((REPO_ROOT / "dbt_project" / "dbt_project.yml").read_text())[
    "vars"
]
ENV_VAR_DEFAULT = re.compile(r"\{\{ env_var\('CLICKSTREAM_(\w+)', '([^']*)'\) \}\}")


@pytest.mark.parametrize("name", DBT_VARS)
def test_dbt_var_is_the_setting_of_the_same_name_with_the_same_default(name):
    """A plain `dbt build` reads CLICKSTREAM_<NAME>, else a default that must be the config's."""
    match = ENV_VAR_DEFAULT.fullmatch(str(DBT_PROJECT_VARS[name]))
    assert match, f"dbt_project.yml: var {name} should be {{{{ env_var('CLICKSTREAM_...') }}}}"
    env_name, default = match.groups()
    assert env_name == name.upper()
    default_value = next(f.default for f in dataclasses.fields(Config) if f.name == name)
    # read as the config reads that variable (a tuple of sizes from "5,10")
    missing = REPO_ROOT / "no-such-clickstream.toml"
    loaded = load_config(path=missing, environ={f"CLICKSTREAM_{env_name}": default})
    assert getattr(loaded, name) == default_value


def test_no_dbt_var_copies_a_setting_outside_dbt_vars():
    settings = {field.name for field in dataclasses.fields(Config)}
    assert set(DBT_PROJECT_VARS) & settings == set(DBT_VARS)


def test_dbt_vars_come_from_the_toml_file_and_the_environment(tmp_path):
    path = tmp_path / "clickstream.toml"
    path.write_text("window_minutes = 5\n")
    config = load_config(path=path, environ={"CLICKSTREAM_SESSION_TIMEOUT_MINUTES": "45"})
    defaults = {field.name: field.default for field in dataclasses.fields(Config)}
    assert config.dbt_vars() == {
        **{name: defaults[name] for name in DBT_VARS},
        "window_minutes": 5,
        "session_timeout_minutes": 45,
    }
    assert config.sql_params("silver_gold")["window_minutes"] == "5"  # Flink gets the same


def test_unknown_setting_in_file_is_rejected(tmp_path):
    path = tmp_path / "clickstream.toml"
    path.write_text("kafka_prot = 1\n")
    with pytest.raises(ConfigError, match="unknown setting 'kafka_prot'"):
        load_config(path=path, environ={})


def test_broker_listens_on_loopback_only(tmp_path):
    config = load_config(path=tmp_path / "none.toml", environ={}, kafka_port=19092)
    properties = dict(line.split("=", 1) for line in kafka.server_properties(config).splitlines())
    assert properties["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:9093"
    assert properties["advertised.listeners"] == "PLAINTEXT://127.0.0.1:19092"
    assert properties["process.roles"] == "broker,controller"
    assert properties["auto.create.topics.enable"] == "false"


def properties_of(config, node: int = 1) -> dict[str, str]:
    return dict(line.split("=", 1) for line in kafka.server_properties(config, node).splitlines())


def test_one_broker_is_a_quorum_of_itself_with_unreplicated_topics(tmp_path):
    config = load_config(path=tmp_path / "none.toml", environ={})
    properties = properties_of(config)
    assert properties["controller.quorum.bootstrap.servers"] == "127.0.0.1:9093"
    assert "controller.quorum.voters" not in properties
    assert properties["default.replication.factor"] == "1"
    assert properties["min.insync.replicas"] == "1"
    assert config.bootstrap_servers == "127.0.0.1:9092"


def test_three_brokers_are_three_voters_with_topics_on_all_three(tmp_path):
    config = load_config(path=tmp_path / "none.toml", environ={}, kafka_brokers=3)
    assert config.bootstrap_servers == "127.0.0.1:9092,127.0.0.1:9094,127.0.0.1:9096"
    voters = "1@127.0.0.1:9093,2@127.0.0.1:9095,3@127.0.0.1:9097"
    for node, port in zip((1, 2, 3), (9092, 9094, 9096), strict=True):
        properties = properties_of(config, node)
        assert properties["node.id"] == str(node)
        assert properties["controller.quorum.voters"] == voters
        assert properties["listeners"] == (
            f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{port + 1}"
        )
        assert properties["log.dirs"] == str(kafka.home(config, node) / "data")
        # Every topic on three brokers; an acks=all write needs two of them.
        for name in ("default", "offsets.topic", "transaction.state.log"):
            assert properties[f"{name}.replication.factor"] == "3"
        assert properties["min.insync.replicas"] == "2"
        assert properties["transaction.state.log.min.isr"] == "2"
    assert len({kafka.home(config, node) for node in (1, 2, 3)}) == 3
    assert len(set(config.local_ports().values())) == 9


def test_replication_grows_with_brokers_up_to_three(tmp_path):
    factors = {
        brokers: (config.kafka_replication_factor, config.kafka_min_insync_replicas)
        for brokers in range(1, 6)
        for config in [load_config(path=tmp_path / "none.toml", environ={}, kafka_brokers=brokers)]
    }
    assert factors == {1: (1, 1), 2: (2, 1), 3: (3, 2), 4: (3, 2), 5: (3, 2)}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"kafka_brokers": 0}, "kafka_brokers must be between 1 and 5"),
        ({"kafka_brokers": 6}, "kafka_brokers must be between 1 and 5"),
        ({"taskmanagers": 0}, "taskmanagers must be between 1 and 4"),
        ({"parallelism": 129}, "parallelism must be between 1 and 128"),
        # Broker 2's client port would be broker 1's controller port.
        ({"kafka_brokers": 2, "kafka_controller_port": 9094}, "ports must be distinct"),
        ({"kafka_brokers": 3, "flink_rest_port": 9096}, "ports must be distinct"),
        (
            {"kafka_brokers": 3, "kafka_port": 65532},
            re.escape("kafka_port (broker 3) must be a TCP port"),
        ),
    ],
)
def test_cluster_sizes_and_their_ports_are_checked(tmp_path, overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config(path=tmp_path / "none.toml", environ={}, **overrides)


def test_a_private_stack_of_three_brokers_gets_a_free_run_of_ports(tmp_path):
    environ = private_stack_environ(tmp_path, environ={}, kafka_brokers=3)
    config = load_config(environ=environ)
    assert config.kafka_brokers == 3
    assert not any(port_in_use("127.0.0.1", port) for port in config.local_ports().values())
    assert config.kafka_controller_port == config.kafka_port + 1


def test_several_taskmanagers_are_services_named_by_their_resource_id(tmp_path):
    config = load_config(path=tmp_path / "none.toml", environ={}, taskmanagers=3)
    names = [service.name for service in flink.taskmanagers(config)]
    assert names == ["taskmanager", "taskmanager-2", "taskmanager-3"]
    assert len({service.pid_file for service in flink.services(config)}) == 4
    assert flink.cluster_settings(config)["taskmanager.load-balance.mode"] == "SLOTS"


def test_down_and_status_also_find_processes_started_with_a_larger_stack(tmp_path):
    """A stack started with 3 brokers and 2 TaskManagers, then the settings back at 1: `down`
    still stops (and `status` still shows) the others, found by their pid files."""
    config = load_config(path=tmp_path / "none.toml", environ={}, state_dir=tmp_path / "state")
    pids = tmp_path / "state" / "pids"
    pids.mkdir(parents=True)
    for name in ("kafka-2", "kafka-3", "taskmanager-2"):
        (pids / f"{name}.pid").write_text("1\n")
    assert [s.name for s in kafka.services(config)] == ["kafka", "kafka-2", "kafka-3"]
    names = [s.name for s in flink.services(config)]
    assert names == ["jobmanager", "taskmanager", "taskmanager-2"]
    # ... but starts only what the config asks for.
    assert [s.name for s in flink.configured(config)] == ["jobmanager", "taskmanager"]


def test_kafka_data_formatted_for_another_broker_count_is_refused(tmp_path):
    one = load_config(path=tmp_path / "none.toml", environ={}, state_dir=tmp_path / "state")
    (kafka.home(one) / "data").mkdir(parents=True)
    (kafka.home(one) / "data" / "meta.properties").write_text("node.id=1\n")
    three = dataclasses.replace(one, kafka_brokers=3)
    with pytest.raises(
        StackError, match=re.escape("formatted for 1 broker(s), not kafka_brokers=3")
    ):
        kafka.start(three)


def test_dashboard_binds_loopback_sends_no_telemetry_and_gets_this_config(tmp_path):
    config = load_config(
        path=tmp_path / "none.toml", environ={}, lake_root="/data/lake", dashboard_port=18501
    )
    assert " ".join(dashboard.argv(config)).endswith(
        "--server.address 127.0.0.1 --server.port 18501 --server.headless true "
        "--browser.gatherUsageStats false --client.toolbarMode minimal"
    )
    assert config.dashboard_url == "http://127.0.0.1:18501"
    assert config.warehouse_path == Path("/data/clickstream.duckdb")  # as profiles.yml puts it
    assert load_config(path=tmp_path / "none.toml", environ=dashboard.environ(config)) == config


def test_cluster_is_locked_down_and_keeps_pyflink_jvm_flags(tmp_path):
    settings = flink.cluster_settings(load_config(path=tmp_path / "none.toml", environ={}))
    assert settings["rest.bind-address"] == "127.0.0.1"
    assert settings["jobmanager.bind-host"] == "127.0.0.1"
    assert settings["taskmanager.bind-host"] == "127.0.0.1"
    assert settings["web.submit.enable"] is False
    assert settings["taskmanager.numberOfTaskSlots"] >= 4
    assert "--add-opens=java.base/java.lang=ALL-UNNAMED" in settings["env.java.opts.all"]


def test_port_in_use_is_a_clear_error():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        assert port_in_use("127.0.0.1", port)
        with pytest.raises(StackError, match=f"kafka_port={port}.*CLICKSTREAM_KAFKA_PORT"):
            require_free_ports("127.0.0.1", {"kafka_port": port})
    require_free_ports("127.0.0.1", {"kafka_port": port})  # released: no error


def test_service_is_found_by_pid_and_marker_and_stopped(tmp_path):
    marker = str(tmp_path / "marker")
    service = Service("sleeper", tmp_path / "sleeper.pid", marker)
    assert service.pid() is None
    pid = service.start(
        [sys.executable, "-c", "import time, sys; time.sleep(60)", marker],
        env={},
        log_file=tmp_path / "sleeper.log",
    )
    assert service.pid() == pid
    assert service.stop(timeout_s=5)
    assert service.pid() is None
    assert not service.stop()  # idempotent


def test_recycled_pid_without_marker_is_not_ours(tmp_path):
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        pid_file = tmp_path / "kafka.pid"
        pid_file.write_text(f"{other.pid}\n")
        service = Service("kafka", pid_file, str(tmp_path / "kafka"))
        assert service.pid() is None
        assert not pid_file.exists()
        assert other.poll() is None  # untouched
    finally:
        other.kill()
        other.wait()


# --- rollup_minutes: the coarser gold window sizes, cascaded from window_minutes -------------


def test_rollup_minutes_from_toml_list_and_environment(tmp_path):
    path = tmp_path / "clickstream.toml"
    path.write_text("rollup_minutes = [2, 6]\n")
    assert load_config(path=path, environ={}).rollup_minutes == (2, 6)
    config = load_config(path=path, environ={"CLICKSTREAM_ROLLUP_MINUTES": "15,30"})
    assert config.rollup_minutes == (15, 30)
    params = config.sql_params("silver_gold")
    assert (params["rollup_minutes_1"], params["rollup_minutes_2"]) == ("15", "30")
    assert config.dbt_vars()["rollup_minutes"] == (15, 30)
    # a child process given this config's environment loads the same sizes
    assert load_config(path=path, environ=config.as_environ()).rollup_minutes == (15, 30)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"CLICKSTREAM_ROLLUP_MINUTES": "5"}, "two window sizes"),
        ({"CLICKSTREAM_ROLLUP_MINUTES": "5,10,20"}, "two window sizes"),
        ({"CLICKSTREAM_ROLLUP_MINUTES": "five,ten"}, "whole minutes"),
        ({"CLICKSTREAM_ROLLUP_MINUTES": "5,12"}, "12 must be a multiple of 5"),
        ({"CLICKSTREAM_ROLLUP_MINUTES": "10,5"}, "5 must be a multiple of 10 above it"),
        ({"CLICKSTREAM_ROLLUP_MINUTES": "5,5"}, "5 must be a multiple of 5 above it"),
        ({"CLICKSTREAM_ROLLUP_MINUTES": "50,100"}, "below 100"),
        ({"CLICKSTREAM_ROLLUP_MINUTES": "0,10"}, "multiple of window_minutes"),
        (
            {"CLICKSTREAM_WINDOW_MINUTES": "2", "CLICKSTREAM_ROLLUP_MINUTES": "5,10"},
            r"5 must be a multiple of window_minutes \(2\)",
        ),
    ],
)
def test_bad_rollup_minutes_are_rejected_with_the_reason(tmp_path, environ, message):
    with pytest.raises(ConfigError, match=message):
        load_config(path=tmp_path / "none.toml", environ=environ)
