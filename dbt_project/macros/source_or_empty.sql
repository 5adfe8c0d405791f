{% macro source_or_empty(source_relation) %}
    {#-
        Reads a lake table, or an empty relation of the same columns when it has no finished
        files yet.

        read_parquet fails at bind time when its glob matches nothing, and some lake tables are
        legitimately empty (quarantine/ and late/ in a healthy stream, gold/bot_suspects). So when
        the model runs, count the files the source's glob matches; with none, return
        `(select cast(null as <data_type>) as <column>, … where false)` built from the columns
        declared in __sources.yml, and log it. Staging views are recreated by every `dbt build`, so
        the first build after files appear reads them.
    -#}
    {%- if not execute or source_relation.external is none -%}
        {{ return(source_relation) }}
    {%- endif -%}

    {%- set glob_pattern = source_relation.external.split("'")[1] -%}
    {%- set file_count_sql -%}
        select count(*) from glob('{{ glob_pattern }}')
    {%- endset -%}
    {%- set file_count = run_query(file_count_sql).columns[0].values()[0] -%}
    {%- if file_count > 0 -%}
        {{ return(source_relation) }}
    {%- endif -%}

    {%- set source_node = (
        graph.sources.values()
        | selectattr('identifier', 'equalto', source_relation.identifier)
        | list
    )[0] -%}
    {{ log('lake table ' ~ source_node.source_name ~ '.' ~ source_node.name ~ ': no files match '
        ~ glob_pattern ~ ', reading it as empty', info=true) }}
    {%- set typed_nulls = [] -%}
    {%- for column in source_node.columns.values() -%}
        {%- do typed_nulls.append('cast(null as ' ~ column.data_type ~ ') as ' ~ column.name) -%}
    {%- endfor -%}
    {{ return('(select ' ~ typed_nulls | join(', ') ~ ' where false)') }}
{% endmacro %}
