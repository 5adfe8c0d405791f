"""A PostgreSQL server of a test's own, the lake's catalog server (lake_catalog = postgresql://…):
PostgreSQL's binaries from the `pgserver` wheel (requirements.txt), a fresh data directory, a
free loopback port, no Unix socket; stopped and deleted at the end.

It asks for a password (scram-sha-256), as a real one does: the URI never carries it, so every
client finds it in the password file `password_file` (a .pgpass line), which the caller names
with PGPASSFILE (stack/lake_catalog.py) — psycopg2 in the readers, pgjdbc in the Flink
processes and in PyFlink's client.

PostgreSQL refuses to run as root: as root the server runs as `nobody`, from a copy of the
binaries in its own folder (the project's checkout may be in a folder `nobody` cannot enter)."""

from __future__ import annotations

import importlib.util
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2

from stack.processes import free_ports, wait_until

USER = "lake"
UNPRIVILEGED = "nobody"


@dataclass(frozen=True)
class CatalogServer:
    port: int
    password_file: Path  # a .pgpass for this server, mode 0600
    log: Path

    def create_database(self, name: str) -> str:
        """A new database; its lake_catalog URI."""
        connection = self._connect("postgres")
        try:
            connection.autocommit = True
            connection.cursor().execute(f'create database "{name}"')
        finally:
            connection.close()
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{name}"

    def tables(self, lake_catalog: str) -> list[str]:
        """The Iceberg tables the catalog `lake_catalog` (a URI of create_database) registers,
        as namespace.name."""
        connection = self._connect(urlsplit(lake_catalog).path.strip("/"))
        try:
            cursor = connection.cursor()
            cursor.execute(
                "select table_namespace || '.' || table_name from iceberg_tables order by 1"
            )
            return [name for (name,) in cursor.fetchall()]
        finally:
            connection.close()

    def _connect(self, database: str):
        return psycopg2.connect(
            host="127.0.0.1",
            port=self.port,
            user=USER,
            dbname=database,
            passfile=str(self.password_file),
        )

    def answers(self) -> bool:
        try:
            self._connect("postgres").close()
        except psycopg2.OperationalError:  # not listening yet
            return False
        return True


def _binaries() -> Path:
    spec = importlib.util.find_spec("pgserver")
    if spec is None or spec.origin is None:
        raise RuntimeError("the pgserver wheel is not installed: run `make setup`")
    return Path(spec.origin).parent / "pginstall"


def _copy(install: Path, target: Path) -> Path:
    """The binaries and the wheel's shared libraries, laid out as in site-packages (the
    programs find the libraries at $ORIGIN/../../../pgserver.libs)."""
    package = install.parent
    libraries = package.parent / f"{package.name}.libs"
    shutil.copytree(libraries, target / libraries.name, symlinks=True)
    ignore = shutil.ignore_patterns("include")
    shutil.copytree(install, target / package.name / install.name, symlinks=True, ignore=ignore)
    return target / package.name / install.name


def _private_file(path: Path, text: str) -> None:
    """A file only its owner reads (libpq ignores a password file others can read)."""
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
        file.write(text)


@contextmanager
def catalog_server(timeout_s: float = 60) -> Iterator[CatalogServer]:
    """A running PostgreSQL server; stopped (fast shutdown) and its folder deleted after."""
    folder = Path(tempfile.mkdtemp(prefix="clickstream-catalog-"))
    client = Path(tempfile.mkdtemp(prefix="clickstream-catalog-client-"))
    password = secrets.token_hex(16)
    install = _binaries()
    _private_file(folder / "password", password + "\n")  # initdb's, for the superuser
    account: dict[str, object] = {}
    if os.geteuid() == 0:
        entry = pwd.getpwnam(UNPRIVILEGED)
        account = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        install = _copy(install, folder / "wheel")
        for path in (folder, *folder.rglob("*")):
            os.chown(path, entry.pw_uid, entry.pw_gid, follow_symlinks=False)
    data, log = folder / "data", folder / "postgres.log"
    process = None
    try:
        authentication = ["--auth=scram-sha-256", f"--pwfile={folder / 'password'}"]
        subprocess.run(
            [install / "bin" / "initdb", "-D", data, "-U", USER, "--no-sync", *authentication],
            cwd=folder,
            check=True,
            capture_output=True,
            **account,
        )
        (port,) = free_ports(1)
        password_file = client / "pgpass"
        _private_file(password_file, f"127.0.0.1:{port}:*:{USER}:{password}\n")
        listen = ["-h", "127.0.0.1", "-p", str(port), "-k", "", "-c", "fsync=off"]
        with log.open("wb") as output:
            process = subprocess.Popen(
                [install / "bin" / "postgres", "-D", data, *listen],
                cwd=folder,
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                **account,
            )
        server = CatalogServer(port, password_file, log)
        assert wait_until(lambda: process.poll() is not None or server.answers(), timeout_s, 0.1)
        assert process.poll() is None, log.read_text()
        yield server
    finally:
        if process is not None:
            # Fast shutdown: a smart one (SIGTERM) waits for every client, and pyiceberg's
            # connection pools keep theirs open.
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(client, ignore_errors=True)
