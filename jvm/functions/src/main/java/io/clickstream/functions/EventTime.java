package io.clickstream.functions;

import java.io.IOException;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.format.ResolverStyle;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonFactory;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonParser;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonToken;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.table.functions.ScalarFunction;

/**
 * The payload's top-level {@code event_at} as TIMESTAMP(3), for the source's watermark.
 *
 * <p>Only the contract's exact form {@code 2026-11-22T10:15:30.123Z} of a real instant is read;
 * anything else (absent, another format, Feb 30, unreadable JSON) is null, and so is a time
 * after {@code notAfter} (the source's far-future cut-off: one call then does what a CASE would
 * need two calls for). The source runs this
 * for every record before anything else, so it only tokenizes: nothing but {@code event_at} is
 * kept, and the last of duplicate keys wins, as in parse_event, whose limits it shares
 * ({@link PayloadJson}).
 */
public final class EventTime extends ScalarFunction {

    private static final long serialVersionUID = 1L;

    private static final JsonFactory JSON = PayloadJson.FACTORY; // parse_event's limits
    private static final DateTimeFormatter CONTRACT_FORMAT =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'")
                    .withResolverStyle(ResolverStyle.STRICT);

    public @DataTypeHint(value = "TIMESTAMP(3)", bridgedTo = TimestampData.class) TimestampData
            eval(byte[] value, @DataTypeHint("TIMESTAMP(3)") LocalDateTime notAfter) {
        String text = eventAtText(value);
        if (text == null) {
            return null;
        }
        try {
            LocalDateTime eventAt = LocalDateTime.parse(text, CONTRACT_FORMAT);
            return notAfter == null || eventAt.isAfter(notAfter)
                    ? null
                    : TimestampData.fromLocalDateTime(eventAt);
        } catch (DateTimeParseException notTheContractsForm) {
            return null;
        }
    }

    /** The top-level event_at string, or null (also for anything that is not one JSON object). */
    static String eventAtText(byte[] value) {
        if (value == null) {
            return null;
        }
        String eventAt = null;
        try (JsonParser parser = JSON.createParser(value)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            for (JsonToken token = parser.nextToken();
                    token != JsonToken.END_OBJECT;
                    token = parser.nextToken()) {
                String field = parser.currentName();
                token = parser.nextToken();
                if (field.equals("event_at")) {
                    eventAt = token == JsonToken.VALUE_STRING ? parser.getText() : null;
                }
                parser.skipChildren();
            }
            return parser.nextToken() == null ? eventAt : null;
        } catch (IOException | RuntimeException unreadable) {
            return null;
        }
    }
}
