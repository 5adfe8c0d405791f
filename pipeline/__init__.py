"""The Flink SQL pipeline under flink_sql/: loading, rendering and deploying its jobs."""
