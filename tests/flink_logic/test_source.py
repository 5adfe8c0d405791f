"""The bounded source the logic tests read is kafka_events as its DDL declares it: the same
columns, types, computed columns and watermark; only the Kafka metadata columns are physical."""

from __future__ import annotations

from flink_harness import FlinkViews


def test_bounded_source_has_the_kafka_ddls_columns_and_watermark(flink_views: FlinkViews):
    kafka = flink_views.kafka_columns
    bounded = flink_views.source_columns
    # DESCRIBE: name, type, null, key, extras, watermark.
    assert [row[:4] + row[5:] for row in bounded] == [row[:4] + row[5:] for row in kafka]
    assert any(row[5] for row in bounded), "no watermark on the bounded source"
    for real, test in zip(kafka, bounded, strict=True):
        if str(real[4]).upper().startswith("METADATA"):
            assert not test[4], f"{test[0]}: a metadata column is read from the file"
        else:
            assert test[4] == real[4], f"{test[0]}: computed differently"
    assert "'kafka'" not in flink_views.source_ddl
