"""Ship changed SQL through savepoints: `plan` says what changes and which state survives,
`deploy` upgrades (and rolls back on its own when the new version does not run), `rollback`
returns to the previous recorded version, `history` lists versions.

A job is deployed as a compiled plan (`pipeline.planmatch` keeps operator uids stable across
versions) and every deploy is recorded (`pipeline.versions`). An unchanged job is recognised by
its fingerprint alone: no JVM starts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pipeline import catalog_move, deploy, lake_schema, planmatch, versions
from pipeline.versions import RUNNING, Version
from sqlcheck.project import Job
from stack.config import Config
from stack.lake_catalog import LakeCatalog
from stack.processes import StackError

Log = Callable[[str], None]


@dataclass
class JobChange:
    """One job's SQL compared with the version that runs."""

    name: str
    job: Job
    settings: dict[str, str]
    sql: dict[str, str]
    fingerprint: str
    jars: dict[str, str]
    current: Version | None  # the recorded version that runs (or ran last)
    active: deploy.JobInfo | None  # the job on the cluster now
    plan: dict | None = None  # the new compiled plan, ids rewritten (after `compile_changes`)
    match: planmatch.Match | None = None
    timings: dict[str, float] = field(default_factory=dict)
    # Cross-check with Flink: uids holding state in the running job's latest checkpoint that the
    # new plan does not claim (None: not checked). Must name what the verdicts drop.
    unclaimed: list[str] | None = None
    checkpoint: str | None = None

    @property
    def ours(self) -> bool:
        """The active job is the recorded current version (so its uids are the recorded ones)."""
        return (
            self.active is not None
            and self.current is not None
            and self.current.meta.get("job_id") == self.active.job_id
        )

    @property
    def unchanged(self) -> bool:
        return self.ours and self.current.meta["fingerprint"] == self.fingerprint

    @property
    def blocking(self) -> list[planmatch.Verdict]:
        """Operators whose state the upgrade would lose or misread."""
        if self.match is None:
            return []
        return self.match.of("incompatible") + self.match.of("dropped")


def inspect(config: Config, names: list[str]) -> list[JobChange]:
    """Each job's rendered SQL and fingerprint against what runs; no JVM."""
    jars = versions.jar_hashes(config)
    on_cluster = deploy.list_jobs(config)
    changes = []
    for name in names:
        job = deploy.load_job(config, name)
        settings = deploy.job_settings(config, job)
        active = next(
            (j for j in on_cluster if j.name == settings["pipeline.name"] and j.is_active), None
        )
        changes.append(
            JobChange(
                name,
                job,
                settings,
                versions.rendered_sql(job),
                versions.fingerprint(job, settings, jars),
                jars,
                versions.current(config, name),
                active,
            )
        )
    return changes


def compile_changes(config: Config, changes: list[JobChange]) -> None:
    """Compile every changed job (one client JVM for all) and match it against what runs."""
    for change in changes:
        if change.unchanged:
            continue
        started = time.monotonic()
        compiled = deploy.compile_plan(config, change.job)
        change.timings["compile_s"] = time.monotonic() - started
        if change.current is None:
            change.plan = planmatch.first_ids(compiled)
            continue
        change.match = planmatch.match(change.current.plan, compiled)
        change.plan = planmatch.rewrite_ids(
            compiled, change.match, versions.highest_node_id(config, change.name)
        )
        if not change.ours:
            continue
        change.checkpoint, operators = deploy.latest_checkpoint_operators(
            config, change.active.job_id
        )
        if change.checkpoint:
            claimed = {f"{n['id']}_" for n in change.plan["nodes"]}
            sinks = lake_sink_names(config, change.job)
            change.unclaimed = sorted(
                uid
                for uid, size in operators.items()
                if size > 0
                and uid.split("_", 1)[0] + "_" not in claimed
                and not uid.endswith(sinks)
            )


def lake_sink_names(config: Config, job) -> tuple[str, ...]:
    """How the job's Iceberg sinks name their operators' uids (`Sink Committer: lake.gold.x`):
    the plan has no node for them, they keep their state while the job still writes the table."""
    tables = lake_schema.read_lake_tables(config.sql_dir)
    catalog = lake_schema.LAKE_CATALOG_OPTIONS["catalog-name"]
    return tuple(f"{catalog}.{tables[sink].identifier}" for sink in job.sinks if sink in tables)


def describe_change(change: JobChange) -> list[str]:
    """What `plan` prints for one job."""
    if change.unchanged:
        return [
            f"{change.name}: unchanged (version {change.current.number} runs as {change.active.job_id})"
        ]
    lines = []
    if change.current is None:
        lines.append(f"{change.name}: not deployed yet; every operator starts empty")
    else:
        running = f"runs as {change.active.job_id}" if change.ours else "is not running"
        lines.append(
            f"{change.name}: changed since version {change.current.number} (which {running})"
        )
        lines += [f"  {line}" for line in versions.sql_diff(change.current.sql(), change.sql)]
    if change.match is not None:
        if change.match.unchanged:
            lines.append("  the compiled plan is identical: every operator keeps its state")
        for verdict in change.match.verdicts:
            word = {
                "kept": "state kept",
                "new": "new, starts empty",
                "dropped": "DROPPED: state lost",
                "incompatible": "INCOMPATIBLE",
            }[verdict.verdict]
            lines.append(f"  {word:<20} {verdict.operator}  ({verdict.detail})")
        if change.unclaimed is not None:
            lines.append(
                f"  checkpoint {change.checkpoint}: "
                + (
                    "state the new plan does not claim: " + ", ".join(change.unclaimed)
                    if change.unclaimed
                    else "the new plan claims every operator state in it"
                )
            )
        for warning in new_sink_warnings(change):
            lines.append(f"  warning: {warning}")
    return lines


def new_sink_warnings(change: JobChange) -> list[str]:
    """A new partitioned filesystem sink with a commit policy fails to restore (Flink 2.3) when
    it is chained to a task that restores state; its own task (shuffle by partition) avoids it."""
    warnings = []
    nodes = {n["id"]: n for n in (change.plan or {}).get("nodes", [])}
    for verdict in change.match.of("new") if change.match else []:
        node = nodes.get(verdict.new_id) if verdict.new_id is not None else None
        if node is None or planmatch.kind(node) != "sink":
            continue
        options = node["dynamicTableSink"]["table"].get("resolvedTable", {}).get("options", {})
        if (
            options.get("connector") == "filesystem"
            and "sink.partition-commit.policy.kind" in options
            and options.get("sink.shuffle-by-partition.enable") != "true"
        ):
            warnings.append(
                f"{verdict.operator}: a new partitioned filesystem sink needs "
                "'sink.shuffle-by-partition.enable' = 'true' to start from a savepoint"
            )
    return warnings


def check_catalog_unchanged(config: Config, changes: list[JobChange]) -> None:
    """Refuse a lake catalog other than the one a job's last version committed to, unless it
    holds every table where that one has it: else the new version would create empty tables
    there (the Iceberg sink creates a missing table), and the lake would fork. Moving them is
    pipeline/catalog_move.py's, between a stop and a resume."""
    now = config.lake_iceberg_catalog
    for change in changes:
        recorded = change.current.meta.get("lake_catalog") if change.current else None
        if recorded is None or recorded == str(now):
            continue
        before = LakeCatalog.parse(recorded)
        steps = (
            f"`jobs.py stop`, `jobs.py move-catalog --to {now}` with lake_catalog still "
            f"{before}, then lake_catalog = {now} and `jobs.py deploy {change.name} "
            '--from-savepoint PATH` (docs/lake.md, "Moving the catalog")'
        )
        if change.active is not None:
            raise StackError(
                f"{change.name}: the lake's catalog changed from {before} to {now} while the job "
                f"runs; its commits go to the old one until it stops. Nothing was stopped: {steps}"
            )
        missing = catalog_move.behind(config.lake_root, before, now)
        if missing:
            raise StackError(
                f"{change.name}: the lake's catalog changed from {before} to {now}, which does not "
                f"hold {', '.join(missing)} as the old one does; the job would start the lake "
                f"anew there. Nothing was deployed: {steps}"
            )


def _record(config: Config, change: JobChange, **meta: object) -> Version:
    verdicts = {}
    if change.match is not None:
        for verdict in change.match.verdicts:
            verdicts[verdict.verdict] = verdicts.get(verdict.verdict, 0) + 1
    parent = change.current.number if change.current else None
    return versions.record(
        config,
        change.name,
        change.plan,
        change.sql,
        change.settings,
        {
            "parent": parent,
            "fingerprint": change.fingerprint,
            "jars": change.jars,
            "changed_files": versions.changed_files(change.current.sql(), change.sql)
            if change.current
            else sorted(change.sql),
            "verdicts": verdicts,
            "lake_catalog": str(config.lake_iceberg_catalog),
            **meta,
        },
    )


def _start(config: Config, version: Version, savepoint: str | None, ignore_unclaimed: bool) -> str:
    """Execute a recorded version's plan, wait for it to run and checkpoint; job id."""
    job_id = deploy.execute_plan(
        config,
        version.path / "plan.json",
        version.settings,
        version.function_sql(),
        savepoint,
        ignore_unclaimed,
    )
    versions.update(version, job_id=job_id)
    try:
        deploy.await_checkpointed(config, job_id)
    except StackError:
        if deploy.job_state(config, job_id) in deploy.ACTIVE_STATES:
            deploy.cancel(config, job_id)
        raise
    return job_id


def deploy_jobs(
    config: Config,
    names: list[str],
    allow_non_restored_state: bool = False,
    reset: bool = False,
    from_savepoint: str | None = None,
    log: Log = print,
) -> bool:
    """Deploy the jobs' current SQL. Returns False when a job was rolled back (reason logged)."""
    started = time.monotonic()
    changes = inspect(config, names)
    for change in changes:
        if change.unchanged:
            log(
                f"{change.name}: unchanged, version {change.current.number} runs as {change.active.job_id}"
            )
    todo = [c for c in changes if not c.unchanged]
    for change in todo:
        if change.active is not None and not change.ours and not reset:
            raise StackError(
                f"{change.name}: job {change.active.job_id} runs but is not a recorded version "
                "(started by an older `submit`?): its state cannot be mapped; `deploy --reset` "
                "restarts it empty, or stop it first and deploy --from-savepoint "
                "--allow-non-restored-state"
            )
    if not todo:
        log(f"nothing to deploy ({time.monotonic() - started:.1f} s)")
        return True
    if not reset:
        check_catalog_unchanged(config, todo)
    for line in deploy.evolve_lake_schemas(config):
        log(line)
    compile_changes(config, todo)
    for change in todo:
        if change.blocking and change.ours and not (allow_non_restored_state or reset):
            raise StackError(
                f"{change.name}: the new version cannot keep the state of "
                + "; ".join(f"{v.operator} ({v.verdict}: {v.detail})" for v in change.blocking)
                + ". Nothing was stopped. `deploy --allow-non-restored-state` drops that state "
                "(those operators start empty), `deploy --reset` starts the job from scratch."
            )
    ok = True
    for change in todo:
        ok &= _deploy_one(config, change, allow_non_restored_state, reset, from_savepoint, log)
    log(f"deploy took {time.monotonic() - started:.1f} s")
    return ok


def _deploy_one(
    config: Config,
    change: JobChange,
    allow_non_restored_state: bool,
    reset: bool,
    from_savepoint: str | None,
    log: Log,
) -> bool:
    savepoint = from_savepoint
    began = time.monotonic()
    if change.active is not None and reset:
        deploy.cancel(config, change.active.job_id)
        log(f"{change.name}: cancelled {change.active.job_id} (--reset: state discarded)")
    elif change.active is not None:
        savepoint = deploy.stop_with_savepoint(config, change.active.job_id)
        log(f"{change.name}: stopped {change.active.job_id} with savepoint {savepoint}")
    if reset:
        savepoint = None
    version = _record(
        config,
        change,
        outcome="starting",
        from_savepoint=savepoint,
        allow_non_restored_state=allow_non_restored_state,
        reset=reset,
    )
    try:
        job_id = _start(config, version, savepoint, allow_non_restored_state)
    except StackError as error:
        versions.update(version, outcome="failed", reason=str(error))
        log(f"{change.name}: version {version.number} failed: {error}")
        if change.current is None or savepoint is None:
            raise
        log(f"{change.name}: rolling back to version {change.current.number} from {savepoint}")
        back = _copy(
            config, change.current, savepoint, rollback_of=version.number, reason=str(error)
        )
        try:
            job_id = _start(config, back, savepoint, False)
        except StackError as second:
            versions.update(back, outcome="failed", reason=str(second))
            raise StackError(
                f"{change.name}: version {version.number} failed ({error}) and so did the "
                f"rollback to version {change.current.number} ({second}); the job is down, "
                f"its savepoint is {savepoint}"
            ) from None
        versions.update(back, outcome=RUNNING)
        log(
            f"{change.name}: rolled back: version {back.number} (= {change.current.number}) runs as {job_id}"
        )
        return False
    versions.update(version, outcome=RUNNING, seconds=round(time.monotonic() - began, 1))
    log(
        f"{change.name}: submitted as {job_id}: version {version.number}"
        + (f", restored from {savepoint}" if savepoint else "")
        + f" ({time.monotonic() - began:.1f} s from stop to checkpoint)"
    )
    return True


def _copy(config: Config, source: Version, savepoint: str | None, **meta: object) -> Version:
    """A new version that runs an older version's plan and SQL again."""
    return versions.record(
        config,
        source.job,
        source.plan,
        source.sql(),
        source.settings,
        {
            "parent": source.number,
            "fingerprint": source.meta["fingerprint"],
            "jars": source.meta.get("jars", {}),
            "changed_files": [],
            "from_savepoint": savepoint,
            "outcome": "starting",
            "copy_of": source.number,
            "lake_catalog": source.meta.get("lake_catalog"),
            **meta,
        },
    )


def rollback(config: Config, name: str, log: Log = print) -> Version:
    """Stop the running version with a savepoint and run the previous recorded version from it.
    State the newer version added is left behind; state it dropped starts empty."""
    recorded = versions.versions(config, name)
    current = versions.current(config, name)
    if current is None:
        raise StackError(f"{name}: no recorded version to roll back from")
    previous = next(
        (
            v
            for v in reversed(recorded)
            if v.number < current.number
            and v.meta["outcome"] == RUNNING
            and v.meta["fingerprint"] != current.meta["fingerprint"]
        ),
        None,
    )
    if previous is None:
        raise StackError(f"{name}: version {current.number} has no earlier, different version")
    result = planmatch.match(current.plan, previous.plan)
    for verdict in result.of("dropped"):
        log(f"{name}: left behind: {verdict.operator}")
    for verdict in result.of("new"):
        log(f"{name}: starts empty: {verdict.operator}")
    active = deploy.active_job(config, current.settings["pipeline.name"])
    savepoint = None
    if active is not None:
        savepoint = deploy.stop_with_savepoint(config, active.job_id)
        log(f"{name}: stopped {active.job_id} with savepoint {savepoint}")
    back = _copy(config, previous, savepoint, rollback_from=current.number)
    try:
        job_id = _start(config, back, savepoint, True)
    except StackError as error:
        versions.update(back, outcome="failed", reason=str(error))
        if savepoint is None:
            raise
        again = _copy(config, current, savepoint, rollback_of=back.number, reason=str(error))
        _start(config, again, savepoint, False)
        versions.update(again, outcome=RUNNING)
        raise StackError(
            f"{name}: version {previous.number} did not start ({error}); version "
            f"{current.number} runs again as version {again.number}"
        ) from None
    back = versions.update(back, outcome=RUNNING)
    log(f"{name}: version {back.number} (= {previous.number}) runs as {job_id}")
    return back


def history(config: Config, name: str) -> list[str]:
    lines = []
    for version in versions.versions(config, name):
        meta = version.meta
        what = (
            f"copy of {meta['copy_of']}"
            if "copy_of" in meta
            else ", ".join(meta.get("changed_files", [])) or "-"
        )
        verdicts = ", ".join(
            f"{count} {word}" for word, count in sorted(meta.get("verdicts", {}).items())
        )
        lines.append(
            f"{version.number:>3}  {meta['time']}  {meta['outcome']:<8}  job {meta.get('job_id', '-')}"
            f"  from {meta.get('from_savepoint') or 'no savepoint'}"
        )
        lines.append(f"     changed: {what}" + (f"  [{verdicts}]" if verdicts else ""))
        if meta.get("reason"):
            lines.append(f"     reason: {meta['reason'][:300]}")
    return lines or [f"{name}: no recorded version"]
