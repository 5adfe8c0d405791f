"""KRaft Kafka on loopback, run from the jars `make jars` fetched: one broker by default, or
`kafka_brokers` of them, each its own process, data directory and ports, every one also a voter of
the controller quorum (docs/scale-out.md, "Several brokers and TaskManagers")."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from stack.config import Config
from stack.processes import Service, StackError, wait_until

CLUSTER_ID_FILE = "cluster.id"
TOPIC_CREATION_TIMEOUT_S = 30.0
# How many brokers the data directories were formatted for: a quorum cannot change its size here.
BROKERS_FILE = "brokers"


def home(config: Config, node: int = 1) -> Path:
    """Broker 1 keeps `.stack/kafka` (where the single broker always lived), broker n `kafka-n`."""
    return config.state_dir / ("kafka" if node == 1 else f"kafka-{node}")


def service(config: Config, node: int = 1) -> Service:
    name = home(config, node).name
    return Service(
        name,
        config.state_dir / "pids" / f"{name}.pid",
        str(home(config, node) / "server.properties"),
    )


def nodes(config: Config) -> list[int]:
    """The configured brokers, and any other whose pid file is there: started with a larger
    kafka_brokers, they are still stopped by `down` and shown by `status`."""
    found = {int(pid.stem.split("-")[1]) for pid in _pids(config).glob("kafka-*.pid")}
    return sorted(set(config.broker_ids) | found)


def services(config: Config) -> list[Service]:
    return [service(config, node) for node in nodes(config)]


def _pids(config: Config) -> Path:
    return config.state_dir / "pids"


def server_properties(config: Config, node: int = 1) -> str:
    host = config.bind_host
    port, controller_port = config.broker_ports(node)
    replicas, min_insync = config.kafka_replication_factor, config.kafka_min_insync_replicas
    if config.kafka_brokers == 1:
        quorum = {"controller.quorum.bootstrap.servers": f"{host}:{controller_port}"}
    else:
        # A fixed set of voters: every broker is one, formatted once with the same cluster id.
        voters = (f"{n}@{host}:{config.broker_ports(n)[1]}" for n in config.broker_ids)
        quorum = {"controller.quorum.voters": ",".join(voters)}
    settings = {
        "process.roles": "broker,controller",
        "node.id": str(node),
        **quorum,
        "listeners": f"PLAINTEXT://{host}:{port},CONTROLLER://{host}:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://{host}:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(home(config, node) / "data"),
        "num.partitions": str(config.kafka_partitions),
        # Every topic, internal ones included, on kafka_replication_factor brokers; an acks=all
        # write (the generator's idempotent producer) needs all but one of them.
        "default.replication.factor": str(replicas),
        "min.insync.replicas": str(min_insync),
        "offsets.topic.replication.factor": str(replicas),
        "transaction.state.log.replication.factor": str(replicas),
        "transaction.state.log.min.isr": str(min_insync),
        "share.coordinator.state.topic.replication.factor": str(replicas),
        "share.coordinator.state.topic.min.isr": str(min_insync),
        "group.initial.rebalance.delay.ms": "0",
        # Topics are created explicitly by `up` with the partition count we want.
        "auto.create.topics.enable": "false",
        "log.retention.hours": "168",
    }
    return "".join(f"{key}={value}\n" for key, value in settings.items())


LOG4J2 = """\
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = {log}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = WARN
logger.apache.name = org.apache.kafka
logger.apache.level = WARN
"""


def _java(config: Config, node: int, main_class: str, *args: str, heap: str = "256m") -> list[str]:
    classpath = str(config.jars_dir / "kafka" / "*")
    log4j = home(config, node) / "log4j2.properties"
    return [
        "java",
        f"-Xmx{heap}",
        f"-Xms{heap}" if heap != "256m" else "-Xms64m",
        f"-Dlog4j2.configurationFile={log4j}",
        "-cp",
        classpath,
        main_class,
        *args,
    ]


def _write_config(config: Config, node: int) -> Path:
    kafka_home = home(config, node)
    kafka_home.mkdir(parents=True, exist_ok=True)
    properties = kafka_home / "server.properties"
    properties.write_text(server_properties(config, node))
    (kafka_home / "log4j2.properties").write_text(LOG4J2.format(log=kafka_home / "server.log"))
    return properties


def _cluster_id(config: Config) -> str:
    """The cluster's id, generated once (by broker 1's tools) and shared by every broker."""
    id_file = home(config) / CLUSTER_ID_FILE
    if not id_file.exists():
        home(config).mkdir(parents=True, exist_ok=True)
        generated = subprocess.run(
            _java(config, 1, "kafka.tools.StorageTool", "random-uuid"),
            capture_output=True,
            text=True,
            check=True,
        )
        id_file.write_text(generated.stdout.strip().splitlines()[-1])
    return id_file.read_text().strip()


def _check_brokers(config: Config) -> None:
    """Refuse to start brokers formatted for another quorum size, with what to do about it."""
    recorded = home(config) / BROKERS_FILE
    formatted = recorded.read_text().strip() if recorded.exists() else None
    if formatted is None and (home(config) / "data" / "meta.properties").exists():
        formatted = "1"  # formatted before the count was recorded: a single broker
    if formatted is not None and formatted != str(config.kafka_brokers):
        raise StackError(
            f"the Kafka data in {config.state_dir} was formatted for {formatted} broker(s), not "
            f"kafka_brokers={config.kafka_brokers}: use another state_dir, or stop the stack and "
            f"delete {config.state_dir}/kafka* (its topics with it)"
        )


def _format_storage(config: Config, node: int, properties: Path) -> None:
    """Format a broker's KRaft log directory once; later starts reuse it (and its topics)."""
    if (home(config, node) / "data" / "meta.properties").exists():
        return
    # One broker bootstraps a quorum of itself; several list every voter in their properties.
    standalone = ["--standalone"] if config.kafka_brokers == 1 else []
    formatted = subprocess.run(
        _java(
            config,
            node,
            "kafka.tools.StorageTool",
            "format",
            *standalone,
            "--ignore-formatted",
            "-t",
            _cluster_id(config),
            "-c",
            str(properties),
        ),
        capture_output=True,
        text=True,
    )
    if formatted.returncode != 0:
        raise StackError(f"formatting Kafka storage failed:\n{formatted.stdout}{formatted.stderr}")
    (home(config) / BROKERS_FILE).write_text(f"{config.kafka_brokers}\n")


def admin(config: Config) -> AdminClient:
    return AdminClient(
        {"bootstrap.servers": config.bootstrap_servers, "socket.timeout.ms": 5000, "log_level": 0}
    )


def registered_brokers(config: Config, timeout_s: float = 2.0) -> set[int] | None:
    """Node ids of the brokers the cluster's metadata lists (None: no broker answers)."""
    try:
        metadata = admin(config).list_topics(timeout=timeout_s)
    except KafkaException:
        return None
    return set(metadata.brokers)


def healthy(config: Config, timeout_s: float = 2.0) -> bool:
    """Every configured broker is registered."""
    return set(config.broker_ids) <= (registered_brokers(config, timeout_s) or set())


def start(config: Config) -> bool:
    """Start each broker that does not run. Returns True if any was started now."""
    _check_brokers(config)
    if not list((config.jars_dir / "kafka").glob("kafka_2.13-*.jar")):
        raise StackError(f"no Kafka jars in {config.jars_dir / 'kafka'}: run `make jars` first")
    started = False
    for node in config.broker_ids:
        broker = service(config, node)
        if broker.pid() is not None:
            continue
        properties = _write_config(config, node)
        _format_storage(config, node, properties)
        broker.start(
            _java(config, node, "kafka.Kafka", str(properties), heap=config.kafka_heap),
            env=dict(os.environ),
            log_file=home(config, node) / "stdout.log",
        )
        started = True
    return started


def wait_healthy(config: Config) -> None:
    brokers = {node: service(config, node) for node in config.broker_ids}
    ok = wait_until(
        lambda: any(b.pid() is None for b in brokers.values()) or healthy(config),
        config.startup_timeout_s,
        interval_s=0.5,
    )
    dead = [node for node, broker in brokers.items() if broker.pid() is None]
    if dead:
        logs = ", ".join(str(home(config, node) / "server.log") for node in dead)
        raise StackError(
            f"Kafka broker {', '.join(map(str, dead))} exited during start-up; see {logs}"
        )
    if not ok:
        raise StackError(
            f"Kafka did not become healthy within {config.startup_timeout_s:.0f} s; "
            f"see {home(config) / 'server.log'}"
        )


def _transient(error: KafkaError) -> bool:
    """A connection torn down or a leader not there yet: what a cluster just started (or losing
    a broker) answers for a moment."""
    return error.retriable() or error.code() in (
        KafkaError._DESTROY_BROKER,
        KafkaError._TRANSPORT,
        KafkaError._ALL_BROKERS_DOWN,
    )


def ensure_topic(config: Config, topic: str | None = None, partitions: int | None = None) -> bool:
    """Create the topic if missing. Returns True if it was created now."""
    topic = topic or config.kafka_topic
    client = admin(config)
    if topic in client.list_topics(timeout=10).topics:
        return False
    new_topic = NewTopic(
        topic,
        num_partitions=partitions or config.kafka_partitions,
        replication_factor=config.kafka_replication_factor,
    )
    deadline = time.monotonic() + TOPIC_CREATION_TIMEOUT_S
    attempts = 0
    while True:
        attempts += 1
        try:
            client.create_topics([new_topic])[topic].result(timeout=TOPIC_CREATION_TIMEOUT_S)
            return True
        except KafkaException as exc:
            error = exc.args[0]
            if error.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                return attempts > 1  # an attempt of ours that seemed to fail created it
            if not _transient(error) or time.monotonic() > deadline:
                raise StackError(f"creating topic {topic!r} failed: {error}") from None
        time.sleep(0.5)  # back off before asking again
