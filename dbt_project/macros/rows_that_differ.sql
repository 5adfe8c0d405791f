{% macro rows_that_differ(gold, silver, keys, measures) %}
    {#-
        The reconciliation tests' last step: full outer join Flink's gold rows with the same
        figures recomputed from silver on `keys`, and select the keys whose `measures` differ
        (a row on one side only differs too), as gold_<measure> and silver_<measure> columns.
    -#}
    select
        {%- for key in keys %}
        coalesce({{ gold }}.{{ key }}, {{ silver }}.{{ key }}) as {{ key }},
        {%- endfor %}
        {%- for measure in measures %}
        {{ gold }}.{{ measure }} as gold_{{ measure }},
        {{ silver }}.{{ measure }} as silver_{{ measure }}{{ "," if not loop.last }}
        {%- endfor %}

    from {{ gold }}
    full outer join {{ silver }}
        on
            {%- for key in keys %}
            {{ "and " if not loop.first }}{{ gold }}.{{ key }} = {{ silver }}.{{ key }}
            {%- endfor %}

    where
        {%- for measure in measures %}
        {{ "or " if not loop.first }}{{ gold }}.{{ measure }} is distinct from {{ silver }}.{{ measure }}
        {%- endfor %}
{% endmacro %}
