-- The payload's event_at for the source's watermark, read by a tokenizer (jvm/functions/); the
-- JSON functions would parse the whole payload into a tree for it, twice per record.
create temporary function event_time as 'io.clickstream.functions.EventTime' language java;
