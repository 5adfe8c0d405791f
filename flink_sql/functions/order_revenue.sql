-- An order's revenue from its item arrays, equal to the sum of its order lines: the sessions read
-- it from the purchase row, so no unnest forces their window to be planned once per sink.
create temporary function order_revenue as 'io.clickstream.functions.OrderRevenue' language java;
