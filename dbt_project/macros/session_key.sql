{% macro session_key(user_id, started_at) %}
    {#- A session's id: a user starts at most one session at an instant, so (user, start) is a
        stable key; the sessions mart and the streaming sessions both derive it here. -#}
    md5({{ user_id }} || '|' || strftime({{ started_at }}, '%Y-%m-%dT%H:%M:%S.%f'))
{%- endmacro %}
