-- Every parsed record with the first validation rule it breaks (NULL when valid).
CREATE TEMPORARY VIEW validated_events AS
SELECT
  *,
  CASE
    WHEN NOT is_json THEN 'invalid_json'
    WHEN event_id IS NULL THEN 'missing_event_id'
    WHEN event_type NOT IN ('page_view', 'product_view', 'add_to_cart', 'remove_from_cart', 'purchase')
      THEN 'unknown_event_type'
    WHEN NOT has_event_at THEN 'missing_event_at'
    WHEN event_at = TIMESTAMP '1970-01-01 00:00:00' THEN 'invalid_event_at'
    WHEN user_id IS NULL THEN 'missing_user_id'
    WHEN price < 0 THEN 'invalid_price'
    ELSE CAST(NULL AS STRING)
  END AS reason
FROM parsed_events;
