-- Outcome counts per minute of Kafka timestamps, the accounting identity as a standing query:
-- its cost follows the minutes shown, not the lake. Counted every 10 s of processing time, so a
-- minute's counts may come in several rows (sum them); state lives for one 10 s window.
create temporary view record_outcomes_per_minute as
select
    cast(floor(kafka_timestamp to minute) as timestamp(3)) as window_start,
    cast(floor(kafka_timestamp to minute) + interval '1' minute as timestamp(3)) as window_end,
    outcome,
    reason,
    count(*) as record_count
from table(tumble(table record_outcomes, descriptor(proc_time), interval '10' second))
group by window_start, window_end, floor(kafka_timestamp to minute), outcome, reason;
