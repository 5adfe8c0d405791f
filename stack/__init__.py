"""The local streaming stack: a KRaft Kafka broker and a Flink session cluster on loopback."""

from __future__ import annotations

from dataclasses import dataclass

from stack import dashboard, flink, kafka
from stack.config import Config
from stack.processes import StackError, require_free_ports

__all__ = ["ServiceStatus", "StackError", "down", "status", "up"]


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    pid: int | None
    is_healthy: bool
    detail: str

    @property
    def is_running(self) -> bool:
        return self.pid is not None


def up(config: Config, log=print) -> list[str]:
    """Start whatever is not running, wait (bounded) until all is healthy. Returns what started."""
    started: list[str] = []
    ports = {}
    if kafka.service(config).pid() is None:
        ports.update(
            kafka_port=config.kafka_port, kafka_controller_port=config.kafka_controller_port
        )
    if all(s.pid() is None for s in flink.services(config)):
        ports.update(flink_rest_port=config.flink_rest_port, flink_rpc_port=config.flink_rpc_port)
    require_free_ports(config.bind_host, ports)

    if kafka.start(config):
        started.append("kafka")
        log(f"kafka: starting on {config.bootstrap_servers}")
    if flink.start(config):
        started.append("flink")
        log(f"flink: starting session cluster, REST on {config.rest_url}")
    kafka.wait_healthy(config)
    if kafka.ensure_topic(config):
        log(f"kafka: created topic {config.kafka_topic} ({config.kafka_partitions} partitions)")
    flink.wait_healthy(config)
    return started


def down(config: Config, log=print) -> list[str]:
    """Stop exactly the processes `up` and `make demo` started (the dashboard and TaskManager
    first, the broker last)."""
    stopped = []
    services = [dashboard.service(config), *reversed(flink.services(config)), kafka.service(config)]
    for service in services:
        if service.stop():
            stopped.append(service.name)
            log(f"{service.name}: stopped")
    return stopped


def status(config: Config) -> list[ServiceStatus]:
    kafka_pid = kafka.service(config).pid()
    kafka_ok = kafka_pid is not None and kafka.healthy(config)
    rows = [
        ServiceStatus(
            "kafka",
            kafka_pid,
            kafka_ok,
            config.bootstrap_servers if kafka_ok else "not reachable",
        )
    ]
    info = flink.overview(config)
    for service in flink.services(config):
        pid = service.pid()
        if service.name == "jobmanager":
            ok = pid is not None and info is not None
            detail = (
                f"{config.rest_url} (flink {info.get('flink-version')})"
                if ok
                else "REST not reachable"
            )
        else:
            slots = (info or {}).get("slots-total", 0)
            ok = pid is not None and (info or {}).get("taskmanagers", 0) >= 1
            detail = (
                f"{slots} slots, {(info or {}).get('slots-available', 0)} free"
                if ok
                else "not registered"
            )
        rows.append(ServiceStatus(service.name, pid, ok, detail))
    return rows
