-- Gold: users whose event rate in a window is above the bot threshold.
create table gold_bot_suspects (
    window_start timestamp(3),
    window_end timestamp(3),
    user_id string,
    event_count bigint,
    dt string
) partitioned by (dt) with (
    'connector' = 'filesystem',
    'path' = '${lake_root}/gold/bot_suspects',
    'format' = 'parquet',
    'sink.partition-commit.policy.kind' = 'success-file'
);
