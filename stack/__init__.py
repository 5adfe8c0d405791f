"""The local streaming stack: KRaft Kafka brokers and a Flink session cluster on loopback."""

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
    # The ports of what runs already are its own; the dashboard checks its port when it starts.
    owned = {config.dashboard_port}
    for node in config.broker_ids:
        if kafka.service(config, node).pid() is not None:
            owned.update(config.broker_ports(node))
    if flink.services(config)[0].pid() is not None:
        owned.update((config.flink_rest_port, config.flink_rpc_port))
    ports = {name: port for name, port in config.local_ports().items() if port not in owned}
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
    """Stop exactly the processes `up` and `make demo` started (the dashboard and TaskManagers
    first, the brokers last)."""
    stopped = []
    services = [
        dashboard.service(config),
        *reversed(flink.services(config)),
        *reversed(kafka.services(config)),
    ]
    for service in services:
        if service.stop():
            stopped.append(service.name)
            log(f"{service.name}: stopped")
    return stopped


def status(config: Config) -> list[ServiceStatus]:
    registered = kafka.registered_brokers(config) or set()
    rows = []
    for node in kafka.nodes(config):
        broker = kafka.service(config, node)
        pid = broker.pid()
        ok = pid is not None and node in registered
        address = f"{config.bind_host}:{config.broker_ports(node)[0]}"
        rows.append(ServiceStatus(broker.name, pid, ok, address if ok else "not reachable"))
    info = flink.overview(config) or {}
    jobmanager, *taskmanagers = flink.services(config)
    pid = jobmanager.pid()
    ok = pid is not None and bool(info)
    detail = (
        f"{config.rest_url} (flink {info.get('flink-version')})" if ok else "REST not reachable"
    )
    rows.append(ServiceStatus(jobmanager.name, pid, ok, detail))
    registered_taskmanagers = flink.registered_taskmanagers(config)
    for taskmanager in taskmanagers:
        pid = taskmanager.pid()
        ok = pid is not None and taskmanager.name in registered_taskmanagers
        detail = f"{registered_taskmanagers[taskmanager.name]} slots" if ok else "not registered"
        rows.append(ServiceStatus(taskmanager.name, pid, ok, detail))
    return rows
