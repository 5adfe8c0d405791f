{% macro normal_quantile(probability) %}
    {#-
        The standard normal quantile of `probability` in (0.5, 1), known when the model compiles
        (a var): the z of a one-sided confidence level. DuckDB has no inverse normal, so this is
        Acklam's rational approximation (relative error below 1.2e-9); Flink gets the exact
        quantile from stack/config.py (Config.hilc_z). tests/test_dbt_marts.py compares the two.
    -#}
    {%- set p = probability | float -%}
    {%- if not (0.5 < p < 1) -%}
        {{ exceptions.raise_compiler_error(
            "normal_quantile: probability must be in (0.5, 1), got " ~ probability
        ) }}
    {%- endif -%}
    {%- if p <= 0.97575 -%}
        {#- the central region is arithmetic only: jinja works it out -#}
        {%- set q = p - 0.5 -%}
        {%- set r = q * q -%}
        {%- set numerator = (((((-39.69683028665376 * r + 220.9460984245205) * r
            - 275.9285104469687) * r + 138.3577518672690) * r - 30.66479806614716) * r
            + 2.506628277459239) * q -%}
        {%- set denominator = ((((-54.47609879822406 * r + 161.5858368580409) * r
            - 155.6989798598866) * r + 66.80131188771972) * r - 13.28068155288572) * r + 1 -%}
        cast({{ numerator / denominator }} as double)
    {%- else -%}
        {#- the upper tail needs a logarithm, which jinja lacks: DuckDB works it out -#}
        {%- set q = "sqrt(-2 * ln(1 - " ~ p ~ "))" -%}
        (
            -(((((-0.007784894002430293 * {{ q }} - 0.3223964580411365) * {{ q }}
            - 2.400758277161838) * {{ q }} - 2.549732539343734) * {{ q }}
            + 4.374664141464968) * {{ q }} + 2.938163982698783)
            / ((((0.007784695709041462 * {{ q }} + 0.3224671290700398) * {{ q }}
            + 2.445134137142996) * {{ q }} + 3.754408661907416) * {{ q }} + 1)
        )
    {%- endif -%}
{% endmacro %}
