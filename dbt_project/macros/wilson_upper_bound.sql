{% macro wilson_upper_bound(successes, trials, z) %}
    {#-
        The upper end of the Wilson score interval of `successes` in `trials` (null without
        trials) for the normal quantile `z`: the highest rate the observations make plausible
        at that one-sided confidence. Successes above trials count as trials. The same formula
        as flink_sql/views/high_interest_products.sql (docs/lake.md).
    -#}
    {%- set share = "least(" ~ successes ~ " / " ~ trials ~ ", 1)" -%}
    case when {{ trials }} > 0 then
        (
            {{ share }} + {{ z }} * {{ z }} / (2 * {{ trials }})
            + {{ z }} * sqrt(
                {{ share }} * (1 - {{ share }}) / {{ trials }}
                + {{ z }} * {{ z }} / (4 * {{ trials }} * {{ trials }})
            )
        )
        / (1 + {{ z }} * {{ z }} / {{ trials }})
    end
{% endmacro %}
