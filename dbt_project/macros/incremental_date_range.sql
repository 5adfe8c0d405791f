{% macro incremental_date_range(loaded_date_column) %}
    {#-
        The inclusive date range an incremental model (re)builds in this run, as
        {'start': 'YYYY-MM-DD' or none, 'end': 'YYYY-MM-DD' or none}; none means unbounded.

        - vars start_date / end_date, when set, are used as given (an orchestrator passes its
          logical date; a backfill passes a wider range);
        - otherwise an incremental run starts at the newest `loaded_date_column` already in the
          model minus var lookback_days, so the newest partitions (which Flink may still have been
          writing at the previous run) are rebuilt, and stops nowhere;
        - a first build or --full-refresh without vars covers every date.

        The newest loaded date is looked up when the model compiles, so the filters are date
        literals and DuckDB prunes the lake's dt= folders.
    -#}
    {%- set start_date = var('start_date', none) -%}
    {%- set end_date = var('end_date', none) -%}
    {%- if start_date is none and execute and is_incremental() -%}
        {%- set newest_loaded_sql -%}
            select cast(max({{ loaded_date_column }}) - {{ var('lookback_days') | int }} as varchar)
            from {{ this }}
        {%- endset -%}
        {%- set start_date = run_query(newest_loaded_sql).columns[0].values()[0] -%}
    {%- endif -%}
    {{ return({
        'start': none if start_date is none else (start_date | string),
        'end': none if end_date is none else (end_date | string),
    }) }}
{% endmacro %}


{% macro in_date_range(date_column, date_range, days_before=0, days_after=0) %}
    {#- SQL predicate: date_column within date_range, widened by days_before / days_after (a model
        that needs context around its range, like sessionization, reads a little more). -#}
    {%- set conditions = [] -%}
    {%- if date_range.start is not none -%}
        {%- set start_date = modules.datetime.date.fromisoformat(date_range.start)
            - modules.datetime.timedelta(days=days_before | int) -%}
        {%- do conditions.append(date_column ~ " >= date '" ~ start_date.isoformat() ~ "'") -%}
    {%- endif -%}
    {%- if date_range.end is not none -%}
        {%- set end_date = modules.datetime.date.fromisoformat(date_range.end)
            + modules.datetime.timedelta(days=days_after | int) -%}
        {%- do conditions.append(date_column ~ " <= date '" ~ end_date.isoformat() ~ "'") -%}
    {%- endif -%}
    {{- conditions | join(' and ') if conditions else 'true' -}}
{% endmacro %}


{% macro delete_rebuilt_dates(date_column) %}
    {#- Pre-hook of the date-partitioned marts (incremental_strategy append): on an incremental run,
        delete every row of the date range being rebuilt, so the run replaces the range as a whole —
        also dates that no longer have any rows. Renders nothing on a first build or full refresh.
        The model's SQL was compiled before this runs, so both see the same range. -#}
    {%- if execute and is_incremental() -%}
        delete from {{ this }}
        where {{ in_date_range(date_column, incremental_date_range(date_column)) }}
    {%- endif -%}
{% endmacro %}
