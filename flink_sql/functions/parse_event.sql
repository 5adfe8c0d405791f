-- Reads a payload into typed columns in one pass (JSON_VALUE re-parses the text for every field);
-- Java, built from jvm/functions/ into the cluster's lib/. It types values, SQL judges them.
create temporary function parse_event as 'io.clickstream.functions.ParseEvent' language java;
