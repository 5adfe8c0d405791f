package io.clickstream.functions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;

import org.apache.flink.table.data.TimestampData;
import org.junit.jupiter.api.Test;

class EventTimeTest {

    private final EventTime function = new EventTime();

    private static final LocalDateTime FAR = LocalDateTime.of(2100, 1, 1, 0, 0);

    private TimestampData eventTime(String json) {
        return function.eval(json.getBytes(StandardCharsets.UTF_8), FAR);
    }

    @Test
    void readsTheContractsFormOfTheTopLevelEventAt() {
        assertEquals(
                TimestampData.fromLocalDateTime(LocalDateTime.of(2026, 11, 22, 10, 15, 30, 123_000_000)),
                eventTime(
                        "{\"extra\":{\"event_at\":\"2000-01-01T00:00:00.000Z\"},"
                                + "\"event_at\":\"2026-11-22T10:15:30.123Z\",\"user_id\":\"u\"}"));
        assertEquals(
                TimestampData.fromLocalDateTime(LocalDateTime.of(2026, 1, 2, 0, 0)),
                eventTime(
                        "{\"event_at\":\"2026-01-01T00:00:00.000Z\","
                                + "\"event_at\":\"2026-01-02T00:00:00.000Z\"}"));
    }

    @Test
    void anythingElseIsNull() {
        String[] payloads = {
            "{}", "{\"event_at\":1732270530123}", "{\"event_at\":\"2026-11-22T10:15:30Z\"}",
            "{\"event_at\":\"2026-02-30T10:15:30.123Z\"}", "{\"event_at\":\"2026-11-22 10:15:30.123\"}",
            "{\"event_at\":\"2026-11-22T10:15:30.123Z\"} x", "[\"2026-11-22T10:15:30.123Z\"]", "",
        };
        for (String payload : payloads) {
            assertNull(eventTime(payload), payload);
        }
        assertNull(function.eval(null, FAR));
    }

    @Test
    void aTimeAfterTheCutOffIsNull() {
        String json = "{\"event_at\":\"2026-11-22T10:15:30.123Z\"}";
        byte[] value = json.getBytes(StandardCharsets.UTF_8);
        LocalDateTime eventAt = LocalDateTime.of(2026, 11, 22, 10, 15, 30, 123_000_000);
        assertEquals(TimestampData.fromLocalDateTime(eventAt), function.eval(value, eventAt));
        assertNull(function.eval(value, eventAt.minusNanos(1_000_000)));
    }

    @Test
    void readsWithParseEventsLimits() {
        String eventAt = "\"event_at\":\"2026-11-22T10:15:30.123Z\"";
        String atTheLimit = "{\"x\":" + "[".repeat(999) + "]".repeat(999) + "," + eventAt + "}";
        String beyond = "{\"x\":" + "[".repeat(1000) + "]".repeat(1000) + "," + eventAt + "}";
        assertEquals(
                TimestampData.fromLocalDateTime(LocalDateTime.of(2026, 11, 22, 10, 15, 30, 123_000_000)),
                eventTime(atTheLimit));
        assertNull(eventTime(beyond));
    }
}
