"""The Kubernetes manifests (`jobs.py manifests`), validated offline against the schemas the build
fetches (`make schemas`): the FlinkDeployment against the Flink Kubernetes Operator's CRD from
Maven Central, Strimzi's kinds against Strimzi's CRD schemas from npm, the core kinds with
kubernetes-validate. Nothing here talks to a cluster (docs/scale-out.md, "Kubernetes")."""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from stack import flink, manifests
from stack.config import load_config
from stack.object_store import s3_settings

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / ".stack" / "schemas"
FETCH = "run `make schemas` (part of `make setup`) to fetch it"
KUBERNETES_VERSION = "1.37"  # the newest kubernetes-validate 1.37.0 carries
DNS_1123 = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


@functools.cache
def operator_crd(plural: str) -> dict:
    """The operator's CRD (apiextensions v1) from the API jar `make schemas` copied."""
    version = manifests.pom_property("flink.kubernetes.operator.version")
    jar = SCHEMAS / "maven" / f"flink-kubernetes-operator-api-{version}.jar"
    if not jar.exists():
        pytest.fail(f"{jar.relative_to(ROOT)} is missing: {FETCH}")
    with zipfile.ZipFile(jar) as archive:
        return yaml.safe_load(archive.read(f"META-INF/fabric8/{plural}.flink.apache.org-v1.yml"))


def strict(schema: dict) -> dict:
    """The schema with unknown fields as errors, as `kubectl apply` reports them (server-side
    field validation is strict by default): every object that lists its properties and neither
    allows others nor keeps unknown fields gets additionalProperties: false."""
    schema = copy.deepcopy(schema)

    def close(node: object) -> None:
        if isinstance(node, dict):
            if (
                "properties" in node
                and "additionalProperties" not in node
                and not node.get("x-kubernetes-preserve-unknown-fields")
            ):
                node["additionalProperties"] = False
            for value in node.values():
                close(value)
        elif isinstance(node, list):
            for value in node:
                close(value)

    close(schema)
    return schema


@functools.cache
def flink_deployment_schema() -> dict:
    """FlinkDeployment's openAPIV3Schema, strict, with one patch: operator 1.10.0's flinkVersion
    enum stops at v1_20; the operator's FlinkVersion gained v2_3 in release 1.15.0, which is not
    on Maven Central here. The patch adds exactly the value the pom's Flink version renders."""
    crd = operator_crd("flinkdeployments")
    (served,) = [v for v in crd["spec"]["versions"] if v["served"]]
    schema = strict(served["schema"]["openAPIV3Schema"])
    enum = schema["properties"]["spec"]["properties"]["flinkVersion"]["enum"]
    enum.append(manifests.flink_version_enum(manifests.pom_property("flink.version")))
    # What the API server checks of every resource itself, so CRDs leave it out.
    schema["properties"] |= {
        "apiVersion": {"const": f"{crd['spec']['group']}/{served['name']}"},
        "kind": {"const": crd["spec"]["names"]["kind"]},
        "metadata": {"type": "object"},
    }
    return schema


def flink_errors(document: dict) -> list[str]:
    validator = jsonschema.Draft7Validator(flink_deployment_schema())
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def operator_rule_errors(document: dict) -> list[str]:
    """Checks the operator makes when it admits a FlinkDeployment (its DefaultValidator in
    release-1.15.0, restated here: the operator itself does not run)."""
    spec, errors = document["spec"], []
    configuration = spec.get("flinkConfiguration", {})
    if spec["job"].get("upgradeMode") != "stateless":
        if not configuration.get("execution.checkpointing.dir"):
            errors.append("a savepoint upgrade mode needs execution.checkpointing.dir")
        if not configuration.get("execution.checkpointing.savepoint-dir"):
            errors.append("a savepoint upgrade mode needs execution.checkpointing.savepoint-dir")
    if spec["job"].get("parallelism", 0) < 1:
        errors.append("job parallelism must be at least 1")
    return errors


def strimzi_errors(documents: list[dict]) -> list[list[str]]:
    """Each document's errors from Strimzi's schemas (tests/k8s/validate_strimzi.mjs)."""
    prefix = SCHEMAS / "npm"
    if not (prefix / "node_modules" / "@kubernetes-models" / "strimzi-kafka-operator").is_dir():
        pytest.fail(f"Strimzi's schemas are missing from {prefix.relative_to(ROOT)}: {FETCH}")
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: Strimzi's schemas are validators for Node.js")
    result = subprocess.run(
        [node, str(ROOT / "tests" / "k8s" / "validate_strimzi.mjs"), str(prefix)],
        input=json.dumps(documents),
        capture_output=True,
        text=True,
        check=True,
    )
    return [entry["errors"] for entry in json.loads(result.stdout)]


def core_errors(document: dict) -> list[str]:
    try:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}"]
    return []


@pytest.fixture(scope="module")
def documents() -> list[dict]:
    return manifests.render(load_config())


def of_kind(documents: list[dict], kind: str) -> list[dict]:
    return [document for document in documents if document["kind"] == kind]


def test_the_set_is_kafka_then_the_jobs(documents):
    assert [(d["kind"], d["metadata"]["name"]) for d in documents] == [
        ("KafkaNodePool", "broker"),
        ("Kafka", "clickstream"),
        ("KafkaTopic", "clickstream.events"),
        ("ConfigMap", "clickstream-sql"),
        ("PersistentVolumeClaim", "clickstream-flink-state"),
        ("PersistentVolumeClaim", "clickstream-lake"),
        ("FlinkDeployment", "clickstream-bronze"),
        ("FlinkDeployment", "clickstream-silver-gold"),
    ]
    for document in documents:
        assert "namespace" not in document["metadata"]  # `kubectl apply -n` places them
        assert re.fullmatch(r"[a-z0-9.-]+", document["metadata"]["name"])


def test_flink_deployments_match_the_operator_crd(documents):
    for document in of_kind(documents, "FlinkDeployment"):
        assert flink_errors(document) == []
        assert operator_rule_errors(document) == []
        assert DNS_1123.fullmatch(document["metadata"]["name"])


def test_strimzi_resources_match_strimzis_schemas(documents):
    strimzi = [d for d in documents if d["apiVersion"].startswith("kafka.strimzi.io/")]
    assert [d["kind"] for d in strimzi] == ["KafkaNodePool", "Kafka", "KafkaTopic"]
    assert strimzi_errors(strimzi) == [[], [], []]


def test_core_resources_match_kubernetes_schemas(documents):
    core = [d for d in documents if d["apiVersion"] == "v1"]
    assert {d["kind"] for d in core} == {"ConfigMap", "PersistentVolumeClaim"}
    for document in core:
        assert core_errors(document) == []


def test_the_pod_template_is_a_valid_pod_spec(documents):
    """The operator merges podTemplate into its pods: it must be a valid Pod on its own."""
    for document in of_kind(documents, "FlinkDeployment"):
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "template"}}
        pod["spec"] = document["spec"]["podTemplate"]["spec"]
        # A Pod needs an image per container; the operator sets the main container's.
        pod = copy.deepcopy(pod)
        pod["spec"]["containers"][0]["image"] = document["spec"]["image"]
        assert core_errors(pod) == []


def test_a_wrong_field_is_rejected(documents):
    (bronze, _) = of_kind(documents, "FlinkDeployment")
    misspelt = copy.deepcopy(bronze)
    misspelt["spec"]["job"]["upgradeMod"] = misspelt["spec"]["job"].pop("upgradeMode")
    assert any("upgradeMod" in error for error in flink_errors(misspelt))

    unknown_mode = copy.deepcopy(bronze)
    unknown_mode["spec"]["job"]["upgradeMode"] = "latest"
    assert any("latest" in error for error in flink_errors(unknown_mode))

    topic = copy.deepcopy(of_kind(documents, "KafkaTopic")[0])
    topic["spec"]["partitions"] = "3"
    node_pool = copy.deepcopy(of_kind(documents, "KafkaNodePool")[0])
    node_pool["spec"]["roles"] = ["broker", "zookeeper"]
    assert strimzi_errors([topic, node_pool]) == [
        ["/spec/partitions must be integer"],
        ["/spec/roles/1 must be equal to one of the allowed values"],
    ]

    claim = copy.deepcopy(of_kind(documents, "PersistentVolumeClaim")[0])
    claim["spec"]["accessMode"] = claim["spec"].pop("accessModes")
    assert core_errors(claim) != []


def test_without_the_version_patch_the_1_10_crd_refuses_flink_2_3(documents):
    """Why the schema is patched: the newest operator CRD here knows no Flink 2.x."""
    (bronze, _) = of_kind(documents, "FlinkDeployment")
    crd = operator_crd("flinkdeployments")
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    enum = schema["properties"]["spec"]["properties"]["flinkVersion"]["enum"]
    assert enum[-1] == "v1_20"
    assert bronze["spec"]["flinkVersion"] == "v2_3"
    with pytest.raises(jsonschema.ValidationError, match="v2_3"):
        jsonschema.validate(bronze, schema)


def test_the_operator_rules_catch_a_missing_savepoint_dir(documents):
    (bronze, _) = of_kind(documents, "FlinkDeployment")
    broken = copy.deepcopy(bronze)
    del broken["spec"]["flinkConfiguration"]["execution.checkpointing.savepoint-dir"]
    assert operator_rule_errors(broken) == [
        "a savepoint upgrade mode needs execution.checkpointing.savepoint-dir"
    ]


def test_values_follow_the_config():
    config = load_config(
        parallelism=4,
        kafka_partitions=12,
        kafka_topic="shop.events",
        checkpoint_interval="30 s",
        taskmanager_memory="8g",
        deployment="shop",
    )
    documents = manifests.render(config)
    for deployment in of_kind(documents, "FlinkDeployment"):
        spec = deployment["spec"]
        assert deployment["metadata"]["name"].startswith("shop-")
        assert spec["job"]["parallelism"] == 4
        assert spec["flinkConfiguration"]["parallelism.default"] == "4"
        assert spec["flinkConfiguration"]["execution.checkpointing.interval"] == "30 s"
        assert spec["taskManager"]["resource"]["memory"] == "8g"
        assert flink_errors(deployment) == []
    (topic,) = of_kind(documents, "KafkaTopic")
    assert topic["spec"]["topicName"] == "shop.events"
    assert topic["spec"]["partitions"] == 12
    scripts = of_kind(documents, "ConfigMap")[0]["data"]
    # The jobs read Strimzi's bootstrap service and write the lake on the shared volume.
    assert "'properties.bootstrap.servers' = 'shop-kafka-bootstrap:9092'" in scripts["bronze.sql"]
    assert "'topic' = 'shop.events'" in scripts["bronze.sql"]
    assert "'warehouse' = '/lake'" in scripts["bronze.sql"]
    assert "'uri' = 'jdbc:sqlite:/lake/catalog.db?" in scripts["bronze.sql"]
    assert "'properties.group.id' = 'shop-silver_gold'" in scripts["silver_gold.sql"]


def test_versions_follow_the_pom(documents):
    flink_version = manifests.pom_property("flink.version")
    for deployment in of_kind(documents, "FlinkDeployment"):
        assert deployment["spec"]["image"] == f"flink:{flink_version}-java17"
        major, minor = flink_version.split(".")[:2]
        assert deployment["spec"]["flinkVersion"] == f"v{major}_{minor}"
    (kafka,) = of_kind(documents, "Kafka")
    assert kafka["spec"]["kafka"]["version"] == manifests.pom_property("kafka.version")


def test_flink_runs_the_local_stacks_state_settings(documents):
    from stack import flink

    for deployment in of_kind(documents, "FlinkDeployment"):
        configuration = deployment["spec"]["flinkConfiguration"]
        assert configuration["state.backend.type"] == "rocksdb"
        assert deployment["spec"]["job"]["upgradeMode"] == "savepoint"
        for key, value in flink.state_settings(load_config()).items():
            if key not in manifests.LOCAL_ONLY_SETTINGS:
                assert configuration[key] == manifests._flink_value(value), key
        assert (
            configuration["execution.checkpointing.dir"] == "file:///flink-state/flink/checkpoints"
        )


def test_each_job_runs_its_own_script_with_the_jars(documents):
    scripts = of_kind(documents, "ConfigMap")[0]["data"]
    assert set(scripts) == {"bronze.sql", "silver_gold.sql"}
    assert "SET 'pipeline.name' = 'clickstream: bronze';" in scripts["bronze.sql"]
    assert "execute statement set" in scripts["silver_gold.sql"]
    for deployment in of_kind(documents, "FlinkDeployment"):
        job = deployment["spec"]["job"]
        name = job["args"][1].rsplit("/", 1)[1]
        assert name in scripts
        assert job["entryClass"] == manifests.SQL_DRIVER
        template = deployment["spec"]["podTemplate"]["spec"]
        assert template["initContainers"][0]["image"] == "clickstream-jars:0.1.0"
        mounts = {m["name"]: m["mountPath"] for m in template["containers"][0]["volumeMounts"]}
        assert mounts["jars"] == manifests.JARS_MOUNT


def test_kafka_is_three_kraft_nodes_with_replication_three(documents):
    (pool,) = of_kind(documents, "KafkaNodePool")
    (kafka,) = of_kind(documents, "Kafka")
    (topic,) = of_kind(documents, "KafkaTopic")
    assert pool["spec"]["replicas"] == 3
    assert pool["spec"]["roles"] == ["controller", "broker"]
    assert pool["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
    assert topic["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
    config = kafka["spec"]["kafka"]["config"]
    assert config["default.replication.factor"] == 3
    assert config["min.insync.replicas"] == 2
    assert topic["spec"]["replicas"] == 3


def test_an_s3_lake_needs_no_lake_volume():
    config = load_config(lake_root="s3://shop-lake/clickstream", lake_catalog="/tmp/catalog.db")
    documents = manifests.render(config)
    claims = [d["metadata"]["name"] for d in of_kind(documents, "PersistentVolumeClaim")]
    assert claims == ["clickstream-flink-state"]
    scripts = of_kind(documents, "ConfigMap")[0]["data"]
    assert "'warehouse' = 's3://shop-lake/clickstream'" in scripts["bronze.sql"]


def test_written_files_are_numbered_in_apply_order(tmp_path, documents):
    paths = manifests.write(documents, tmp_path)
    assert [p.name for p in paths][:2] == [
        "01-kafkanodepool-broker.yaml",
        "02-kafka-clickstream.yaml",
    ]
    assert [yaml.safe_load(p.read_text()) for p in paths] == documents


def test_the_cli_writes_what_render_returns(tmp_path):
    from typer.testing import CliRunner

    import jobs

    result = CliRunner().invoke(
        jobs.app, ["manifests", "--out", str(tmp_path), "--jars-image", "registry/jars:1"]
    )
    assert result.exit_code == 0, result.output
    written = [yaml.safe_load(path.read_text()) for path in sorted(tmp_path.glob("*.yaml"))]
    expected = manifests.render(load_config(), manifests.Target(jars_image="registry/jars:1"))
    assert written == expected


def test_the_jars_image_is_built_from_what_make_jars_fetched():
    dockerfile = (ROOT / "docker" / "flink-jars.Dockerfile").read_text()
    assert "COPY .stack/jars/flink/ /jars/" in dockerfile
    assert manifests.Target().jars_image in dockerfile.replace("REGISTRY/", "")


def test_a_changed_script_changes_the_spec_the_operator_upgrades(documents):
    """The ConfigMap is outside the FlinkDeployment; the script's hash in its pod template is
    what makes the operator take a savepoint and redeploy when only the SQL changed."""

    def sql_hashes(documents: list[dict]) -> list[str]:
        return [
            d["spec"]["podTemplate"]["metadata"]["annotations"][manifests.SQL_HASH_ANNOTATION]
            for d in of_kind(documents, "FlinkDeployment")
        ]

    later = manifests.render(load_config(watermark_delay_seconds=9))
    assert sql_hashes(manifests.render(load_config())) == sql_hashes(documents)
    assert all(a != b for a, b in zip(sql_hashes(later), sql_hashes(documents), strict=True))


def test_the_sql_config_map_fits_kubectl_apply(documents):
    """Client-side `kubectl apply` copies the whole object into an annotation, and a resource's
    annotations may hold 256 KiB in all (a ConfigMap alone may hold 1 MiB)."""
    (config_map,) = of_kind(documents, "ConfigMap")
    assert len(json.dumps(config_map)) < 256 * 1024


# Values no manifest may hold: a key in the rendering process's environment must not leak.
AWS_ENVIRONMENT = {
    "AWS_ENDPOINT_URL_S3": "http://minio.storage:9000",
    "AWS_REGION": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "AKIAMANIFESTTESTKEY",
    "AWS_SECRET_ACCESS_KEY": "manifest-test-secret-2f8a",
    "AWS_SESSION_TOKEN": "manifest-test-session-9c1d",
}
SECRETS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


@pytest.fixture
def aws_environment(monkeypatch) -> dict[str, str]:
    """The rendering process's S3 settings (object_store reads them from the environment)."""
    for name in ("AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    for name, value in AWS_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    return AWS_ENVIRONMENT


def s3_config(**overrides):
    settings = {
        "state_storage": "s3://shop-state/clickstream",
        "lake_root": "s3://shop-lake/clickstream",
        "lake_catalog": "/tmp/catalog.db",
    }
    return load_config(**(settings | overrides))


def flink_container(deployment: dict) -> dict:
    """The container the operator merges into the JobManager's and every TaskManager's pod."""
    (container,) = deployment["spec"]["podTemplate"]["spec"]["containers"]
    assert container["name"] == manifests.FLINK_CONTAINER
    # No per-role template that would replace the shared one's containers.
    assert "podTemplate" not in deployment["spec"]["jobManager"]
    assert "podTemplate" not in deployment["spec"]["taskManager"]
    return container


def environment_of(container: dict) -> dict[str, str]:
    return {variable["name"]: variable["value"] for variable in container.get("env", [])}


def documented_secret(suffix: str = "-s3") -> tuple[str, list[str]]:
    """The name and keys of the Secret docs/scale-out.md's `kubectl create secret generic` makes
    whose name ends in `suffix`."""
    text = (ROOT / "docs" / "scale-out.md").read_text()
    commands = re.findall(r"kubectl create secret generic .*?\n\s*```", text, re.S)
    (command,) = [command for command in commands if command.split()[4].endswith(suffix)]
    return command.split()[4], re.findall(r"--from-(?:literal|file)=(\w+)=", command)


def test_state_on_s3_enables_flinks_s3_plugin_in_every_flink_pod(aws_environment):
    documents = manifests.render(s3_config())
    jar = f"flink-s3-fs-hadoop-{manifests.pom_property('flink.version')}.jar"
    deployments = of_kind(documents, "FlinkDeployment")
    assert len(deployments) == 2
    for deployment in deployments:
        environment = environment_of(flink_container(deployment))
        assert environment["ENABLE_BUILT_IN_PLUGINS"] == jar
        # The local stack's s3 plugin settings, from object_store's one function.
        configuration = deployment["spec"]["flinkConfiguration"]
        assert configuration["s3.endpoint"] == aws_environment["AWS_ENDPOINT_URL_S3"]
        assert configuration["s3.path.style.access"] == "true"
        assert configuration["execution.checkpointing.dir"].startswith("s3://shop-state/")
        assert configuration["execution.checkpointing.savepoint-dir"].startswith("s3://shop-state/")


def test_the_pods_enable_the_same_s3_plugin_jar_make_jars_fetches_for_the_local_stack():
    """The jar name the image's opt/ has, as the pom's flink-s3-plugin profile fetches it (the
    artifact at flink.version): one name for the plugin in both places."""
    folder = flink.plugins_dir(load_config()) / "s3-fs-hadoop"
    jar = manifests.s3_plugin_jar(manifests.pom_property("flink.version"))
    assert [path.name for path in folder.glob("*.jar")] == [jar]


def test_the_pods_get_the_s3_settings_from_the_environment_and_a_secret(aws_environment):
    documents = manifests.render(s3_config(deployment="shop"))
    name, documented = documented_secret()
    assert name == manifests.s3_secret_name(load_config()) == "clickstream-s3"
    assert documented == ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
    for deployment in of_kind(documents, "FlinkDeployment"):
        container = flink_container(deployment)
        assert container["envFrom"] == [{"secretRef": {"name": "shop-s3"}}]
        # The pod's environment: its `env`, and the Secret the docs tell the user to create.
        secret = {name: aws_environment[name] for name in documented}
        in_pod = s3_settings({**secret, **environment_of(container)})
        expected = s3_settings(aws_environment)
        assert in_pod == dataclasses.replace(expected, session_token=None)
        assert in_pod.endpoint and in_pod.region and in_pod.secret_access_key


def test_no_key_is_written_into_any_manifest(tmp_path, aws_environment):
    for index, config in enumerate((s3_config(), s3_config(state_storage=""))):
        documents = manifests.render(config)
        text = "".join(
            path.read_text() for path in manifests.write(documents, tmp_path / str(index))
        )
        assert aws_environment["AWS_REGION"] in text  # the environment was read
        for name in SECRETS:
            assert aws_environment[name] not in text, name


def test_manifests_with_s3_still_match_the_schemas(aws_environment):
    documents = manifests.render(s3_config())
    for document in of_kind(documents, "FlinkDeployment"):
        assert flink_errors(document) == []
        assert operator_rule_errors(document) == []
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "template"}}
        pod["spec"] = copy.deepcopy(document["spec"]["podTemplate"]["spec"])
        pod["spec"]["containers"][0]["image"] = document["spec"]["image"]
        assert core_errors(pod) == []
        broken = copy.deepcopy(pod)
        broken["spec"]["containers"][0]["envFrom"][0]["secretRef"]["key"] = "AWS_ACCESS_KEY_ID"
        assert core_errors(broken) != []
    for document in of_kind(documents, "PersistentVolumeClaim"):
        assert core_errors(document) == []


def test_a_lake_alone_on_s3_gets_the_settings_but_not_the_plugin(aws_environment):
    documents = manifests.render(s3_config(state_storage=""))
    for deployment in of_kind(documents, "FlinkDeployment"):
        container = flink_container(deployment)
        environment = environment_of(container)
        assert "ENABLE_BUILT_IN_PLUGINS" not in environment
        assert environment["AWS_ENDPOINT_URL_S3"] == aws_environment["AWS_ENDPOINT_URL_S3"]
        assert container["envFrom"] == [{"secretRef": {"name": "clickstream-s3"}}]
        assert not [key for key in deployment["spec"]["flinkConfiguration"] if "s3" in key]


def test_unset_endpoint_and_region_are_left_out(monkeypatch, aws_environment):
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3")
    monkeypatch.delenv("AWS_REGION")
    for deployment in of_kind(manifests.render(s3_config()), "FlinkDeployment"):
        container = flink_container(deployment)
        assert set(environment_of(container)) == {"ENABLE_BUILT_IN_PLUGINS"}
        assert "s3.endpoint" not in deployment["spec"]["flinkConfiguration"]


def test_a_local_config_renders_the_same_whatever_the_aws_environment(monkeypatch, documents):
    for name, value in AWS_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    assert manifests.render(load_config()) == documents
    for deployment in of_kind(documents, "FlinkDeployment"):
        assert set(flink_container(deployment)) == {"name", "volumeMounts"}


def test_state_lake_and_catalog_off_the_pods_need_no_shared_volume(aws_environment):
    """The shape of several hosts: checkpoints and lake on S3, the catalog on a PostgreSQL
    server. No ReadWriteMany claim is left; each job's script names the server; the pods still
    match the schemas."""
    server = "postgresql://lake@catalog.db.svc:5432/lake"
    documents = manifests.render(s3_config(lake_catalog=server))
    assert of_kind(documents, "PersistentVolumeClaim") == []
    scripts = of_kind(documents, "ConfigMap")[0]["data"]
    assert "'uri' = 'jdbc:postgresql://catalog.db.svc:5432/lake?user=lake'" in scripts["bronze.sql"]
    name, keys = documented_secret("-catalog")
    assert name == manifests.catalog_secret_name(load_config()) and keys == ["pgpass"]
    for deployment in of_kind(documents, "FlinkDeployment"):
        pod = deployment["spec"]["podTemplate"]["spec"]
        assert {volume["name"] for volume in pod["volumes"]} == {"jars", "sql", "catalog-password"}
        # The password: a .pgpass from the Secret, which pgjdbc finds through PGPASSFILE.
        (secret,) = [v["secret"] for v in pod["volumes"] if "secret" in v]
        assert secret["secretName"] == "clickstream-catalog"
        container = flink_container(deployment)
        (mount,) = [m for m in container["volumeMounts"] if m["name"] == "catalog-password"]
        path = environment_of(container)["PGPASSFILE"]
        assert path == f"{mount['mountPath']}/{keys[0]}"
        assert pod["securityContext"]["fsGroup"] == manifests.FLINK_GROUP
        assert flink_errors(deployment) == []
        template = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "template"}}
        template["spec"] = copy.deepcopy(pod)
        template["spec"]["containers"][0]["image"] = deployment["spec"]["image"]
        assert core_errors(template) == []
    # With the catalog a SQLite file, it stays on the state volume, the one claim left.
    documents = manifests.render(s3_config())
    claims = [d["metadata"]["name"] for d in of_kind(documents, "PersistentVolumeClaim")]
    assert claims == ["clickstream-flink-state"]
