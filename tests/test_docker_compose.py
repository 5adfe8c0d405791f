"""docker-compose.yml cannot run here (no Docker engine), so check what it declares."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_services_are_the_stack():
    assert set(COMPOSE["services"]) == {
        "kafka",
        "create-topic",
        "jobmanager",
        "taskmanager",
        "submit",
        "dashboard",
        "airflow",
    }


def test_ports_are_published_on_loopback_only():
    published = [
        port for service in COMPOSE["services"].values() for port in service.get("ports", [])
    ]
    assert sorted(published) == [
        "127.0.0.1:8080:8080",
        "127.0.0.1:8081:8081",
        "127.0.0.1:8501:8501",
        "127.0.0.1:9092:9092",
    ]


def test_flink_gets_the_connector_jars_and_the_lake():
    for name in ("jobmanager", "taskmanager"):
        service = COMPOSE["services"][name]
        assert "./.stack/jars/flink:/opt/flink/lib/clickstream:ro" in service["volumes"]
        assert "./lake:/lake" in service["volumes"]
        assert "web.submit.enable: false" in service["environment"]["FLINK_PROPERTIES"]
        assert "numberOfTaskSlots: 8" in service["environment"]["FLINK_PROPERTIES"]


def test_topic_has_three_partitions_and_kafka_runs_kraft():
    kafka = COMPOSE["services"]["kafka"]["environment"]
    assert kafka["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert "--partitions 3" in COMPOSE["services"]["create-topic"]["command"]


def test_submit_service_points_jobs_py_at_the_containers():
    submit = COMPOSE["services"]["submit"]
    assert submit["command"] == ["python", "jobs.py", "submit"]
    assert submit["environment"]["CLICKSTREAM_FLINK_REST_URL"] == "http://jobmanager:8081"
    assert submit["environment"]["CLICKSTREAM_LAKE_ROOT"] == "/lake"
    assert (ROOT / submit["build"]["dockerfile"]).exists()
    assert set(COMPOSE["volumes"]) == {"kafka-data", "flink-state"}


def test_dashboard_reads_the_lake_read_only_without_telemetry():
    dashboard = COMPOSE["services"]["dashboard"]
    assert dashboard["environment"]["CLICKSTREAM_LAKE_ROOT"] == "/data/lake"
    assert ".:/data:ro" in dashboard["volumes"]
    assert "--browser.gatherUsageStats false" in dashboard["command"]
    assert "dashboard/app.py" in dashboard["command"]


def test_airflow_runs_the_marts_dag_over_the_lake():
    airflow = COMPOSE["services"]["airflow"]
    environment = airflow["environment"]
    assert airflow["command"] == ["airflow", "standalone"]
    assert (ROOT / environment["AIRFLOW__CORE__DAGS_FOLDER"].replace("/app/", "", 1)).is_dir()
    assert environment["AIRFLOW__CORE__LOAD_EXAMPLES"] == "false"
    assert environment["CLICKSTREAM_LAKE_ROOT"] == "/data/lake"
    assert environment["AIRFLOW_HOME"].startswith("/data/.stack/")  # ignored by git
    assert ".:/data" in airflow["volumes"]


def pom_property(name: str) -> str:
    """A version in jvm/pom.xml, where the local stack's jars come from."""
    namespace = {"m": "http://maven.apache.org/POM/4.0.0"}
    root = ElementTree.parse(ROOT / "jvm" / "pom.xml").getroot()
    return root.find(f"m:properties/m:{name}", namespace).text


def test_images_run_the_versions_the_local_stack_runs():
    kafka_images = {
        service["image"]
        for service in COMPOSE["services"].values()
        if service.get("image", "").startswith("apache/kafka:")
    }
    assert kafka_images == {f"apache/kafka:{pom_property('kafka.version')}"}
    for name in ("jobmanager", "taskmanager"):
        image = COMPOSE["services"][name]["image"]
        assert image.startswith(f"flink:{pom_property('flink.version')}-"), image


def test_taskmanagers_scale():
    """`--scale taskmanager=N` needs a service without a fixed container name or host port."""
    taskmanager = COMPOSE["services"]["taskmanager"]
    assert "container_name" not in taskmanager
    assert "ports" not in taskmanager
    assert "jobmanager.rpc.address: jobmanager" in taskmanager["environment"]["FLINK_PROPERTIES"]
