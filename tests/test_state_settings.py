"""Where state lives is set once, in stack/flink.py `state_settings`: the local cluster's
config.yaml carries it, and docker-compose.yml's Flink properties repeat it value for value
(only the local directory differs, a path on this machine)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from stack import flink
from stack.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parent.parent
LOCAL_PATHS = {"state.backend.rocksdb.localdir"}


def compose_flink_properties() -> dict:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    properties = {}
    for service in ("jobmanager", "taskmanager"):
        text = compose["services"][service]["environment"]["FLINK_PROPERTIES"]
        properties[service] = yaml.safe_load(text)
    assert properties["jobmanager"] == properties["taskmanager"]
    return properties["taskmanager"]


def test_the_local_cluster_keeps_state_in_rocksdb_with_incremental_checkpoints(tmp_path):
    config = load_config(state_dir=str(tmp_path))
    settings = flink.cluster_settings(config)
    assert settings["state.backend.type"] == "rocksdb"
    assert settings["execution.checkpointing.incremental"] is True
    assert settings["state.backend.rocksdb.localdir"] == str(tmp_path / "flink" / "rocksdb")
    assert settings["execution.checkpointing.mode"] == "EXACTLY_ONCE"


def test_the_heap_backend_is_a_setting():
    settings = flink.cluster_settings(load_config(state_backend="hashmap"))
    assert settings["state.backend.type"] == "hashmap"


def test_docker_compose_sets_state_as_the_local_cluster_does():
    properties = compose_flink_properties()
    wanted = {
        key: value
        for key, value in flink.state_settings(load_config()).items()
        if key not in LOCAL_PATHS
    }
    assert {key: properties.get(key) for key in wanted} == wanted


def test_docker_compose_runs_the_portable_settings_of_the_local_cluster():
    """Slots spread over TaskManagers, the GC, restarts, failure detection, RPC timeouts."""
    properties = compose_flink_properties()
    local = flink.cluster_settings(load_config())
    for key in flink.PORTABLE_CLUSTER_SETTINGS:
        assert properties.get(key) == local[key], key


def test_an_unknown_state_backend_is_refused():
    with pytest.raises(ConfigError, match="state_backend must be 'rocksdb' or 'hashmap'"):
        load_config(state_backend="forst")
