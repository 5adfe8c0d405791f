"""Where the lake's Iceberg tables are registered: the one catalog the Flink jobs commit to
(Iceberg's JdbcCatalog) and every reader opens (pyiceberg's SqlCatalog).

Two kinds, by the setting `lake_catalog` (docs/lake.md, "Catalog"):
- a SQLite file on local disk: `<lake_root>/catalog.db` for a local lake, the named file for a
  lake on S3. Every process that commits or reads must see that file: one machine.
- a PostgreSQL database, `postgresql://user@host[:port]/database`: a catalog server every host
  reaches, for TaskManagers on several machines (docs/scale-out.md). Its password is never a
  setting (the URI is a table option, stored with the table): both drivers read it from
  `~/.pgpass` or the file `PGPASSFILE` names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

# A local lake's catalog file, at its root.
LAKE_CATALOG_FILE = "catalog.db"
# Two jobs commit to one SQLite file: a writer finding it locked waits this long, not fails.
LAKE_CATALOG_BUSY_TIMEOUT_MS = 30_000
# The catalog servers lake_catalog may name, by URI scheme.
CATALOG_SERVER_SCHEMES = ("postgresql",)
POSTGRESQL_PORT = 5432
# Where both drivers find a catalog server's password (libpq and pgjdbc; default ~/.pgpass).
PASSWORD_FILE_VARIABLE = "PGPASSFILE"
PGJDBC_PASSWORD_FILE_PROPERTY = "org.postgresql.pgpassfile"


class LakeCatalogError(ValueError):
    """lake_catalog names no catalog this project can use."""


@dataclass(frozen=True)
class LakeCatalog:
    """A SQLite file (`file`) or a PostgreSQL database (`server`, its URI without password)."""

    file: Path | None = None
    server: str = ""

    @classmethod
    def parse(cls, location: str | Path) -> LakeCatalog:
        """A catalog from lake_catalog's value: a postgresql:// URI, or a local file's path."""
        text = str(location)
        scheme = text.partition("://")[0].lower() if "://" in text else ""
        if not scheme:
            return cls(file=Path(text).expanduser().resolve())
        if scheme not in CATALOG_SERVER_SCHEMES:
            raise LakeCatalogError(
                f"lake_catalog must be a local SQLite file or postgresql://user@host:port/database, "
                f"got {text!r}: a SQLite file cannot live on object storage"
            )
        parts = urlsplit(text)
        if parts.password is not None:
            raise LakeCatalogError(
                f"lake_catalog must not carry a password ({parts.scheme}://{parts.username}:…@…): "
                "the URI is stored with every table; put it in ~/.pgpass or the file PGPASSFILE "
                "names, which both PostgreSQL drivers read"
            )
        if not (parts.username and parts.hostname and parts.path.strip("/")):
            raise LakeCatalogError(
                f"lake_catalog {text!r} must name a user, a host and a database: "
                "postgresql://user@host[:port]/database"
            )
        if parts.query or parts.fragment:
            raise LakeCatalogError(f"lake_catalog {text!r} takes no query or fragment")
        return cls(server=text.rstrip("/"))

    @property
    def is_server(self) -> bool:
        return bool(self.server)

    @property
    def _server_parts(self) -> tuple[str, str, int, str]:
        parts = urlsplit(self.server)
        return parts.username, parts.hostname, parts.port or POSTGRESQL_PORT, parts.path.strip("/")

    @property
    def jdbc_uri(self) -> str:
        """The catalog as the Flink tables name it (`'uri' = '${lake_catalog_uri}'`)."""
        if self.is_server:
            user, host, port, database = self._server_parts
            return f"jdbc:postgresql://{host}:{port}/{database}?user={user}"
        return f"jdbc:sqlite:{self.file}?busy_timeout={LAKE_CATALOG_BUSY_TIMEOUT_MS}"

    @property
    def sqlalchemy_uri(self) -> str:
        """The catalog as pyiceberg's SqlCatalog opens it."""
        if self.is_server:
            user, host, port, database = self._server_parts
            return f"postgresql+psycopg2://{user}@{host}:{port}/{database}"
        return f"sqlite:///{self.file}"

    def java_system_properties(self, environ: Mapping[str, str]) -> dict[str, str]:
        """For a JVM started in another environment (PyFlink's client): the password file
        `environ` names, as pgjdbc's system property, which it reads before PGPASSFILE."""
        if self.is_server and environ.get(PASSWORD_FILE_VARIABLE):
            return {PGJDBC_PASSWORD_FILE_PROPERTY: environ[PASSWORD_FILE_VARIABLE]}
        return {}

    def may_hold_tables(self) -> bool:
        """False only for a SQLite file no job has created yet (a server is always asked)."""
        return self.is_server or self.file.exists()

    def prepare(self) -> None:
        """The folder of a SQLite file, which its first writer creates."""
        if self.file is not None:
            self.file.parent.mkdir(parents=True, exist_ok=True)

    def __str__(self) -> str:
        return self.server or str(self.file)
