-- Job "bronze": land every Kafka record in the lake untouched, before any parsing can fail.
set 'pipeline.name' = '${deployment}: bronze';
set 'table.local-time-zone' = 'UTC';
-- Iceberg's SinkV2 sink: its operators' uids come from the table's name, so a savepoint maps
-- onto a changed job graph (the v1 sink's generated ids change with the graph).
set 'table.exec.iceberg.use-v2-sink' = 'true';
-- Operators hand records on without defensive copies (none of ours mutates its input).
set 'pipeline.object-reuse' = 'true';

execute statement set
begin

-- Every record exactly as received, with its Kafka coordinates and when we ingested it.
insert into bronze_events (
    raw_payload, kafka_key, kafka_topic, kafka_partition, kafka_offset, kafka_timestamp,
    ingested_at, dt
)
select
    raw_payload,
    kafka_key,
    kafka_topic,
    kafka_partition,
    kafka_offset,
    cast(kafka_timestamp as timestamp(3)) as kafka_timestamp,
    cast(proc_time as timestamp(3)) as ingested_at,
    date_format(proc_time, 'yyyy-MM-dd') as dt
from kafka_events;

end;
