"""A single-node KRaft Kafka broker on loopback, run from the jars `make jars` fetched."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from stack.config import Config
from stack.processes import Service, StackError, wait_until

CLUSTER_ID_FILE = "cluster.id"


def service(config: Config) -> Service:
    return Service(
        "kafka", config.state_dir / "pids" / "kafka.pid", str(config.state_dir / "kafka")
    )


def home(config: Config) -> Path:
    return config.state_dir / "kafka"


def server_properties(config: Config) -> str:
    host = config.bind_host
    settings = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.bootstrap.servers": f"{host}:{config.kafka_controller_port}",
        "listeners": f"PLAINTEXT://{host}:{config.kafka_port},CONTROLLER://{host}:{config.kafka_controller_port}",
        "advertised.listeners": f"PLAINTEXT://{host}:{config.kafka_port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(home(config) / "data"),
        "num.partitions": str(config.kafka_partitions),
        # One broker: internal topics cannot be replicated.
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
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


def _java(config: Config, main_class: str, *args: str, heap: str = "256m") -> list[str]:
    classpath = str(config.jars_dir / "kafka" / "*")
    log4j = home(config) / "log4j2.properties"
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


def _write_config(config: Config) -> Path:
    kafka_home = home(config)
    kafka_home.mkdir(parents=True, exist_ok=True)
    properties = kafka_home / "server.properties"
    properties.write_text(server_properties(config))
    (kafka_home / "log4j2.properties").write_text(LOG4J2.format(log=kafka_home / "server.log"))
    return properties


def _format_storage(config: Config, properties: Path) -> None:
    """Format the KRaft log directory once; later starts reuse it (and its topics)."""
    if (home(config) / "data" / "meta.properties").exists():
        return
    id_file = home(config) / CLUSTER_ID_FILE
    if not id_file.exists():
        generated = subprocess.run(
            _java(config, "kafka.tools.StorageTool", "random-uuid"),
            capture_output=True,
            text=True,
            check=True,
        )
        id_file.write_text(generated.stdout.strip().splitlines()[-1])
    formatted = subprocess.run(
        _java(
            config,
            "kafka.tools.StorageTool",
            "format",
            "--standalone",
            "--ignore-formatted",
            "-t",
            id_file.read_text().strip(),
            "-c",
            str(properties),
        ),
        capture_output=True,
        text=True,
    )
    if formatted.returncode != 0:
        raise StackError(f"formatting Kafka storage failed:\n{formatted.stdout}{formatted.stderr}")


def admin(config: Config) -> AdminClient:
    return AdminClient(
        {"bootstrap.servers": config.bootstrap_servers, "socket.timeout.ms": 5000, "log_level": 0}
    )


def healthy(config: Config, timeout_s: float = 2.0) -> bool:
    try:
        metadata = admin(config).list_topics(timeout=timeout_s)
    except KafkaException:
        return False
    return len(metadata.brokers) > 0


def start(config: Config) -> bool:
    """Start the broker unless it runs. Returns True if it was started now."""
    kafka = service(config)
    if kafka.pid() is not None:
        return False
    jars = list((config.jars_dir / "kafka").glob("kafka_2.13-*.jar"))
    if not jars:
        raise StackError(f"no Kafka jars in {config.jars_dir / 'kafka'}: run `make jars` first")
    properties = _write_config(config)
    _format_storage(config, properties)
    kafka.start(
        _java(config, "kafka.Kafka", str(properties), heap=config.kafka_heap),
        env=dict(os.environ),
        log_file=home(config) / "stdout.log",
    )
    return True


def wait_healthy(config: Config) -> None:
    kafka = service(config)
    ok = wait_until(
        lambda: kafka.pid() is None or healthy(config), config.startup_timeout_s, interval_s=0.5
    )
    if kafka.pid() is None:
        raise StackError(f"Kafka exited during start-up; see {home(config) / 'server.log'}")
    if not ok:
        raise StackError(
            f"Kafka did not become healthy within {config.startup_timeout_s:.0f} s; "
            f"see {home(config) / 'server.log'}"
        )


def ensure_topic(config: Config, topic: str | None = None, partitions: int | None = None) -> bool:
    """Create the topic if missing. Returns True if it was created now."""
    topic = topic or config.kafka_topic
    client = admin(config)
    if topic in client.list_topics(timeout=10).topics:
        return False
    futures = client.create_topics(
        [
            NewTopic(
                topic, num_partitions=partitions or config.kafka_partitions, replication_factor=1
            )
        ]
    )
    try:
        futures[topic].result(timeout=30)
    except KafkaException as error:
        if "TOPIC_ALREADY_EXISTS" not in str(error):
            raise StackError(f"creating topic {topic!r} failed: {error}") from None
        return False
    return True
