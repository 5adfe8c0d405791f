"""One typed configuration for the local stack and the pipeline's connection settings.

Values come from the defaults below, then `clickstream.toml` at the repository root (or the file
named by CLICKSTREAM_CONFIG), then environment variables `CLICKSTREAM_<FIELD>` (upper case), so
the same SQL runs against the local stack and against a remote cluster.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist

from stack.lake_catalog import LAKE_CATALOG_FILE, LakeCatalog, LakeCatalogError
from stack.processes import free_port_runs

REPO_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "CLICKSTREAM_"


# The settings dbt_project/ reads as vars of the same name: gold's window size for the
# reconciliation tests, the high-interest/low-conversion flag of product_performance, sessions.
DBT_VARS = (
    "window_minutes",
    "rollup_minutes",
    "hilc_min_views",
    "hilc_confidence",
    "hilc_conversion_ratio",
    "session_timeout_minutes",
)


# The object stores lake_root and state_storage may name, by URI scheme.
OBJECT_STORE_SCHEMES = ("s3",)
# The FileIO the lake's tables are written and read with, by lake_root's scheme ("" = a local
# path): on local disk JdbcCatalog's own default, Hadoop's; on S3 Iceberg's S3 client (jar
# iceberg-aws-bundle), configured from the AWS environment variables (stack/object_store.py).
LAKE_FILE_IO = {
    "": "org.apache.iceberg.hadoop.HadoopFileIO",
    "s3": "org.apache.iceberg.aws.s3.S3FileIO",
}


def uri_scheme(location: str | Path) -> str:
    """The scheme of `location` ("s3" of s3://bucket/prefix); "" for a local path."""
    scheme, separator, _ = str(location).partition("://")
    return scheme.lower() if separator else ""


def is_object_store(location: str | Path) -> bool:
    return uri_scheme(location) in OBJECT_STORE_SCHEMES


def lake_catalog_of(lake_root: str | Path) -> LakeCatalog:
    """The catalog of the lake at `lake_root`: the one this process's settings name when they are
    that lake's (a lake on object storage, or any lake with a catalog server), else
    `<lake_root>/catalog.db` of a local lake."""
    root = str(lake_root).rstrip("/")
    config = load_config()
    if config.lake_root.rstrip("/") == root:
        return config.lake_iceberg_catalog
    if not is_object_store(root):
        return LakeCatalog(file=Path(root) / LAKE_CATALOG_FILE)
    raise ConfigError(
        f"the lake {root} is on object storage, so its catalog is the one its lake_catalog "
        f"setting names; this process's settings are for the lake {config.lake_root}: set "
        f"CLICKSTREAM_LAKE_ROOT={root} and CLICKSTREAM_LAKE_CATALOG"
    )


class ConfigError(ValueError):
    """A configuration value is missing, malformed or inconsistent."""


@dataclass(frozen=True)
class Config:
    # Where the local stack keeps jars, pids, logs, broker data and checkpoints.
    state_dir: Path = REPO_ROOT / ".stack"
    # The Flink SQL to deploy: tables/, views/ and jobs/.
    sql_dir: Path = REPO_ROOT / "flink_sql"
    # Where `make jars` puts the Maven artifacts (flink/ and kafka/).
    jars_dir: Path = REPO_ROOT / ".stack" / "jars"
    # Local stack: every service binds this host only.
    bind_host: str = "127.0.0.1"
    # Broker n (1..kafka_brokers) listens on kafka_port + 2(n - 1) and its KRaft controller on
    # kafka_controller_port + 2(n - 1): 9092/9093, 9094/9095, ... One broker is the default
    # (`make demo`); three form a quorum that survives losing one (docs/scale-out.md, "Several
    # brokers and TaskManagers").
    kafka_brokers: int = 1
    kafka_port: int = 9092
    kafka_controller_port: int = 9093
    kafka_heap: str = "1g"
    flink_rest_port: int = 8081
    flink_rpc_port: int = 6123
    taskmanagers: int = 1
    taskmanager_slots: int = 8
    taskmanager_memory: str = "6g"
    jobmanager_memory: str = "1600m"
    parallelism: int = 1
    checkpoint_interval: str = "10 s"
    # Where operator state lives: rocksdb (local disk, incremental checkpoints) or hashmap (the
    # JVM heap, snapshotted in full: only for state that fits in memory). stack/flink.py.
    state_backend: str = "rocksdb"
    # Names the deployment: jobs show as "<deployment>: <job>" and consume as group "<deployment>-<job>".
    deployment: str = "clickstream"
    # Connection settings the SQL is rendered with (override these for a remote deployment).
    kafka_bootstrap_servers: str = ""
    kafka_topic: str = "clickstream.events"
    kafka_partitions: int = 3
    flink_rest_url: str = ""
    # A local folder, or s3://bucket/prefix (docs/lake.md, "The lake on object storage").
    lake_root: str = str(REPO_ROOT / "lake")
    # The lake's Iceberg catalog (stack/lake_catalog.py): empty for a local lake, whose catalog is
    # <lake_root>/catalog.db; a local SQLite file for a lake on object storage (required then); or
    # postgresql://user@host[:port]/database, a catalog server every host reaches (any lake).
    lake_catalog: str = ""
    # Where checkpoints and savepoints go: empty = <state_dir>/flink on local disk (one machine),
    # or s3://bucket/prefix, storage every TaskManager reaches (docs/scale-out.md).
    state_storage: str = ""
    # Pipeline semantics, rendered into flink_sql/ as ${name} placeholders; those in DBT_VARS are
    # also the dbt project's vars of the same name.
    # The watermark trails the newest event_at by this much; which events are late is stated
    # once, in docs/events.md ("On time, late or duplicate").
    watermark_delay_seconds: int = 5
    max_future_minutes: int = 60
    # How long an event_id is remembered after its first arrival: a copy re-sent later passes as
    # a new event. The state is rate x this many ids (pipeline/state_cost.py, docs/operations.md).
    dedup_state_ttl: str = "1 h"
    window_minutes: int = 1
    # The coarser tumbling windows gold also reports, cascaded from the window_minutes windows
    # (docs/lake.md, "Window sizes"): two sizes, each a multiple of the one before.
    rollup_minutes: tuple[int, ...] = (5, 10)
    bot_events_per_minute: int = 50
    high_value_price: int = 500
    # High interest, low conversion (docs/lake.md): over sliding windows of hilc_window_minutes
    # that advance every hilc_slide_minutes, a product with at least hilc_min_views views is
    # flagged when, at hilc_confidence, its conversion rate is below hilc_conversion_ratio times
    # the rest of the shop's: the upper end of its Wilson score interval is below that.
    hilc_window_minutes: int = 30
    hilc_slide_minutes: int = 1
    hilc_min_views: int = 100
    hilc_confidence: float = 0.99
    hilc_conversion_ratio: float = 0.6
    # Sessions (gold_sessions and dbt's sessions mart): a gap of at least this long between two
    # events of a user starts a new session.
    session_timeout_minutes: int = 30
    source_idle_timeout: str = "30 s"
    # on-periodic (every 200 ms, fast) or on-event (after every record: which records are late
    # no longer depends on timing, so tests can compare exact counts).
    watermark_emit_strategy: str = "on-periodic"
    kafka_bounded_mode: str = "unbounded"
    # Bounded waits for `up` and job state changes.
    startup_timeout_s: float = 90.0
    # The Streamlit dashboard (`jobs.py dashboard`, started by `make demo`) and how often it
    # re-reads the lake.
    dashboard_port: int = 8501
    dashboard_refresh_seconds: int = 5

    @property
    def broker_ids(self) -> range:
        """The local brokers' KRaft node ids."""
        return range(1, self.kafka_brokers + 1)

    def broker_ports(self, node: int) -> tuple[int, int]:
        """(client port, controller port) of local broker `node`."""
        step = BROKER_PORT_STEP * (node - 1)
        return self.kafka_port + step, self.kafka_controller_port + step

    @property
    def bootstrap_servers(self) -> str:
        return self.kafka_bootstrap_servers or ",".join(
            f"{self.bind_host}:{self.broker_ports(node)[0]}" for node in self.broker_ids
        )

    def local_ports(self) -> dict[str, int]:
        """Every port the local stack binds, by the setting it derives from (broker n > 1 binds
        the setting's port + 2(n - 1))."""
        ports = {}
        for node in self.broker_ids:
            suffix = "" if node == 1 else f" (broker {node})"
            client, controller = self.broker_ports(node)
            ports[f"kafka_port{suffix}"] = client
            ports[f"kafka_controller_port{suffix}"] = controller
        return {
            **ports,
            "flink_rest_port": self.flink_rest_port,
            "flink_rpc_port": self.flink_rpc_port,
            "dashboard_port": self.dashboard_port,
        }

    @property
    def kafka_replication_factor(self) -> int:
        """Copies of each partition: every broker up to three (Kafka's usual production value)."""
        return min(3, self.kafka_brokers)

    @property
    def kafka_min_insync_replicas(self) -> int:
        """Copies an acks=all write needs: all but one, so one broker may be down or lagging."""
        return max(1, self.kafka_replication_factor - 1)

    @property
    def rest_url(self) -> str:
        return (self.flink_rest_url or f"http://{self.bind_host}:{self.flink_rest_port}").rstrip(
            "/"
        )

    def sql_params(self, job: str) -> dict[str, str]:
        """The values `${name}` placeholders in flink_sql/ are rendered with, for one job."""
        return {
            "kafka_bootstrap_servers": self.bootstrap_servers,
            "kafka_topic": self.kafka_topic,
            "deployment": self.deployment,
            "kafka_group_id": f"{self.deployment}-{job}",
            "kafka_bounded_mode": self.kafka_bounded_mode,
            "lake_root": self.lake_root.rstrip("/"),
            "lake_catalog_uri": self.lake_iceberg_catalog.jdbc_uri,
            "lake_file_io": self.lake_file_io,
            "watermark_delay_seconds": str(self.watermark_delay_seconds),
            "max_future_minutes": str(self.max_future_minutes),
            "dedup_state_ttl": self.dedup_state_ttl,
            "window_minutes": str(self.window_minutes),
            "rollup_minutes_1": str(self.rollup_minutes[0]),
            "rollup_minutes_2": str(self.rollup_minutes[1]),
            "bot_events_per_minute": str(self.bot_events_per_minute),
            "high_value_price": str(self.high_value_price),
            "hilc_min_views": str(self.hilc_min_views),
            "hilc_window_minutes": str(self.hilc_window_minutes),
            "hilc_slide_minutes": str(self.hilc_slide_minutes),
            "hilc_confidence": repr(self.hilc_confidence),
            "hilc_z": repr(self.hilc_z),
            "hilc_conversion_ratio": repr(self.hilc_conversion_ratio),
            "session_gap_seconds": self.session_gap_seconds,
            "source_idle_timeout": self.source_idle_timeout,
            "watermark_emit_strategy": self.watermark_emit_strategy,
        }

    @property
    def hilc_z(self) -> float:
        """The standard normal quantile of hilc_confidence: the Wilson bound's z."""
        return NormalDist().inv_cdf(self.hilc_confidence)

    @property
    def session_gap_seconds(self) -> str:
        """Flink's session gap: the timeout less one millisecond, since Flink merges session
        windows that touch and a gap of exactly the timeout must split (docs/lake.md)."""
        return f"{self.session_timeout_minutes * 60 - 0.001:.3f}"

    def dbt_vars(self) -> dict[str, int | float]:
        """The semantic settings the dbt project reads, as `--vars` (dbt_project.yml defaults each
        to its CLICKSTREAM_* environment variable, then to the default here)."""
        return {name: getattr(self, name) for name in DBT_VARS}

    @property
    def dashboard_url(self) -> str:
        return f"http://{self.bind_host}:{self.dashboard_port}"

    @property
    def lake_iceberg_catalog(self) -> LakeCatalog:
        """The lake's catalog: lake_catalog (a file or a server), else <lake_root>/catalog.db."""
        if self.lake_catalog:
            return LakeCatalog.parse(self.lake_catalog)
        return LakeCatalog(file=Path(self.lake_root.rstrip("/")) / LAKE_CATALOG_FILE)

    @property
    def lake_file_io(self) -> str:
        """The Iceberg FileIO of the lake's tables (`'io-impl' = '${lake_file_io}'`)."""
        return LAKE_FILE_IO[uri_scheme(self.lake_root)]

    @property
    def warehouse_path(self) -> Path:
        """dbt's DuckDB file: clickstream.duckdb beside the lake, as dbt_project/profiles.yml
        puts it; for a lake on S3 beside its catalog file, or in state_dir with a catalog server
        (profiles.yml then needs DBT_DUCKDB_PATH)."""
        if is_object_store(self.lake_root):
            catalog = self.lake_iceberg_catalog
            folder = self.state_dir if catalog.is_server else catalog.file.parent
            return folder / "clickstream.duckdb"
        return Path(self.lake_root.rstrip("/")).parent / "clickstream.duckdb"

    def as_environ(self) -> dict[str, str]:
        """Every setting as a CLICKSTREAM_* variable, so a child process loads this same config."""
        return {
            ENV_PREFIX + field.name.upper(): _environ_value(getattr(self, field.name))
            for field in dataclasses.fields(self)
        }

    @property
    def state_storage_uri(self) -> str:
        """Where checkpoints and savepoints go, as Flink names it: state_storage, or
        file://<state_dir>/flink."""
        return self.state_storage.rstrip("/") or f"file://{self.state_dir / 'flink'}"

    @property
    def checkpoint_uri(self) -> str:
        return f"{self.state_storage_uri}/checkpoints"

    @property
    def savepoint_uri(self) -> str:
        return f"{self.state_storage_uri}/savepoints"


# What a private stack (a test session's, a soak's) may take from the user's shell: sizing, and
# the state backend to compare with; every other CLICKSTREAM_* setting is its own.
PRIVATE_STACK_INHERITS = (
    "jars_dir",
    "taskmanager_memory",
    "jobmanager_memory",
    "kafka_heap",
    "state_backend",
)
PRIVATE_STACK_PORTS = (
    "kafka_port",
    "kafka_controller_port",
    "flink_rest_port",
    "flink_rpc_port",
    "dashboard_port",
)


# Broker n's ports are its settings' + BROKER_PORT_STEP * (n - 1): the default client and
# controller ports, one apart, then interleave.
BROKER_PORT_STEP = 2
# Key groups of keyed state: the most parallelism a job can be rescaled to (pipeline/deploy.py).
MAX_PARALLELISM = 128
# A local stack on one machine: enough to show replication and rescaling, not a capacity plan.
MAX_KAFKA_BROKERS = 5
MAX_TASKMANAGERS = 4

# Measured with every window operator silver_gold has (~60 with the rollups and sessions): at 4g
# they fail to open, 5g runs the job (docs/operations.md, "Knobs").
MIN_TASKMANAGER_MEMORY_BYTES = 5 * 1024**3
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def memory_bytes(size: str) -> int:
    """A Flink memory size ('6g', '1600m', '3 gb', '1024') in bytes."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([kmgt]?)(?:b|bytes)?", size.strip().lower())
    if match is None:
        raise ConfigError(f"not a memory size: {size!r} (e.g. '6g', '1600m')")
    return int(float(match[1]) * _UNITS[match[2]])


def private_stack_environ(
    state_dir: Path, environ: dict[str, str] | None = None, kafka_brokers: int = 1
) -> dict[str, str]:
    """`environ` (default: this process's) with CLICKSTREAM_* values for a stack no one else
    uses: defaults only (no clickstream.toml, no connection settings from the shell but
    PRIVATE_STACK_INHERITS), free ports, its own state directory and lake under `state_dir`,
    `kafka_brokers` brokers (each binds a run of consecutive ports)."""
    inherited = {ENV_PREFIX + name.upper() for name in PRIVATE_STACK_INHERITS}
    private = {
        name: value
        for name, value in (os.environ if environ is None else environ).items()
        if not name.startswith(ENV_PREFIX) or name in inherited
    }
    private[ENV_PREFIX + "CONFIG"] = str(state_dir / "no-clickstream.toml")
    private[ENV_PREFIX + "STATE_DIR"] = str(state_dir)
    private[ENV_PREFIX + "LAKE_ROOT"] = str(state_dir / "lake")
    private[ENV_PREFIX + "KAFKA_BROKERS"] = str(kafka_brokers)
    # The brokers' ports: one run, client and controller ports interleaved (BROKER_PORT_STEP).
    kafka, *others = free_port_runs(
        [BROKER_PORT_STEP * kafka_brokers] + [1] * (len(PRIVATE_STACK_PORTS) - 2)
    )
    ports = dict(zip(PRIVATE_STACK_PORTS, [kafka, kafka + 1, *others], strict=True))
    for name, port in ports.items():
        private[ENV_PREFIX + name.upper()] = str(port)
    return private


def _environ_value(value: object) -> str:
    """A setting as its CLICKSTREAM_* variable reads: a tuple of sizes as `5,10`."""
    return ",".join(map(str, value)) if isinstance(value, tuple) else str(value)


def _coerce(name: str, raw: object, to_type: type) -> object:
    if to_type is tuple:
        # TOML gives a list ([5, 10]), the environment a comma-separated string ("5,10").
        items = raw.split(",") if isinstance(raw, str) else raw
        try:
            return tuple(int(item) for item in items)  # type: ignore[union-attr]
        except (TypeError, ValueError):
            raise ConfigError(
                f"{name} must be a list of whole minutes such as 5,10, got {raw!r}"
            ) from None
    if to_type is Path:
        return Path(str(raw)).expanduser().resolve()
    if to_type is int:
        try:
            return int(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if to_type is float:
        try:
            return float(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    return str(raw)


def load_config(
    path: Path | None = None, environ: dict[str, str] | None = None, **overrides: object
) -> Config:
    """Defaults <- TOML file <- CLICKSTREAM_* environment <- keyword overrides."""
    environ = dict(os.environ if environ is None else environ)
    path = path or Path(environ.get(f"{ENV_PREFIX}CONFIG", REPO_ROOT / "clickstream.toml"))
    fields = {f.name: f for f in dataclasses.fields(Config)}
    types = {"Path": Path, "int": int, "float": float, "str": str, "tuple[int, ...]": tuple}
    values: dict[str, object] = {}

    if path.exists():
        with path.open("rb") as handle:
            try:
                document = tomllib.load(handle)
            except tomllib.TOMLDecodeError as error:
                raise ConfigError(f"{path}: {error}") from None
        for key, raw in document.items():
            if key not in fields:
                raise ConfigError(f"{path}: unknown setting {key!r}")
            values[key] = raw
    for name in fields:
        env_value = environ.get(ENV_PREFIX + name.upper())
        if env_value is not None:
            values[name] = env_value
    values.update(overrides)

    typed = {
        name: _coerce(name, raw, types[str(fields[name].type).split(" |")[0]])
        for name, raw in values.items()
    }
    config = Config(**typed)  # type: ignore[arg-type]
    _validate(config)
    return config


def _validate(config: Config) -> None:
    if not 1 <= config.kafka_brokers <= MAX_KAFKA_BROKERS:
        raise ConfigError(
            f"kafka_brokers must be between 1 and {MAX_KAFKA_BROKERS}, got {config.kafka_brokers}"
        )
    if not 1 <= config.taskmanagers <= MAX_TASKMANAGERS:
        raise ConfigError(
            f"taskmanagers must be between 1 and {MAX_TASKMANAGERS}, got {config.taskmanagers}"
        )
    if not 1 <= config.parallelism <= MAX_PARALLELISM:
        raise ConfigError(
            f"parallelism must be between 1 and {MAX_PARALLELISM}, got {config.parallelism}"
        )
    ports = config.local_ports()
    for name, port in ports.items():
        if not 0 < port < 65536:
            raise ConfigError(f"{name} must be a TCP port (1-65535), got {port}")
    if len(set(ports.values())) != len(ports):
        raise ConfigError(f"ports must be distinct, got {ports}")
    if memory_bytes(config.taskmanager_memory) < MIN_TASKMANAGER_MEMORY_BYTES:
        raise ConfigError(
            f"taskmanager_memory must be at least 5g, got {config.taskmanager_memory!r}: "
            "silver_gold's ~60 window operators share their slot's managed memory, and with less "
            "each gets too little to open (Flink fails them, 'minBucketMemorySize is not valid' "
            "or a NullPointerException in BytesMap, and restarts them forever)"
        )
    if config.taskmanager_slots < 4:
        raise ConfigError("taskmanager_slots must be at least 4: a filesystem sink alone needs 2")
    if config.watermark_emit_strategy not in ("on-periodic", "on-event"):
        raise ConfigError("watermark_emit_strategy must be 'on-periodic' or 'on-event'")
    if config.kafka_bounded_mode not in ("unbounded", "latest-offset"):
        raise ConfigError("kafka_bounded_mode must be 'unbounded' or 'latest-offset'")
    # Flink SQL interval literals take at most two digits by default.
    for name in ("watermark_delay_seconds", "max_future_minutes", "window_minutes"):
        if not 0 < getattr(config, name) < 100:
            raise ConfigError(f"{name} must be between 1 and 99, got {getattr(config, name)}")
    _validate_rollups(config)
    if not 1 <= config.session_timeout_minutes <= 1440:
        raise ConfigError(
            f"session_timeout_minutes must be between 1 and 1440 (a day), "
            f"got {config.session_timeout_minutes}"
        )
    if config.state_backend not in ("rocksdb", "hashmap"):
        raise ConfigError("state_backend must be 'rocksdb' or 'hashmap'")
    _validate_hilc(config)
    if config.kafka_partitions < 1:
        raise ConfigError("kafka_partitions must be at least 1")
    if config.dashboard_refresh_seconds < 1:
        raise ConfigError("dashboard_refresh_seconds must be at least 1")
    _validate_storage(config)


def _validate_storage(config: Config) -> None:
    """lake_root, lake_catalog and state_storage: local paths or s3://bucket[/prefix]."""
    for name in ("lake_root", "state_storage"):
        location = getattr(config, name)
        scheme = uri_scheme(location)
        if scheme and scheme not in OBJECT_STORE_SCHEMES:
            raise ConfigError(
                f"{name} must be a local path or an s3://bucket/prefix URI, got {location!r}"
            )
        if scheme and not location.partition("://")[2].strip("/"):
            raise ConfigError(f"{name} must name a bucket (s3://bucket/prefix), got {location!r}")
    try:
        catalog = config.lake_iceberg_catalog
    except LakeCatalogError as error:
        raise ConfigError(str(error)) from None
    remote = is_object_store(config.lake_root)
    if remote and not config.lake_catalog:
        raise ConfigError(
            f"lake_root {config.lake_root!r} is on object storage: set lake_catalog to its Iceberg "
            "catalog (a SQLite file cannot live on S3): a local file kept as long as the lake, "
            "e.g. /var/lib/clickstream/catalog.db, or postgresql://user@host:port/database, a "
            "catalog server every host reaches"
        )
    if config.lake_catalog and not remote and not catalog.is_server:
        raise ConfigError(
            f"lake_catalog is a file only for a lake on object storage; the local lake "
            f"{config.lake_root!r} keeps its catalog at <lake_root>/{LAKE_CATALOG_FILE} "
            "(or name a catalog server: postgresql://user@host:port/database)"
        )


def _validate_hilc(config: Config) -> None:
    window, slide = config.hilc_window_minutes, config.hilc_slide_minutes
    if not 0 < slide <= window < 100 or window % slide:
        raise ConfigError(
            "hilc_window_minutes must be a multiple of hilc_slide_minutes, both between 1 and 99, "
            f"got {window} and {slide}"
        )
    if config.hilc_min_views < 1:
        raise ConfigError(f"hilc_min_views must be at least 1, got {config.hilc_min_views}")
    if not 0.5 < config.hilc_confidence < 1:
        raise ConfigError(f"hilc_confidence must be in (0.5, 1), got {config.hilc_confidence}")
    if not 0 < config.hilc_conversion_ratio <= 1:
        raise ConfigError(
            f"hilc_conversion_ratio must be in (0, 1], got {config.hilc_conversion_ratio}"
        )


def _validate_rollups(config: Config) -> None:
    sizes = config.rollup_minutes
    if len(sizes) != 2:
        raise ConfigError(f"rollup_minutes must be two window sizes such as 5,10, got {sizes}")
    first, second = sizes
    # Each size is cascaded from the one before it: whole windows of it (docs/lake.md).
    if not 0 < first < 100 or first % config.window_minutes:
        raise ConfigError(
            f"rollup_minutes: {first} must be a multiple of window_minutes "
            f"({config.window_minutes}) between 1 and 99"
        )
    if not first < second < 100 or second % first:
        raise ConfigError(
            f"rollup_minutes: {second} must be a multiple of {first} above it and below 100"
        )
