{% test unique_combination_of_columns(model, combination_of_columns) %}
{#- Fails for every combination of `combination_of_columns` that occurs more than once: the grain
    test of a model keyed by several columns. -#}

select
    {{ combination_of_columns | join(', ') }},
    count(*) as row_count
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1

{% endtest %}
