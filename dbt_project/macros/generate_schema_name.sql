{% macro generate_schema_name(custom_schema_name, node) -%}
    {#- Marts land in the target schema (`main`), where dashboards read them; staging and
        intermediate models go to schemas named `staging` and `intermediate` as they are. -#}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
