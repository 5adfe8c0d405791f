{% macro rollup_spans(gold_windows) %}
    {#-
        Per rollup size, the first and last window_start a gold *_per_rollup_window relation has:
        the span its reconciliation test recomputes from silver (a CTE named gold_spans).
    -#}
    select
        window_minutes,
        min(window_start) as first_window_start,
        max(window_start) as last_window_start

    from {{ gold_windows }}
    group by window_minutes
{% endmacro %}

{% macro in_rollup_span(event_at, minutes) %}
    {#- The join condition onto gold_spans: `event_at` falls in gold's span at that size. -#}
    gold_spans.window_minutes = {{ minutes }}
    and {{ event_at }} >= gold_spans.first_window_start
    and {{ event_at }} < gold_spans.last_window_start + to_minutes({{ minutes }})
{% endmacro %}
