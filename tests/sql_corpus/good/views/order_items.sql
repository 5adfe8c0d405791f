-- One row per line item of an order.
CREATE TEMPORARY VIEW order_items AS
SELECT
  o.order_id,
  o.user_id,
  o.`timestamp` AS event_at,
  item.product_id,
  item.quantity,
  item.unit_price,
  CAST(item.unit_price * item.quantity AS DECIMAL(12, 2)) AS line_total
FROM raw_orders AS o
CROSS JOIN UNNEST(o.items) AS item (product_id, quantity, unit_price);
