"""Kubernetes manifests for the pipeline, rendered from the typed config (`jobs.py manifests`).

Strimzi's `KafkaNodePool`, `Kafka` and `KafkaTopic` run the broker; per Flink job a
`FlinkDeployment` (Flink Kubernetes Operator, application mode) runs that job's SQL, rendered
from flink_sql/ into a ConfigMap, through Flink's own SQL script driver. Versions come from
jvm/pom.xml, sizes and settings from stack/config.py, an S3 endpoint and region from the AWS
environment (stack/object_store.py), never its keys. What a user must provide, the apply order
and what is (and is not) validated: docs/scale-out.md, "Kubernetes".
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

import yaml

from pipeline.deploy import job_defaults, load_job
from sqlcheck.project import job_names
from stack import flink
from stack.config import REPO_ROOT, Config, is_object_store
from stack.lake_catalog import LAKE_CATALOG_FILE, PASSWORD_FILE_VARIABLE
from stack.object_store import ENDPOINT_VARIABLES, REGION_VARIABLES, s3_settings

POM = REPO_ROOT / "jvm" / "pom.xml"
# Flink 2.x runs a SQL script in application mode itself (FLIP-480): this class is in
# flink-table-runtime, on the image's lib/ classpath, so the job needs no jar of ours.
SQL_DRIVER = "org.apache.flink.table.runtime.application.SqlDriver"
# Where the pods see the SQL, the jars, the shared state and the lake.
SQL_MOUNT = "/opt/flink/usrlib/sql"
JARS_MOUNT = "/opt/flink/lib/clickstream"  # Flink puts every jar under lib/ on its classpath
STATE_MOUNT = Path("/flink-state")
LAKE_MOUNT = "/lake"
# The operator's podTemplate is merged into this container of the JobManager and TaskManagers.
FLINK_CONTAINER = "flink-main-container"
SQL_HASH_ANNOTATION = "clickstream/sql-sha256"
# Three brokers so a topic keeps taking acks=all writes with one broker down: each partition
# has three replicas and needs two in sync.
BROKERS = 3
REPLICATION_FACTOR = 3
MIN_INSYNC_REPLICAS = 2
# A pod-local path on this machine: in a pod RocksDB uses Flink's io.tmp.dirs instead.
LOCAL_ONLY_SETTINGS = {"state.backend.rocksdb.localdir"}
# The official Flink image ships Flink's s3 file system in /opt/flink/opt/, not enabled: its
# docker-entrypoint.sh links each jar this `;`-separated list names into plugins/ before it runs
# any command, the operator's pod command included (Flink docs, Docker, "Using Filesystem Plugins").
BUILT_IN_PLUGINS_VARIABLE = "ENABLE_BUILT_IN_PLUGINS"


def pom_property(name: str, pom: Path = POM) -> str:
    """A version in jvm/pom.xml, the one home of the stack's versions."""
    namespace = {"m": "http://maven.apache.org/POM/4.0.0"}
    root = ElementTree.parse(pom).getroot()
    if name in ("artifactId", "version"):
        return root.findtext(f"m:{name}", namespaces=namespace) or ""
    value = root.findtext(f"m:properties/m:{name}", namespaces=namespace)
    if value is None:
        raise KeyError(f"{pom} has no property {name}")
    return value


@dataclass(frozen=True)
class Target:
    """What the typed config does not say about a Kubernetes cluster."""

    # The image `docker/flink-jars.Dockerfile` builds from `make jars`: the connector jars and
    # our functions, copied into Flink's lib/ by an init container. Named after jvm/pom.xml.
    jars_image: str = f"{pom_property('artifactId')}:{pom_property('version')}"
    # A storage class whose volumes many pods mount at once (ReadWriteMany: NFS, CephFS, EFS...):
    # the JobManager and every TaskManager write checkpoints and lake files to the same volume.
    # None: the cluster's default class.
    storage_class: str | None = None
    state_storage: str = "50Gi"
    lake_storage: str = "100Gi"
    broker_storage: str = "100Gi"
    # The config sizes memory; CPU is one core each unless set here (Flink's own default for a
    # TaskManager would be one core per slot).
    jobmanager_cpu: float = 1.0
    taskmanager_cpu: float = 1.0
    # The service account the operator's Helm chart creates for Flink pods.
    service_account: str = "flink"


def flink_version_enum(flink_version: str) -> str:
    """The operator's `flinkVersion` for a Flink release: 2.3.0 -> v2_3."""
    major, minor = flink_version.split(".")[:2]
    return f"v{major}_{minor}"


def k8s_name(*parts: str) -> str:
    """A DNS-1123 name from parts such as ("clickstream", "silver_gold")."""
    return re.sub(r"[^a-z0-9-]+", "-", "-".join(parts).lower()).strip("-")


def pod_config(config: Config) -> Config:
    """The config the jobs run with in the cluster: Strimzi's bootstrap service unless a broker
    is configured, state on the shared volume, and the lake there too unless it is a URI; the
    catalog server lake_catalog names, else a SQLite file on a shared volume (the lake's, or the
    state volume's for a lake on S3)."""
    remote = "://" in config.lake_root
    if config.lake_iceberg_catalog.is_server:
        lake_catalog = config.lake_catalog
    else:
        lake_catalog = str(STATE_MOUNT / "lake-catalog" / LAKE_CATALOG_FILE) if remote else ""
    return dataclasses.replace(
        config,
        kafka_bootstrap_servers=config.kafka_bootstrap_servers
        or f"{kafka_cluster_name(config)}-kafka-bootstrap:9092",
        lake_root=config.lake_root if remote else LAKE_MOUNT,
        lake_catalog=lake_catalog,
        state_dir=STATE_MOUNT,
    )


def shared_volumes(in_cluster: Config) -> dict[str, Path]:
    """The volumes every Flink pod mounts (ReadWriteMany claims), by purpose, for the in-cluster
    config: the state volume while checkpoints or a SQLite catalog live on it, the lake volume
    for a lake on local disk. State and lake on S3 with a catalog server need none."""
    volumes: dict[str, Path] = {}
    catalog = in_cluster.lake_iceberg_catalog
    if (
        not is_object_store(in_cluster.state_storage)
        or STATE_MOUNT in (catalog.file or Path()).parents
    ):
        volumes["flink-state"] = STATE_MOUNT
    if in_cluster.lake_root == LAKE_MOUNT:
        volumes["lake"] = Path(LAKE_MOUNT)
    return volumes


def kafka_cluster_name(config: Config) -> str:
    return k8s_name(config.deployment)


def job_script(config: Config, job_name: str) -> str:
    """One job as a SQL script: its SET lines, the DDL it reaches, its statement set."""
    job = load_job(config, job_name)
    header = f"-- {config.deployment}: {job_name}, rendered from flink_sql/ by `jobs.py manifests`."
    sets = [f"SET '{key}' = '{value}';" for key, value in job.settings.items()]
    statements = [f"{statement.sql};" for statement in job.statements]
    return "\n\n".join([header, "\n".join(sets), *statements]) + "\n"


def flink_configuration(config: Config, job_name: str) -> dict[str, str]:
    """The job's Flink settings as the local stack has them, with paths on the shared volume."""
    cluster = flink.cluster_settings(config)
    settings: dict[str, object] = {
        **{key: cluster[key] for key in flink.PORTABLE_CLUSTER_SETTINGS},
        "taskmanager.numberOfTaskSlots": config.taskmanager_slots,
        **{k: v for k, v in flink.state_settings(config).items() if k not in LOCAL_ONLY_SETTINGS},
        **job_defaults(config, job_name),
        # The operator's savepoint upgrades and `jobs.py stop`'s savepoints go here.
        "execution.checkpointing.savepoint-dir": config.savepoint_uri,
        # Checkpoints and savepoints on S3: the s3 plugin's endpoint and path-style requests, as
        # the local stack sets them (its keys: the Secret, through the environment).
        **(s3_settings().flink_settings() if is_object_store(config.state_storage) else {}),
    }
    return {key: _flink_value(value) for key, value in sorted(settings.items())}


def _flink_value(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def s3_plugin_jar(flink_version: str) -> str:
    """Flink's s3 file system plugin as the image's opt/ names it (flink-dist: artifact-version),
    the plugin `make jars` fetches for the local stack (jvm/pom.xml, profile flink-s3-plugin)."""
    return f"flink-s3-fs-hadoop-{flink_version}.jar"


def s3_secret_name(config: Config) -> str:
    """The Secret holding the S3 keys: the user creates it (docs/scale-out.md, "Kubernetes"), so
    no manifest, file or `kubectl apply` annotation ever holds them."""
    return k8s_name(config.deployment, "s3")


# A catalog server's password reaches the pods as a .pgpass file from a Secret the user creates,
# named by PGPASSFILE, which pgjdbc reads (the URI never carries it: stack/lake_catalog.py). The
# official image runs Flink as group 9999: fsGroup lets it read the Secret's file, mode 0440.
CATALOG_PASSWORD_MOUNT = "/etc/clickstream/catalog"
CATALOG_PASSWORD_KEY = "pgpass"
FLINK_GROUP = 9999


def catalog_secret_name(config: Config) -> str:
    """The Secret holding the catalog server's .pgpass line (docs/scale-out.md, "Kubernetes")."""
    return k8s_name(config.deployment, "catalog")


def catalog_password(config: Config) -> tuple[dict, dict, dict] | None:
    """With a catalog server, the Flink container's PGPASSFILE variable, its mount and the pod's
    volume of the Secret; None for a SQLite catalog."""
    if not config.lake_iceberg_catalog.is_server:
        return None
    path = f"{CATALOG_PASSWORD_MOUNT}/{CATALOG_PASSWORD_KEY}"
    variable = {"name": PASSWORD_FILE_VARIABLE, "value": path}
    mount = {"name": "catalog-password", "mountPath": CATALOG_PASSWORD_MOUNT, "readOnly": True}
    secret = {"secretName": catalog_secret_name(config), "defaultMode": 0o440}
    return variable, mount, {"name": "catalog-password", "secret": secret}


def s3_environment(config: Config, flink_version: str) -> dict[str, list[dict]]:
    """The Flink container's `env` and `envFrom` when state or lake is on S3, none otherwise.

    As locally (stack/object_store.py), every S3 client in the pods, Flink's s3 plugin and
    Iceberg's S3FileIO, takes endpoint, region and keys from the AWS environment variables. The
    endpoint and region are not secret: this process's, under the names object_store reads first.
    The keys reach the environment from the Secret whole (`envFrom`), its keys the variable names,
    so a session token may sit there too. The plugin only for state on S3: the lake's files go
    through S3FileIO, never through Flink's file systems."""
    state_on_s3 = is_object_store(config.state_storage)
    if not (state_on_s3 or is_object_store(config.lake_root)):
        return {}
    settings = s3_settings()
    env: list[dict] = []
    if state_on_s3:
        env.append({"name": BUILT_IN_PLUGINS_VARIABLE, "value": s3_plugin_jar(flink_version)})
    variables = {ENDPOINT_VARIABLES[0]: settings.endpoint, REGION_VARIABLES[0]: settings.region}
    env += [{"name": name, "value": value} for name, value in variables.items() if value]
    environment: dict[str, list[dict]] = {"env": env} if env else {}
    environment["envFrom"] = [{"secretRef": {"name": s3_secret_name(config)}}]
    return environment


def sql_config_map(config: Config) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _metadata(config, k8s_name(config.deployment, "sql")),
        "data": {f"{job}.sql": job_script(config, job) for job in job_names(config.sql_dir)},
    }


def volume_claim(config: Config, target: Target, purpose: str, size: str) -> dict:
    spec: dict[str, object] = {
        "accessModes": ["ReadWriteMany"],
        "resources": {"requests": {"storage": size}},
    }
    if target.storage_class is not None:
        spec["storageClassName"] = target.storage_class
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": _metadata(config, k8s_name(config.deployment, purpose)),
        "spec": spec,
    }


def flink_deployment(config: Config, target: Target, job_name: str) -> dict:
    """One job in application mode, upgraded through a savepoint when its spec changes."""
    flink_version = pom_property("flink.version")
    script = job_script(config, job_name)
    mounts = [
        {"name": "jars", "mountPath": JARS_MOUNT},
        {"name": "sql", "mountPath": SQL_MOUNT, "readOnly": True},
    ]
    volumes: list[dict] = [
        {"name": "jars", "emptyDir": {}},
        {"name": "sql", "configMap": {"name": k8s_name(config.deployment, "sql")}},
    ]
    for purpose, mount in shared_volumes(config).items():
        mounts.append({"name": purpose, "mountPath": str(mount)})
        claim = {"claimName": k8s_name(config.deployment, purpose)}
        volumes.append({"name": purpose, "persistentVolumeClaim": claim})
    environment = s3_environment(config, flink_version)
    pod_security: dict = {}
    password = catalog_password(config)
    if password is not None:
        variable, mount, volume = password
        environment["env"] = [*environment.get("env", []), variable]
        mounts.append(mount)
        volumes.append(volume)
        pod_security = {"securityContext": {"fsGroup": FLINK_GROUP}}
    copy_jars = {
        "name": "clickstream-jars",
        "image": target.jars_image,
        "command": ["sh", "-c", f"cp /jars/*.jar {JARS_MOUNT}/"],
        "volumeMounts": [{"name": "jars", "mountPath": JARS_MOUNT}],
    }
    return {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": _metadata(config, k8s_name(config.deployment, job_name)),
        "spec": {
            # The image docker-compose.yml runs, from jvm/pom.xml's flink.version.
            "image": f"flink:{flink_version}-java17",
            "flinkVersion": flink_version_enum(flink_version),
            "serviceAccount": target.service_account,
            "flinkConfiguration": flink_configuration(config, job_name),
            "jobManager": {
                "resource": {"memory": config.jobmanager_memory, "cpu": target.jobmanager_cpu}
            },
            "taskManager": {
                "resource": {"memory": config.taskmanager_memory, "cpu": target.taskmanager_cpu}
            },
            "podTemplate": {
                # The SQL lives in the ConfigMap, outside this spec: its hash here makes a changed
                # script a changed spec, which the operator rolls out through a savepoint.
                "metadata": {"annotations": {SQL_HASH_ANNOTATION: _sha256(script)}},
                # spec.podTemplate is the base of the JobManager's and every TaskManager's pod:
                # both start Flink, both read and write state and lake.
                "spec": {
                    **pod_security,
                    "initContainers": [copy_jars],
                    "containers": [
                        {"name": FLINK_CONTAINER, **environment, "volumeMounts": mounts}
                    ],
                    "volumes": volumes,
                },
            },
            "job": {
                "entryClass": SQL_DRIVER,
                "args": ["--scriptUri", f"file://{SQL_MOUNT}/{job_name}.sql"],
                "parallelism": config.parallelism,
                "upgradeMode": "savepoint",
                "state": "running",
            },
        },
    }


def kafka_node_pool(config: Config, target: Target) -> dict:
    """Three nodes, each both KRaft controller and broker, the metadata log on the data volume."""
    metadata = _metadata(config, "broker")
    metadata["labels"]["strimzi.io/cluster"] = kafka_cluster_name(config)
    return {
        "apiVersion": "kafka.strimzi.io/v1",
        "kind": "KafkaNodePool",
        "metadata": metadata,
        "spec": {
            "replicas": BROKERS,
            "roles": ["controller", "broker"],
            "storage": {
                "type": "jbod",
                "volumes": [
                    {
                        "id": 0,
                        "type": "persistent-claim",
                        "size": target.broker_storage,
                        "deleteClaim": False,
                        "kraftMetadata": "shared",
                    }
                ],
            },
        },
    }


def kafka(config: Config) -> dict:
    return {
        "apiVersion": "kafka.strimzi.io/v1",
        "kind": "Kafka",
        "metadata": _metadata(config, kafka_cluster_name(config)),
        "spec": {
            "kafka": {
                # The broker the local stack runs (jvm/pom.xml kafka.version).
                "version": pom_property("kafka.version"),
                "listeners": [{"name": "plain", "port": 9092, "type": "internal", "tls": False}],
                "config": {
                    "default.replication.factor": REPLICATION_FACTOR,
                    "min.insync.replicas": MIN_INSYNC_REPLICAS,
                    "offsets.topic.replication.factor": REPLICATION_FACTOR,
                    "transaction.state.log.replication.factor": REPLICATION_FACTOR,
                    "transaction.state.log.min.isr": MIN_INSYNC_REPLICAS,
                    # As locally: topics are declared (KafkaTopic below), never auto-created.
                    "auto.create.topics.enable": False,
                },
            },
            # The topic operator reconciles KafkaTopic resources.
            "entityOperator": {"topicOperator": {}},
        },
    }


def kafka_topic(config: Config) -> dict:
    metadata = _metadata(config, re.sub(r"[^a-z0-9.-]+", "-", config.kafka_topic.lower()))
    metadata["labels"]["strimzi.io/cluster"] = kafka_cluster_name(config)
    return {
        "apiVersion": "kafka.strimzi.io/v1",
        "kind": "KafkaTopic",
        "metadata": metadata,
        "spec": {
            "topicName": config.kafka_topic,
            "partitions": config.kafka_partitions,
            "replicas": REPLICATION_FACTOR,
            "config": {"min.insync.replicas": MIN_INSYNC_REPLICAS},
        },
    }


def render(config: Config, target: Target | None = None) -> list[dict]:
    """Every document, in an order `kubectl apply` can take them: Kafka, then the jobs."""
    target = target or Target()
    in_cluster = pod_config(config)
    documents = [kafka_node_pool(config, target), kafka(config), kafka_topic(config)]
    documents.append(sql_config_map(in_cluster))
    sizes = {"flink-state": target.state_storage, "lake": target.lake_storage}
    for purpose in shared_volumes(in_cluster):
        documents.append(volume_claim(config, target, purpose, sizes[purpose]))
    documents += [flink_deployment(in_cluster, target, job) for job in job_names(config.sql_dir)]
    return documents


def to_yaml(document: dict) -> str:
    return yaml.dump(document, Dumper=_BlockDumper, sort_keys=False)


def file_name(index: int, document: dict) -> str:
    """`01-kafkanodepool-broker.yaml`: numbered, so `kubectl apply -f DIR` keeps the order."""
    return f"{index:02d}-{document['kind'].lower()}-{document['metadata']['name']}.yaml"


def write(documents: list[dict], out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, document in enumerate(documents, start=1):
        path = out_dir / file_name(index, document)
        path.write_text(to_yaml(document))
        paths.append(path)
    return paths


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _metadata(config: Config, name: str) -> dict:
    # No namespace: `kubectl apply -n NAMESPACE` places them.
    return {"name": name, "labels": {"app.kubernetes.io/part-of": k8s_name(config.deployment)}}


class _BlockDumper(yaml.SafeDumper):
    """Multi-line strings (the SQL scripts) as readable `|` blocks."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _represent_str)
