{% macro rollup_minutes() %}
    {#-
        The rollup window sizes (var rollup_minutes, stack/config.py) as a list of integers: the
        environment gives "5,10", the Airflow DAG's --vars a list.
    -#}
    {%- set sizes = var('rollup_minutes') -%}
    {%- if sizes is string -%}
        {%- set sizes = sizes.split(',') -%}
    {%- endif -%}
    {{ return(sizes | map('int') | list) }}
{% endmacro %}
