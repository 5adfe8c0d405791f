-- The payload's event_at, up to a cut-off, for the source's watermark: read by a tokenizer
-- (jvm/functions/); JSON_VALUE would parse the whole payload into a tree for it.
create temporary function event_time as 'io.clickstream.functions.EventTime' language java;
