"""A PostgreSQL server of a test's own, the lake's catalog server (lake_catalog = postgresql://…):
PostgreSQL's binaries from the `pgserver` wheel (requirements.txt), a fresh data directory, a
free loopback port, trust authentication, no Unix socket; stopped and deleted at the end.

PostgreSQL refuses to run as root: as root the server runs as `nobody`, from a copy of the
binaries in its own folder (the project's checkout may be in a folder `nobody` cannot enter)."""

from __future__ import annotations

import importlib.util
import os
import pwd
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
        return psycopg2.connect(host="127.0.0.1", port=self.port, user=USER, dbname=database)

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


@contextmanager
def catalog_server(timeout_s: float = 60) -> Iterator[CatalogServer]:
    """A running PostgreSQL server; stopped (fast shutdown) and its folder deleted after."""
    folder = Path(tempfile.mkdtemp(prefix="clickstream-catalog-"))
    install = _binaries()
    account: dict[str, int] = {}
    if os.geteuid() == 0:
        entry = pwd.getpwnam(UNPRIVILEGED)
        account = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        install = _copy(install, folder / "wheel")
        for path in (folder, *folder.rglob("*")):
            os.chown(path, entry.pw_uid, entry.pw_gid, follow_symlinks=False)
    data, log = folder / "data", folder / "postgres.log"
    process = None
    try:
        subprocess.run(
            [install / "bin" / "initdb", "-D", data, "-U", USER, "--auth=trust", "--no-sync"],
            cwd=folder,
            check=True,
            capture_output=True,
            **account,
        )
        (port,) = free_ports(1)
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
        server = CatalogServer(port, log)
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
