-- Flink's gold windows have the size this run reconciles with: window_minutes for the window
-- tables, one minute for events_per_minute and bot_suspects, the row's window_minutes for the
-- rollup tables (which must be one of rollup_minutes), each aligned to the epoch. A lake written
-- with another window_minutes than dbt was given fails here, by name, instead of as differences
-- in every reconciliation test. Returns the windows of another size. A wrong size is
-- a setting out of step, not a bad row: any window fails the build.

{{ config(severity='error', error_if='>0') }}

with

gold_windows as (

    select
        'revenue_per_window' as gold_table,
        window_start,
        window_end,
        {{ var('window_minutes') }} as expected_minutes
    from {{ ref('stg_lake__gold_revenue_per_window') }}

    union all

    select
        'revenue_by_category_per_window' as gold_table,
        window_start,
        window_end,
        {{ var('window_minutes') }} as expected_minutes
    from {{ ref('stg_lake__gold_revenue_by_category_per_window') }}

    union all

    select
        'active_users_per_window' as gold_table,
        window_start,
        window_end,
        {{ var('window_minutes') }} as expected_minutes
    from {{ ref('stg_lake__gold_active_users_per_window') }}

    union all

    select
        'purchases_by_device_per_window' as gold_table,
        window_start,
        window_end,
        {{ var('window_minutes') }} as expected_minutes
    from {{ ref('stg_lake__gold_purchases_by_device_per_window') }}

    union all

    select
        'product_conversion_per_window' as gold_table,
        window_start,
        window_end,
        {{ var('window_minutes') }} as expected_minutes
    from {{ ref('stg_lake__gold_product_conversion_per_window') }}

    union all

    select
        'session_metrics_per_window' as gold_table,
        window_start,
        window_end,
        {{ var('window_minutes') }} as expected_minutes
    from {{ ref('stg_lake__gold_session_metrics_per_window') }}

    union all

    select
        'events_per_minute' as gold_table,
        window_start,
        window_end,
        1 as expected_minutes
    from {{ ref('stg_lake__gold_events_per_minute') }}

    union all

    select
        'bot_suspects' as gold_table,
        window_start,
        window_end,
        1 as expected_minutes
    from {{ ref('stg_lake__gold_bot_suspects') }}

    {#- The rollup tables: each row as long as its window_minutes, which is a rollup size. #}
    {%- for rollup_table in [
        'revenue_per_rollup_window',
        'active_users_per_rollup_window',
        'purchases_by_device_per_rollup_window',
        'product_conversion_per_rollup_window',
    ] %}

    union all

    select
        '{{ rollup_table }}' as gold_table,
        window_start,
        window_end,
        case
            when window_minutes in ({{ rollup_minutes() | join(', ') }}) then window_minutes
        end as expected_minutes
    from {{ ref('stg_lake__gold_' ~ rollup_table) }}
    {%- endfor %}

),

other_sizes as (

    select
        gold_table,
        window_start,
        window_end,
        expected_minutes

    from gold_windows
    where
        expected_minutes is null
        or window_end - window_start != to_minutes(expected_minutes)
        or time_bucket(
            to_minutes(expected_minutes), window_start, timestamp '1970-01-01'
        ) != window_start

)

select * from other_sizes
