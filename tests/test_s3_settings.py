"""Settings of the lake and of Flink's state on S3, and what they render, without services: the
FileIO chosen by lake_root's scheme, the catalog file kept on local disk, checkpoints on
state_storage, and the AWS environment read in one place (stack/object_store.py)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from pipeline import deploy, lake_schema
from stack import flink
from stack.config import (
    LAKE_FILE_IO,
    ConfigError,
    lake_catalog_of,
    load_config,
)
from stack.lake_catalog import LakeCatalog
from stack.object_store import s3_settings
from stack.processes import StackError

AWS = {
    "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:4566",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "secret-testing",
    "AWS_REGION": "us-east-1",
}


def config_of(tmp_path: Path, **settings):
    return load_config(path=tmp_path / "none.toml", environ={}, **settings)


def s3_lake(tmp_path: Path, **settings):
    catalog = tmp_path / "catalog" / "catalog.db"
    return config_of(
        tmp_path, lake_root="s3://shop-lake/clickstream/", lake_catalog=str(catalog), **settings
    )


def test_a_local_lake_keeps_its_catalog_at_its_root_and_hadoops_file_io(tmp_path):
    config = config_of(tmp_path, lake_root=str(tmp_path / "lake"))
    params = config.sql_params("bronze")
    assert params["lake_catalog_uri"] == (
        f"jdbc:sqlite:{tmp_path / 'lake' / 'catalog.db'}?busy_timeout=30000"
    )
    assert params["lake_file_io"] == "org.apache.iceberg.hadoop.HadoopFileIO"
    assert lake_catalog_of(tmp_path / "lake") == config.lake_iceberg_catalog
    # Checkpoints and savepoints stay where they were: under the state directory.
    assert config.checkpoint_uri == f"file://{config.state_dir}/flink/checkpoints"
    assert config.savepoint_uri == f"file://{config.state_dir}/flink/savepoints"


def test_an_s3_lake_renders_s3fileio_and_its_local_catalog_and_no_secret(tmp_path, monkeypatch):
    for name, value in AWS.items():
        monkeypatch.setenv(name, value)
    config = s3_lake(tmp_path)
    job = deploy.load_job(config, "bronze")
    ddl = "\n".join(sql_object.statement.sql for sql_object in job.ddl)
    assert "'warehouse' = 's3://shop-lake/clickstream'" in ddl
    assert "'io-impl' = 'org.apache.iceberg.aws.s3.S3FileIO'" in ddl
    assert "'s3.path-style-access' = 'true'" in ddl
    catalog = LakeCatalog(file=tmp_path / "catalog" / "catalog.db")
    assert f"'uri' = '{catalog.jdbc_uri}'" in ddl
    # Every WITH option becomes a table property: no endpoint or key may be among them.
    assert not any(value in ddl for value in AWS.values())
    assert config.warehouse_path == tmp_path / "catalog" / "clickstream.duckdb"


def test_every_lake_table_names_the_file_io_option_of_its_one_home():
    for table in lake_schema.lake_tables().values():
        text = table.path.read_text()
        assert "'io-impl' = '${lake_file_io}'" in text, table.path
    assert set(LAKE_FILE_IO) == {"", "s3"}


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"lake_root": "s3://shop-lake/x"}, "set lake_catalog to its Iceberg catalog"),
        ({"lake_root": "s3://", "lake_catalog": "/c.db"}, "must name a bucket"),
        ({"lake_root": "gs://shop-lake/x", "lake_catalog": "/c.db"}, "local path or an s3://"),
        (
            {"lake_root": "s3://shop-lake/x", "lake_catalog": "s3://shop-lake/catalog.db"},
            "cannot live on object storage",
        ),
        ({"lake_catalog": "/var/lib/catalog.db"}, "only for a lake on object storage"),
        ({"lake_catalog": "mysql://lake@db/lake"}, "a local SQLite file or postgresql://"),
        ({"lake_catalog": "postgresql://lake:secret@db/lake"}, "must not carry a password"),
        ({"lake_catalog": "postgresql://db:5432/lake"}, "must name a user, a host and a database"),
        ({"lake_catalog": "postgresql://lake@db:5432/"}, "must name a user, a host and a database"),
        ({"lake_catalog": "postgresql://lake@db/lake?ssl=true"}, "takes no query"),
        ({"state_storage": "hdfs://nn/flink"}, "state_storage must be a local path or an s3://"),
    ],
)
def test_storage_settings_are_refused_with_a_reason(tmp_path, settings, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        config_of(tmp_path, **settings)


def test_a_reader_finds_an_s3_lakes_catalog_only_through_that_lakes_settings(tmp_path, monkeypatch):
    catalog = tmp_path / "catalog.db"
    monkeypatch.setenv("CLICKSTREAM_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("CLICKSTREAM_LAKE_ROOT", "s3://shop-lake/a")
    monkeypatch.setenv("CLICKSTREAM_LAKE_CATALOG", str(catalog))
    assert lake_catalog_of("s3://shop-lake/a/") == LakeCatalog(file=catalog)
    with pytest.raises(ConfigError, match="settings are for the lake s3://shop-lake/a"):
        lake_catalog_of("s3://shop-lake/b")


@pytest.mark.parametrize("lake_root", ["s3://shop-lake/clickstream", "LOCAL"])
def test_a_catalog_server_is_named_the_same_to_flink_and_to_the_readers(tmp_path, lake_root):
    """A PostgreSQL catalog: Flink's JdbcCatalog gets pgjdbc's URL (user as a parameter, no
    password), pyiceberg SQLAlchemy's; both name the same user, host, port and database, with or
    without an S3 lake, and the DDL renders it."""
    lake_root = str(tmp_path / "lake") if lake_root == "LOCAL" else lake_root
    config = config_of(
        tmp_path, lake_root=lake_root, lake_catalog="postgresql://lake@db.internal/shop"
    )
    catalog = config.lake_iceberg_catalog
    assert catalog.is_server and catalog.file is None
    assert catalog.jdbc_uri == "jdbc:postgresql://db.internal:5432/shop?user=lake"
    assert catalog.sqlalchemy_uri == "postgresql+psycopg2://lake@db.internal:5432/shop"
    assert catalog.may_hold_tables()
    job = deploy.load_job(config, "silver_gold")
    ddl = "\n".join(sql_object.statement.sql for sql_object in job.ddl)
    assert "'uri' = 'jdbc:postgresql://db.internal:5432/shop?user=lake'" in ddl
    assert "sqlite" not in ddl
    explicit = LakeCatalog.parse("postgresql://lake@db.internal:6543/shop")
    assert explicit.jdbc_uri == "jdbc:postgresql://db.internal:6543/shop?user=lake"
    # dbt's DuckDB file: beside a local lake, or in the state directory (no catalog file).
    expected = config.state_dir if "://" in lake_root else tmp_path
    assert config.warehouse_path == expected / "clickstream.duckdb"


def test_the_clients_jvm_gets_the_catalog_servers_password_file_not_the_password():
    server = LakeCatalog.parse("postgresql://lake@db.internal/shop")
    environ = {"PGPASSFILE": "/etc/clickstream/pgpass", "PGPASSWORD": "secret"}
    assert server.java_system_properties(environ) == {
        "org.postgresql.pgpassfile": "/etc/clickstream/pgpass"
    }
    assert server.java_system_properties({}) == {}
    assert LakeCatalog(file=Path("/c.db")).java_system_properties(environ) == {}


def test_a_sqlite_catalog_file_is_created_by_its_first_writer_only(tmp_path):
    catalog = LakeCatalog.parse(tmp_path / "state" / "lake-catalog" / "catalog.db")
    assert not catalog.may_hold_tables()
    catalog.prepare()
    assert catalog.file.parent.is_dir() and not catalog.may_hold_tables()
    catalog.file.touch()
    assert catalog.may_hold_tables()


def test_checkpoints_on_s3_need_the_plugin_and_get_the_endpoint_not_the_keys(tmp_path, monkeypatch):
    for name, value in AWS.items():
        monkeypatch.setenv(name, value)
    config = config_of(tmp_path, state_storage="s3://shop-state/flink/", jars_dir=tmp_path / "jars")
    assert config.checkpoint_uri == "s3://shop-state/flink/checkpoints"
    assert config.savepoint_uri == "s3://shop-state/flink/savepoints"
    assert deploy.job_defaults(config, "bronze")["execution.checkpointing.dir"] == (
        config.checkpoint_uri
    )
    settings = flink.cluster_settings(config)
    assert settings["execution.checkpointing.dir"] == config.checkpoint_uri
    assert settings["s3.endpoint"] == AWS["AWS_ENDPOINT_URL_S3"]
    assert settings["s3.path.style.access"] is True
    assert not {"s3.access-key", "s3.secret-key"} & set(settings)
    with pytest.raises(StackError, match="run `make jars`"):
        flink.flink_env(config)
    plugin = tmp_path / "jars" / "flink-plugins" / "s3-fs-hadoop"
    plugin.mkdir(parents=True)
    (plugin / "flink-s3-fs-hadoop-2.3.0.jar").touch()
    assert flink.flink_env(config)["FLINK_PLUGINS_DIR"] == str(plugin.parent)
    # A local state storage adds neither.
    local = config_of(tmp_path)
    assert "s3.endpoint" not in flink.cluster_settings(local)
    assert flink.flink_env(local).get("FLINK_PLUGINS_DIR") == os.environ.get("FLINK_PLUGINS_DIR")


def test_s3_settings_come_from_the_aws_environment_variables():
    settings = s3_settings({**AWS, "AWS_ENDPOINT_URL": "http://other:1"})
    assert settings.endpoint == "http://127.0.0.1:4566"  # the S3-specific variable wins
    assert settings.pyiceberg_properties() == {
        "s3.endpoint": "http://127.0.0.1:4566",
        "s3.region": "us-east-1",
        "s3.access-key-id": "testing",
        "s3.secret-access-key": "secret-testing",
    }
    assert s3_settings({"AWS_DEFAULT_REGION": "eu-west-1"}).pyiceberg_properties() == {
        "s3.region": "eu-west-1"
    }


def test_the_client_jvm_gets_the_same_settings_as_java_system_properties():
    settings = s3_settings(
        {
            "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000",
            "AWS_REGION": "eu-west-1",
            "AWS_ACCESS_KEY_ID": "id",
            "AWS_SECRET_ACCESS_KEY": "secret",
        }
    )
    assert settings.java_system_properties() == {
        "aws.endpointUrlS3": "http://127.0.0.1:9000",
        "aws.region": "eu-west-1",
        "aws.accessKeyId": "id",
        "aws.secretAccessKey": "secret",
    }
