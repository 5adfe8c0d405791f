-- Sessions that closed in each tumbling window, per device of their first event: how long they
-- lasted (exact percentiles, interpolated) and the share that bounced or bought.
create temporary view session_metrics_per_window as
select
    window_start,
    window_end,
    device_type,
    count(*) as sessions_closed,
    percentile(duration_seconds, 0.5) as median_duration_seconds,
    percentile(duration_seconds, 0.9) as p90_duration_seconds,
    cast(count(*) filter (where is_bounced) as double) / count(*) as bounce_rate,
    cast(count(*) filter (where is_converted) as double) / count(*) as conversion_rate
from table(
    tumble(table sessions, descriptor(closed_at), interval '${window_minutes}' minute)
)
group by window_start, window_end, device_type;
