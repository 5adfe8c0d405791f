{#-
    The lake's accounting identity per ingestion day (UTC date a record reached Kafka / the lake):
    bronze = silver + quarantine + late + duplicates. Duplicates are not stored anywhere, so they
    are derived from the other four; a negative value means the identity is broken.

    Silver is partitioned by event date, so its records are counted by the date of ingested_at to
    line up with the other tables. A cheap full rebuild every run: it reads no payload.
-#}

with

bronze_events as (

    select * from {{ ref('stg_lake__bronze_events') }}

),

silver_events as (

    select * from {{ ref('stg_lake__events') }}

),

quarantine_events as (

    select * from {{ ref('stg_lake__quarantine_events') }}

),

late_events as (

    select * from {{ ref('stg_lake__late_events') }}

),

bronze_counted as (

    select
        ingested_date,
        count(*) as bronze_record_count

    from bronze_events
    group by ingested_date

),

silver_counted as (

    select
        cast(ingested_at as date) as ingested_date,
        count(*) as silver_event_count

    from silver_events
    group by cast(ingested_at as date)

),

quarantine_counted as (

    select
        ingested_date,
        {% for reason in var('quarantine_reasons') %}
        count(*) filter (where reason = '{{ reason }}') as quarantined_{{ reason }}_count,
        {% endfor %}
        count(*) as quarantined_record_count

    from quarantine_events
    group by ingested_date

),

late_counted as (

    select
        ingested_date,
        count(*) as late_event_count

    from late_events
    group by ingested_date

),

ingested_dates as (

    select ingested_date from bronze_counted
    union
    select ingested_date from silver_counted
    union
    select ingested_date from quarantine_counted
    union
    select ingested_date from late_counted

),

final as (

    select
        ingested_dates.ingested_date,
        coalesce(bronze_counted.bronze_record_count, 0) as bronze_record_count,
        coalesce(silver_counted.silver_event_count, 0) as silver_event_count,
        coalesce(quarantine_counted.quarantined_record_count, 0) as quarantined_record_count,
        coalesce(late_counted.late_event_count, 0) as late_event_count,
        coalesce(bronze_counted.bronze_record_count, 0)
        - coalesce(silver_counted.silver_event_count, 0)
        - coalesce(quarantine_counted.quarantined_record_count, 0)
        - coalesce(late_counted.late_event_count, 0) as duplicate_record_count,
        {% for reason in var('quarantine_reasons') %}
        coalesce(quarantine_counted.quarantined_{{ reason }}_count, 0)
            as quarantined_{{ reason }}_count,
        {% endfor %}
        (
            coalesce(bronze_counted.bronze_record_count, 0)
            - coalesce(silver_counted.silver_event_count, 0)
            - coalesce(quarantine_counted.quarantined_record_count, 0)
            - coalesce(late_counted.late_event_count, 0)
        ) / nullif(bronze_counted.bronze_record_count, 0) as duplicate_rate,
        coalesce(quarantine_counted.quarantined_record_count, 0)
        / nullif(bronze_counted.bronze_record_count, 0) as quarantine_rate,
        coalesce(late_counted.late_event_count, 0)
        / nullif(bronze_counted.bronze_record_count, 0) as late_rate

    from ingested_dates
    left join bronze_counted
        on ingested_dates.ingested_date = bronze_counted.ingested_date
    left join silver_counted
        on ingested_dates.ingested_date = silver_counted.ingested_date
    left join quarantine_counted
        on ingested_dates.ingested_date = quarantine_counted.ingested_date
    left join late_counted
        on ingested_dates.ingested_date = late_counted.ingested_date

)

select * from final
