"""`up` twice starts one broker and one cluster; `down` leaves none of our java processes;
`status` tells the truth in both states. Runs a second, private stack on free ports."""

from __future__ import annotations

from pathlib import Path

import pytest

import stack
from stack.config import load_config
from stack.processes import free_ports

pytestmark = pytest.mark.integration


def java_processes_under(folder: Path) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "java" in cmdline and str(folder) in cmdline:
            pids.append(int(proc.name))
    return pids


def test_up_is_idempotent_and_down_leaves_nothing(tmp_path):
    kafka_port, controller_port, rest_port, rpc_port = free_ports(4)
    config = load_config(
        state_dir=str(tmp_path / "state"),
        kafka_port=kafka_port,
        kafka_controller_port=controller_port,
        flink_rest_port=rest_port,
        flink_rpc_port=rpc_port,
        taskmanager_memory="5g",
    )
    try:
        assert stack.up(config, log=print) == ["kafka", "flink"]
        first = {row.name: row.pid for row in stack.status(config)}
        assert all(row.is_healthy for row in stack.status(config))
        assert len(java_processes_under(config.state_dir)) == 3  # broker, jobmanager, taskmanager

        assert stack.up(config, log=print) == []
        assert {row.name: row.pid for row in stack.status(config)} == first
        assert len(java_processes_under(config.state_dir)) == 3
    finally:
        stopped = stack.down(config, log=print)
    assert sorted(stopped) == ["jobmanager", "kafka", "taskmanager"]
    assert java_processes_under(config.state_dir) == []
    rows = stack.status(config)
    assert [(row.is_running, row.is_healthy) for row in rows] == [(False, False)] * 3
