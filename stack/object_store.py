"""The S3 endpoint and credentials of a lake or of Flink's state on object storage.

They come from the AWS SDKs' standard environment variables, the one place every part reads
them: the Flink processes (Iceberg's S3FileIO, the s3 file system plugin) inherit them from the
environment `jobs.py up` runs in, and the Python readers take them from `s3_settings()`. None of
them is a setting in stack/config.py or an option in the lake's DDL: every WITH option becomes an
Iceberg table property, which would store the secret in the lake's metadata and pin readers to a
stale endpoint (docs/lake.md, "The lake on object storage").
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

# The endpoint of an S3-compatible store (MinIO, moto, S3Proxy); unset means AWS itself. The
# service-specific variable wins over the general one, as in the AWS SDKs.
ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")


@dataclass(frozen=True)
class S3Settings:
    endpoint: str | None
    region: str | None
    access_key_id: str | None
    secret_access_key: str | None
    session_token: str | None

    def pyiceberg_properties(self) -> dict[str, str]:
        """Catalog properties of pyiceberg's FileIO (unset ones: the SDK's default chain)."""
        properties = {
            "s3.endpoint": self.endpoint,
            "s3.region": self.region,
            "s3.access-key-id": self.access_key_id,
            "s3.secret-access-key": self.secret_access_key,
            "s3.session-token": self.session_token,
        }
        return {key: value for key, value in properties.items() if value}

    def flink_settings(self) -> dict[str, object]:
        """Flink's s3 file system plugin (checkpoints and savepoints on S3): the endpoint and
        path-style requests. Its credentials come from the same environment variables."""
        settings: dict[str, object] = {"s3.path.style.access": True}
        if self.endpoint:
            settings["s3.endpoint"] = self.endpoint
        return settings

    def java_system_properties(self) -> dict[str, str]:
        """The same settings as the AWS SDK for Java's system properties, which it reads before
        the environment: for PyFlink's client JVM, which lives as long as its Python process and
        keeps the environment it started with (a process that deploys to several stacks)."""
        properties = {
            "aws.endpointUrlS3": self.endpoint,
            "aws.region": self.region,
            "aws.accessKeyId": self.access_key_id,
            "aws.secretAccessKey": self.secret_access_key,
            "aws.sessionToken": self.session_token,
        }
        return {key: value for key, value in properties.items() if value}

    def filesystem(self):
        """An fsspec file system for s3:// paths (s3fs), e.g. for DuckDB's register_filesystem."""
        import s3fs

        return s3fs.S3FileSystem(
            key=self.access_key_id,
            secret=self.secret_access_key,
            token=self.session_token,
            endpoint_url=self.endpoint,
            client_kwargs={"region_name": self.region} if self.region else {},
        )


def s3_settings(environ: Mapping[str, str] | None = None) -> S3Settings:
    """The S3 settings of `environ` (default: this process's environment)."""
    environ = os.environ if environ is None else environ

    def first(names: tuple[str, ...]) -> str | None:
        return next((environ[name] for name in names if environ.get(name)), None)

    return S3Settings(
        endpoint=first(ENDPOINT_VARIABLES),
        region=first(REGION_VARIABLES),
        access_key_id=environ.get("AWS_ACCESS_KEY_ID") or None,
        secret_access_key=environ.get("AWS_SECRET_ACCESS_KEY") or None,
        session_token=environ.get("AWS_SESSION_TOKEN") or None,
    )
