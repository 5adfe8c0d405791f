"""How well the anomaly flags find what the generator injected: precision and recall of the
high-interest/low-conversion flag (gold/high_interest_products) against the labelled
low-conversion products, and of the bot flag (gold/bot_suspects) against the labelled bots, plus
the event time until the injected hot product is first flagged.

Each scenario (seed, records per simulated second, simulated minutes, bot rate) is one seeded
generator run, labels included. All scenarios go into one fresh topic, each on its own day of
event time, and the real silver_gold job reads it once (bounded, so the final watermark closes
every window): hours of event time take a few minutes of wall time. Flags are attributed to a
scenario by their window's day.

- Products: a flagged product is a true positive when the generator injected it with a
  conversion far below the shop's (`low_conversion_product_ids`); lukewarm products (ordinary
  but low conversion) and every other product are false positives.
- Bots: a flagged user is a true positive when it is a labelled bot. Recall counts the bots that
  started at least BOT_SETTLE before the scenario's last event (a bot that started in the last
  minute or two has not had a full minute to show itself yet).

    python bench/eval_flags.py [--quick] [--seeds 1 2 3] [--lake .stack/eval-flags-lake]

Prints figures; asserts nothing. Uses the configured stack (started if it is not running).
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import stack
from generator.model import GeneratorConfig, Record
from generator.produce import DeliveryStats, KafkaSettings, open_producer, send_records
from generator.simulate import Simulation
from pipeline import deploy, lake
from stack import kafka
from stack.config import Config, load_config

FIRST_DAY = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
BOT_SETTLE = timedelta(minutes=2)


@dataclass(frozen=True)
class Scenario:
    name: str
    seed: int
    sim_rate: float  # records per simulated second
    minutes: float  # simulated minutes
    bot_rate: float

    @property
    def records(self) -> int:
        return int(self.sim_rate * self.minutes * 60)


def scenarios(seeds: list[int], quick: bool) -> list[Scenario]:
    """The demo's settings (`make demo`: 60,000 records at 100 per simulated second, 1% bots), a
    low and a high rate, and a longer run."""
    plans = [("demo", 100.0, 10.0, 0.01)]
    if not quick:
        plans += [("low rate", 20.0, 60.0, 0.002), ("high rate", 1000.0, 10.0, 0.002)]
    runs = [
        Scenario(name, seed, rate, minutes, bots)
        for name, rate, minutes, bots in plans
        for seed in seeds
    ]
    if not quick:
        runs += [Scenario("long", seed, 100.0, 180.0, 0.002) for seed in seeds[:2]]
    return runs


@dataclass
class Labels:
    low_conversion_products: set[str]
    lukewarm_products: set[str]
    hot_product: str
    bots: set[str]
    settled_bots: set[str]  # started at least BOT_SETTLE before the end


@dataclass
class Score:
    flagged: set[str]
    labelled: set[str]  # what recall is measured against
    positives: set[str]  # flags that are right

    @property
    def true_positives(self) -> set[str]:
        return self.flagged & self.positives

    @property
    def false_positives(self) -> set[str]:
        return self.flagged - self.positives

    @property
    def missed(self) -> set[str]:
        return self.labelled - self.flagged

    @property
    def precision(self) -> float | None:
        return len(self.true_positives) / len(self.flagged) if self.flagged else None

    @property
    def recall(self) -> float | None:
        found = len(self.labelled & self.flagged)
        return found / len(self.labelled) if self.labelled else None


@dataclass
class Result:
    scenario: Scenario
    start_at: datetime
    products: Score
    bots: Score
    hot_first_flag: timedelta | None  # event time from the scenario's start
    all_flagged_by: timedelta | None  # every labelled product flagged at least once by then
    false_positive_windows: int  # flagged product-windows of unlabelled products


def scenario_records(
    scenario: Scenario, start_at: datetime, labels_out: list[Labels]
) -> Iterator[Record]:
    """The scenario's records; its labels are appended to labels_out once they are exhausted."""
    config = GeneratorConfig(
        seed=scenario.seed,
        start_at=start_at,
        sim_rate=scenario.sim_rate,
        bot_rate=scenario.bot_rate,
    )
    simulation = Simulation(config)
    yield from simulation.records(scenario.records)
    end_ms = simulation.start_ms + int(scenario.records * 1000 / scenario.sim_rate)
    settle_ms = int(BOT_SETTLE.total_seconds() * 1000)
    labels = simulation.labels()
    labels_out.append(
        Labels(
            low_conversion_products=set(labels["low_conversion_product_ids"]),
            lukewarm_products=set(labels["lukewarm_product_ids"]),
            hot_product=str(labels["hot_product_id"]),
            bots=set(simulation.bot_started_ms),
            settled_bots={
                user
                for user, started in simulation.bot_started_ms.items()
                if started <= end_ms - settle_ms
            },
        )
    )


def produce(config: Config, runs: list[Scenario]) -> list[Labels]:
    """Every scenario into the topic, one day apart in event time; returns their labels.
    Small uncompressed batches, as the integration tests use, so every partition holds the
    watermark early when the job reads the backlog."""
    labels: list[Labels] = []
    settings = KafkaSettings(
        bootstrap_servers=config.bootstrap_servers,
        topic=config.kafka_topic,
        batch_size=65_536,
        compression="none",
    )
    stats = DeliveryStats()
    producer = open_producer(settings, stats)
    for day, scenario in enumerate(runs):
        records = scenario_records(scenario, FIRST_DAY + timedelta(days=day), labels)
        report = send_records(producer, stats, records, config.kafka_topic, log=lambda _m: None)
        if not report.ok:
            raise RuntimeError(f"{scenario.name}: {report.describe()}")
    return labels


def score(config: Config, runs: list[Scenario], labels: list[Labels]) -> list[Result]:
    connection = lake.connect(config.lake_root)
    tables = {
        row[0] for row in connection.execute("select view_name from duckdb_views()").fetchall()
    }
    results = []
    for day, (scenario, truth) in enumerate(zip(runs, labels, strict=True)):
        start = FIRST_DAY + timedelta(days=day)
        span = (start.replace(tzinfo=None), (start + timedelta(days=1)).replace(tzinfo=None))
        product_flags: dict[str, tuple[datetime, int]] = {}
        if "gold_high_interest_products" in tables:
            product_flags = {
                product: (first, windows)
                for product, first, windows in connection.execute(
                    "select product_id, min(window_end), count(*) "
                    "from gold_high_interest_products "
                    "where is_high_interest_low_conversion and window_end > ? and window_end <= ? "
                    "group by product_id",
                    span,
                ).fetchall()
            }
        bot_flags: set[str] = set()
        if "gold_bot_suspects" in tables:
            bot_flags = {
                user
                for (user,) in connection.execute(
                    "select distinct user_id from gold_bot_suspects "
                    "where window_end > ? and window_end <= ?",
                    span,
                ).fetchall()
            }
        products = Score(
            set(product_flags), truth.low_conversion_products, truth.low_conversion_products
        )
        first_flags = [
            product_flags[p][0] - span[0]
            for p in truth.low_conversion_products
            if p in product_flags
        ]
        results.append(
            Result(
                scenario=scenario,
                start_at=start,
                products=products,
                bots=Score(bot_flags, truth.settled_bots, truth.bots),
                hot_first_flag=(
                    product_flags[truth.hot_product][0] - span[0]
                    if truth.hot_product in product_flags
                    else None
                ),
                all_flagged_by=max(first_flags) if not products.missed else None,
                false_positive_windows=sum(product_flags[p][1] for p in products.false_positives),
            )
        )
    return results


def run(config: Config, runs: list[Scenario]) -> list[Result]:
    """Produce every scenario, run silver_gold over them once, score the flags."""
    started = time.monotonic()
    labels = produce(config, runs)
    produced = time.monotonic()
    job_id, _ = deploy.submit(config, "silver_gold")
    state = deploy.wait_for_state(config, job_id, {"FINISHED", "FAILED", "CANCELED"}, 3600)
    if state != "FINISHED":
        raise RuntimeError(f"silver_gold ended {state}; see `python jobs.py list`")
    finished = time.monotonic()
    total = sum(scenario.records for scenario in runs)
    print(
        f"{len(runs)} scenarios, {total:,} records: generated and produced in "
        f"{produced - started:.0f} s, silver_gold done in {finished - produced:.0f} s"
    )
    return score(config, runs, labels)


def _rate(value: float | None) -> str:
    return "  n/a" if value is None else f"{value:5.2f}"


def _minutes(value: timedelta | None) -> str:
    return "   never" if value is None else f"{value.total_seconds() / 60:6.1f} m"


def _some(ids: set[str], shown: int = 8) -> str:
    listed = ", ".join(sorted(ids)[:shown])
    return f"[{listed}{f', ... {len(ids) - shown} more' if len(ids) > shown else ''}]"


def report(results: list[Result], config: Config) -> None:
    print(
        f"rule: sliding {config.hilc_window_minutes} min windows every "
        f"{config.hilc_slide_minutes} min, >= {config.hilc_min_views} views, Wilson upper bound "
        f"at {config.hilc_confidence:.0%} < {config.hilc_conversion_ratio:g} x the rest of the "
        f"shop's conversion; bots: > {config.bot_events_per_minute} events in a minute"
    )
    print(
        f"{'scenario':<10} {'seed':>4} {'rate':>6} {'min':>4} {'records':>9} | "
        f"{'HILC P':>6} {'R':>5} {'TP':>3} {'FP':>3} {'FN':>3} {'hot 1st':>8} {'all by':>8} | "
        f"{'bots P':>6} {'R':>5} {'TP':>4} {'FP':>3} {'FN':>3}"
    )
    for result in results:
        scenario, products, bots = result.scenario, result.products, result.bots
        print(
            f"{scenario.name:<10} {scenario.seed:>4} {scenario.sim_rate:>6g} "
            f"{scenario.minutes:>4g} {scenario.records:>9,} | "
            f"{_rate(products.precision):>6} {_rate(products.recall)} "
            f"{len(products.true_positives):>3} {len(products.false_positives):>3} "
            f"{len(products.missed):>3} {_minutes(result.hot_first_flag)} "
            f"{_minutes(result.all_flagged_by)} | "
            f"{_rate(bots.precision):>6} {_rate(bots.recall)} {len(bots.true_positives):>4} "
            f"{len(bots.false_positives):>3} {len(bots.missed):>3}"
        )
        if products.false_positives or products.missed:
            print(
                f"{'':>10} false positives {_some(products.false_positives)} "
                f"({result.false_positive_windows} windows), missed {_some(products.missed)}"
            )
    for name, pick in (("HILC", lambda r: r.products), ("bots", lambda r: r.bots)):
        scores = [pick(result) for result in results]
        flagged = sum(len(s.flagged) for s in scores)
        right = sum(len(s.true_positives) for s in scores)
        labelled = sum(len(s.labelled) for s in scores)
        found = sum(len(s.labelled & s.flagged) for s in scores)
        worst_precision = min(
            (s.precision for s in scores if s.precision is not None), default=None
        )
        worst_recall = min((s.recall for s in scores if s.recall is not None), default=None)
        print(
            f"overall {name}: precision {_rate(right / flagged if flagged else None)} "
            f"({right}/{flagged}), recall {_rate(found / labelled if labelled else None)} "
            f"({found}/{labelled}); worst scenario precision {_rate(worst_precision)}, "
            f"recall {_rate(worst_recall)}"
        )
    demo = [r.hot_first_flag for r in results if r.scenario.name == "demo"]
    if demo:
        slowest = None if None in demo else max(demo)
        print(
            f"hot product first flagged, demo settings: at most {_minutes(slowest).strip()} "
            "of event time after the run started"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--quick", action="store_true", help="the demo's settings only")
    parser.add_argument("--lake", type=Path, default=Path(".stack/eval-flags-lake"))
    args = parser.parse_args(argv)
    base = load_config()
    topic = f"eval-flags-{uuid.uuid4().hex[:6]}"
    config = load_config(
        kafka_topic=topic,
        deployment=topic,
        lake_root=str(args.lake.resolve() / topic),
        kafka_bounded_mode="latest-offset",
        checkpoint_interval="5 s",
        watermark_emit_strategy="on-event",
        # A duplicate follows its original within seconds; a short memory keeps the backlog's
        # event ids from filling the TaskManager while it reads hours of event time in minutes.
        dedup_state_ttl="1 min",
    )
    runs = scenarios(args.seeds, args.quick)
    started = stack.up(base)
    try:
        if not kafka.ensure_topic(config, topic):
            raise RuntimeError(f"could not create topic {topic}")
        report(run(config, runs), config)
    finally:
        if started:
            stack.down(base)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
