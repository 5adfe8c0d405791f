-- Orders -> silver line items and revenue per tumbling window.
SET 'pipeline.name' = 'orders-pipeline';

EXECUTE STATEMENT SET
BEGIN
INSERT INTO silver_order_items
SELECT
  order_id, user_id, event_at, product_id, quantity, unit_price, line_total,
  DATE_FORMAT(event_at, 'yyyy-MM-dd') AS dt
FROM order_items;
INSERT INTO gold_revenue_per_window
SELECT
  window_start, window_end,
  COUNT(DISTINCT order_id) AS order_count,
  CAST(SUM(line_total) AS DECIMAL(12, 2)) AS revenue,
  DATE_FORMAT(window_start, 'yyyy-MM-dd') AS dt
FROM TABLE(
  TUMBLE(TABLE order_items, DESCRIPTOR(event_at), INTERVAL '${gold_window_minutes}' MINUTE)
)
GROUP BY window_start, window_end;
END;
