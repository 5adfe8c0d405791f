"""A Flink standalone session cluster run from pyflink's own `bin/`, with project-owned conf and lib."""

from __future__ import annotations

import json
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import pyflink
import yaml

from stack.config import Config, is_object_store
from stack.object_store import s3_settings
from stack.processes import Service, StackError, wait_until

PYFLINK_HOME = Path(pyflink.__file__).resolve().parent
# Completed checkpoints the REST API keeps per job (Flink's default is 10).
CHECKPOINT_HISTORY = 60


def home(config: Config) -> Path:
    return config.state_dir / "flink"


def conf_dir(config: Config) -> Path:
    return home(config) / "conf"


def lib_dir(config: Config) -> Path:
    return home(config) / "lib"


def plugins_dir(config: Config) -> Path:
    """Flink's plugin folders (`make jars`): s3-fs-hadoop, for state_storage on S3."""
    return config.jars_dir / "flink-plugins"


def services(config: Config) -> list[Service]:
    """The JobManager, then each TaskManager (`taskmanager`, `taskmanager-2`, ...)."""
    marker = str(conf_dir(config))
    pids = config.state_dir / "pids"
    # Any other TaskManager whose pid file is there (started with a larger `taskmanagers`) too,
    # so `down` stops it and `status` shows it.
    found = {int(pid.stem.split("-")[1]) for pid in pids.glob("taskmanager-*.pid")}
    numbers = sorted(set(range(1, config.taskmanagers + 1)) | found)
    names = ["jobmanager"] + ["taskmanager" if n == 1 else f"taskmanager-{n}" for n in numbers]
    return [Service(name, pids / f"{name}.pid", marker) for name in names]


def configured(config: Config) -> list[Service]:
    """The JobManager and the `taskmanagers` TaskManagers the config asks for."""
    return services(config)[: 1 + config.taskmanagers]


def taskmanagers(config: Config) -> list[Service]:
    return services(config)[1:]


def _flatten(tree: dict, prefix: str = "") -> dict[str, object]:
    flat: dict[str, object] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def state_settings(config: Config) -> dict[str, object]:
    """Where operator state lives and how it is checkpointed (docker-compose.yml's Flink
    properties hold the same values, checked by tests/test_state_settings.py)."""
    return {
        # State on local disk (RocksDB), not on the heap: the deduplication state is rate x
        # retention ids, far more than a heap holds at 10k records/s. Incremental checkpoints
        # upload only the files written since the last one, so their cost follows the rate, not
        # the state's size. (docs/operations.md: the state table and its sizes.)
        "state.backend.type": config.state_backend,
        "execution.checkpointing.incremental": True,
        "state.backend.rocksdb.localdir": str(home(config) / "rocksdb"),
        # Almost every deduplication lookup is for an id never seen: a Bloom filter answers those
        # without reading the files.
        "state.backend.rocksdb.use-bloom-filter": True,
        # Timers on the heap: a session window moves its timer on every event of the session,
        # and RocksDB timers cost a read and two writes each time (catch-up rate of silver_gold
        # 5,522 -> 7,628 records/s, bench/bench_gold_cost.py). One per key and open window, a
        # few MB; they are snapshotted whole with each checkpoint.
        "state.backend.rocksdb.timer-service.factory": "HEAP",
        # Only the top level of indexes and filters stays pinned in the cache; the rest is cached
        # like data, so a large state does not crowd out the memory RocksDB has.
        "state.backend.rocksdb.memory.partitioned-index-filters": True,
        # RocksDB's cache and write buffers come out of the slot's managed memory (Flink counts
        # them); state is where a slot's managed memory goes, window buffers need little.
        "state.backend.rocksdb.memory.managed": True,
        "taskmanager.memory.managed.consumer-weights": "OPERATOR:30,STATE_BACKEND:70,PYTHON:30",
        # Keys and bytes per state, for `jobs.py status`, the soak benchmark and the state table.
        "state.backend.rocksdb.metrics.estimate-num-keys": True,
        "state.backend.rocksdb.metrics.estimate-live-data-size": True,
        # `status` judges whether state has stopped growing from this many recent checkpoints.
        "web.checkpoints.history": CHECKPOINT_HISTORY,
    }


# Settings of the local cluster that every other deployment of it runs with too: docker-compose
# (tests/test_state_settings.py compares) and the Kubernetes pods (stack/manifests.py).
PORTABLE_CLUSTER_SETTINGS = (
    "web.submit.enable",
    "taskmanager.load-balance.mode",
    "env.java.opts.taskmanager",
    "restart-strategy.type",
    "pekko.ask.timeout",
)


def cluster_settings(config: Config) -> dict[str, object]:
    """pyflink's shipped defaults (JVM flags among them) overlaid with ours."""
    shipped = yaml.safe_load((PYFLINK_HOME / "conf" / "config.yaml").read_text()) or {}
    host = config.bind_host
    ours: dict[str, object] = {
        # Loopback only.
        "jobmanager.bind-host": host,
        "jobmanager.rpc.address": host,
        "jobmanager.rpc.port": config.flink_rpc_port,
        "taskmanager.bind-host": host,
        "taskmanager.host": host,
        "rest.address": host,
        "rest.bind-address": host,
        "rest.port": config.flink_rest_port,
        # The web UI is for watching jobs; deployments go through `jobs.py submit`.
        "web.submit.enable": False,
        "web.upload.dir": str(home(config) / "web-upload"),
        # `jobs.py status`, the dashboard and the benchmark read rates from REST metrics: refresh
        # them every 2 s (the default, 10 s, makes a lag look like it jumps by 10 s of input).
        "metrics.fetcher.update-interval": "2 s",
        # Sized for 2 cores / 24 GB: one TaskManager (or `taskmanagers`), slots for every job.
        "jobmanager.memory.process.size": config.jobmanager_memory,
        "taskmanager.memory.process.size": config.taskmanager_memory,
        "taskmanager.numberOfTaskSlots": config.taskmanager_slots,
        # With several TaskManagers, a job's slots are spread over all of them, not packed into
        # the first: each machine's cores do their share.
        "taskmanager.load-balance.mode": "SLOTS",
        "parallelism.default": config.parallelism,
        # Exactly-once file sinks commit on checkpoints; keep the latest ones for restarts.
        "execution.checkpointing.interval": config.checkpoint_interval,
        "execution.checkpointing.mode": "EXACTLY_ONCE",
        "execution.checkpointing.dir": config.checkpoint_uri,
        "execution.checkpointing.savepoint-dir": config.savepoint_uri,
        "execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
        "execution.checkpointing.num-retained": 3,
        **state_settings(config),
        # Throughput over pause times: with G1 the pipeline fell behind at 20k records/s.
        "env.java.opts.taskmanager": "-XX:+UseParallelGC",
        "restart-strategy.type": "exponential-delay",
        # RPCs such as deploying a task wait this long for an answer (Flink's default: 10 s).
        # On 2 cores shared by brokers and TaskManagers, deploying silver_gold's ~60 operators at
        # parallelism 3 took longer, the job failed over and `deploy` rolled the rescale back.
        "pekko.ask.timeout": "30 s",
        "io.tmp.dirs": str(home(config) / "tmp"),
        # Checkpoints and savepoints on S3: the s3 plugin's endpoint (keys: the environment).
        **(s3_settings().flink_settings() if is_object_store(config.state_storage) else {}),
    }
    return {**_flatten(shipped), **ours}


def write_conf(config: Config) -> None:
    """Render conf/ (config.yaml + pyflink's log4j files) and lib/ (pyflink's jars + ours)."""
    conf = conf_dir(config)
    conf.mkdir(parents=True, exist_ok=True)
    (conf / "config.yaml").write_text(
        "# Rendered by jobs.py from stack/config.py; edits are overwritten.\n"
        + yaml.safe_dump(cluster_settings(config), sort_keys=True)
    )
    for log_conf in (PYFLINK_HOME / "conf").glob("log4j*.properties"):
        shutil.copyfile(log_conf, conf / log_conf.name)

    lib = lib_dir(config)
    if lib.exists():
        shutil.rmtree(lib)
    lib.mkdir(parents=True)
    extra_jars = sorted((config.jars_dir / "flink").glob("*.jar"))
    if not extra_jars:
        raise StackError(f"no Flink connector jars in {config.jars_dir / 'flink'}: run `make jars`")
    for jar in [*sorted((PYFLINK_HOME / "lib").glob("*.jar")), *extra_jars]:
        (lib / jar.name).symlink_to(jar)
    for folder in ("log", "tmp", "checkpoints", "savepoints", "web-upload", "rocksdb"):
        (home(config) / folder).mkdir(parents=True, exist_ok=True)


def flink_env(config: Config) -> dict[str, str]:
    """Environment for pyflink's scripts and for the PyFlink client gateway."""
    env = dict(os.environ)
    env.update(
        FLINK_HOME=str(PYFLINK_HOME),
        FLINK_CONF_DIR=str(conf_dir(config)),
        FLINK_LIB_DIR=str(lib_dir(config)),
        FLINK_LOG_DIR=str(home(config) / "log"),
        FLINK_PID_DIR=str(config.state_dir / "pids"),
    )
    if is_object_store(config.state_storage):
        plugin = plugins_dir(config) / "s3-fs-hadoop"
        if not any(plugin.glob("*.jar")):
            raise StackError(
                f"state_storage {config.state_storage} needs Flink's s3 plugin in {plugin}: "
                "run `make jars`"
            )
        env["FLINK_PLUGINS_DIR"] = str(plugins_dir(config))
    return env


def rest_get(config: Config, path: str, timeout_s: float = 3.0) -> dict:
    with urllib.request.urlopen(f"{config.rest_url}{path}", timeout=timeout_s) as response:
        return json.load(response)


def overview(config: Config) -> dict | None:
    try:
        return rest_get(config, "/overview")
    except (urllib.error.URLError, OSError, ValueError):
        return None


def registered_taskmanagers(config: Config) -> dict[str, int]:
    """Resource id -> task slots of each TaskManager registered with the JobManager."""
    try:
        listing = rest_get(config, "/taskmanagers")
    except (urllib.error.URLError, OSError, ValueError):
        return {}
    return {tm["id"]: tm.get("slotsNumber", 0) for tm in listing.get("taskmanagers", [])}


def healthy(config: Config) -> bool:
    info = overview(config)
    return bool(info) and info.get("taskmanagers", 0) >= config.taskmanagers


def start(config: Config) -> bool:
    """Start the JobManager and each TaskManager unless they run. True if anything started."""
    write_conf(config)
    env = flink_env(config)
    started = False
    for flink_service in configured(config):
        if flink_service.pid() is not None:
            continue
        if flink_service.name == "jobmanager":
            argv = ["bash", str(PYFLINK_HOME / "bin" / "jobmanager.sh"), "start-foreground"]
        else:
            # Its REST id is its service name: a test or `status` finds the process of an id.
            argv = ["bash", str(PYFLINK_HOME / "bin" / "taskmanager.sh"), "start-foreground"]
            argv.append(f"-Dtaskmanager.resource-id={flink_service.name}")
        flink_service.start(
            argv,
            env=env,
            log_file=home(config) / "log" / f"{flink_service.name}.out",
        )
        started = True
    return started


def wait_healthy(config: Config) -> None:
    running = configured(config)
    ok = wait_until(
        lambda: any(s.pid() is None for s in running) or healthy(config),
        config.startup_timeout_s,
        interval_s=0.5,
    )
    dead = [s.name for s in running if s.pid() is None]
    if dead:
        raise StackError(
            f"Flink {', '.join(dead)} exited during start-up; see {home(config) / 'log'}"
        )
    if not ok:
        raise StackError(
            f"Flink did not become healthy within {config.startup_timeout_s:.0f} s; "
            f"see {home(config) / 'log'}"
        )
