-- The value of a group's earliest row by (time, tie-break), whatever order rows arrive in: Flink
-- SQL has no ARG_MIN. Java, built from jvm/functions/ into the cluster's lib/.
create temporary function earliest_value as 'io.clickstream.functions.EarliestValue' language java;
