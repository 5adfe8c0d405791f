{% test expression_is_true(model, expression, column_name=none) %}
{#- Fails for every row where `expression` (a SQL boolean over the model's columns) is not true.
    Used for business rules; a null result counts as a failure. -#}

select *
from {{ model }}
where not coalesce(({{ expression }}), false)

{% endtest %}
