-- Every record read, once as read (bronze) and once as what became of it: quarantined (with its
-- reason), late or silver; a valid record that is neither was a duplicate.
create temporary view record_outcomes as
select
    proc_time,
    kafka_timestamp,
    'bronze' as outcome,
    cast(null as string) as reason
from events_checked
union all
select
    proc_time,
    kafka_timestamp,
    'quarantine' as outcome,
    quarantine_reason as reason
from events_checked
where quarantine_reason is not null
union all
select
    proc_time,
    kafka_timestamp,
    case when is_late then 'late' else 'silver' end as outcome,
    cast(null as string) as reason
from events_deduplicated;
