package io.clickstream.functions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;

import org.apache.flink.table.data.ArrayData;
import org.apache.flink.table.data.RowData;
import org.junit.jupiter.api.Test;

/** What parse_event reads from a payload; the SQL's verdicts are tested end to end in Python. */
class ParseEventTest {

    private final ParseEvent function = new ParseEvent();

    private RowData parse(String json) {
        return function.parse(json.getBytes(StandardCharsets.UTF_8));
    }

    private static String text(RowData row, int field) {
        return row.isNullAt(field) ? null : row.getString(field).toString();
    }

    private static BigDecimal decimal(RowData row, int field) {
        return row.isNullAt(field) ? null : row.getDecimal(field, 12, 2).toBigDecimal();
    }

    @Test
    void readsAProductEvent() {
        RowData row =
                parse(
                        "{\"event_id\":\"e1\",\"event_type\":\"add_to_cart\",\"price\":12.350,"
                                + "\"quantity\":2,\"browser\":\"Chrome 119\",\"extra\":{\"a\":[1]}}");
        assertTrue(row.getBoolean(0));
        assertEquals("e1", text(row, 1));
        assertEquals("add_to_cart", text(row, 2));
        assertEquals(new BigDecimal("12.35"), decimal(row, 9)); // a trailing zero is no decimal
        assertEquals(2, row.getInt(10));
        assertTrue(row.getBoolean(11));
        assertEquals("Chrome 119", text(row, 19));
        assertNull(text(row, 12));
        assertTrue(row.isNullAt(13));
    }

    @Test
    void readsLineItemsAsParallelArraysWithNullsForWhatIsMissingOrMistyped() {
        RowData row =
                parse(
                        "{\"order\":{\"order_id\":\"o1\",\"items\":["
                                + "{\"product_id\":\"p1\",\"quantity\":1,\"unit_price\":9.5},"
                                + "{\"product_id\":\"p2\",\"quantity\":\"2\",\"unit_price\":\"1\"},"
                                + "7]}}");
        assertEquals("o1", text(row, 12));
        ArrayData productIds = row.getArray(13);
        ArrayData quantities = row.getArray(16);
        ArrayData unitPrices = row.getArray(17);
        assertEquals(3, productIds.size());
        assertEquals("p2", productIds.getString(1).toString());
        assertTrue(productIds.isNullAt(2));
        assertEquals(1, quantities.getInt(0));
        assertTrue(quantities.isNullAt(1)); // numbers are never strings
        assertEquals(new BigDecimal("9.50"), unitPrices.getDecimal(0, 12, 2).toBigDecimal());
        assertTrue(unitPrices.isNullAt(1));
    }

    @Test
    void typesValuesStrictly() {
        RowData row = parse("{\"price\":\"12.50\",\"quantity\":1.5,\"event_id\":{\"a\":1}}");
        assertTrue(row.getBoolean(0));
        assertNull(decimal(row, 9));
        assertTrue(row.isNullAt(10));
        assertTrue(row.getBoolean(11)); // present, so a wrong quantity is not an absent one
        assertNull(text(row, 1));
        assertFalse(parse("{\"quantity\":null}").getBoolean(11));
        assertEquals(new BigDecimal("125.00"), decimal(parse("{\"price\":1.25e2}"), 9));
        assertEquals(new BigDecimal("0.01"), decimal(parse("{\"price\":1e-2}"), 9));
        assertEquals("123", text(parse("{\"user_id\":123}"), 4));
    }

    @Test
    void theLastOfDuplicateKeysWins() {
        RowData row = parse("{\"event_type\":\"page_view\",\"event_type\":\"product_view\"}");
        assertEquals("product_view", text(row, 2));
    }

    @Test
    void anythingButOneJsonObjectInValidUtf8IsNotAJsonObject() {
        String[] notObjects = {
            "", " ", "null", "\"page_view\"", "[{}]", "{} garbage", "{}{}", "{\"a\":1",
            "{\"price\":NaN}", "{\"price\":Infinity}", "{'a':1}", "\uFEFF{}",
            "{\"deep\":" + "[".repeat(10_000) + "]".repeat(10_000) + "}",
        };
        for (String payload : notObjects) {
            RowData row = parse(payload);
            assertFalse(row.getBoolean(0), payload.length() > 40 ? "deep" : payload);
        }
        byte[] invalidUtf8 = "{\"brand\":\"bad\u0000\"}".getBytes(StandardCharsets.UTF_8);
        invalidUtf8[11] = (byte) 0xff;
        assertFalse(function.parse(invalidUtf8).getBoolean(0));
        assertFalse(function.parse(null).getBoolean(0));
        RowData unreadable = parse("{\"event_id\":\"e1\"} x");
        assertNull(text(unreadable, 1)); // nothing of an unreadable record is kept
        assertTrue(parse(" {\"event_id\":\"e1\"} \n").getBoolean(0));
    }

    @Test
    void anAmountWithMoreThanTwoDecimalsIsNotRoundedButNull() {
        for (String price : new String[] {"19.995", "0.001", "1e-3", "1e-999999999", "5.0001"}) {
            assertNull(decimal(parse("{\"price\":" + price + "}"), 9), price);
        }
        RowData order =
                parse("{\"order\":{\"items\":[{\"quantity\":1,\"unit_price\":19.995}]}}");
        assertTrue(order.getArray(17).isNullAt(0));
        assertTrue(order.isNullAt(22)); // no order total without every unit price
    }

    @Test
    void aNumberBeyondItsTypeReadsAsTheTypesLargestOfItsSign() {
        BigDecimal largest = new BigDecimal("9999999999.99");
        assertEquals(largest, decimal(parse("{\"price\":99999999999}"), 9));
        assertEquals(largest, decimal(parse("{\"price\":1e20}"), 9));
        assertEquals(largest, decimal(parse("{\"price\":1e999999999}"), 9));
        assertEquals(largest.negate(), decimal(parse("{\"price\":-1e20}"), 9));
        assertEquals(new BigDecimal("9999999999.99"), decimal(parse("{\"price\":9999999999.99}"), 9));
        assertEquals(Integer.MAX_VALUE, parse("{\"quantity\":3000000000}").getInt(10));
        assertEquals(Integer.MAX_VALUE, parse("{\"quantity\":" + "9".repeat(900) + "}").getInt(10));
        assertEquals(Integer.MIN_VALUE, parse("{\"quantity\":-3000000000}").getInt(10));
        assertEquals(2147483647, parse("{\"quantity\":2147483647}").getInt(10));
    }

    @Test
    void theOrderTotalSumsQuantityTimesUnitPriceOverTheItems() {
        RowData order =
                parse(
                        "{\"order\":{\"items\":[{\"quantity\":3,\"unit_price\":4.5},"
                                + "{\"quantity\":1,\"unit_price\":199.99}]}}");
        assertEquals(new BigDecimal("213.49"), order.getDecimal(22, 12, 2).toBigDecimal());
        RowData huge =
                parse(
                        "{\"order\":{\"items\":[{\"quantity\":1000,"
                                + "\"unit_price\":99999999.99}]}}");
        assertEquals(new BigDecimal("9999999999.99"), huge.getDecimal(22, 12, 2).toBigDecimal());
        assertTrue(parse("{\"order\":{\"items\":[{\"quantity\":1}]}}").isNullAt(22));
        assertTrue(parse("{\"order\":{\"items\":[]}}").isNullAt(22));
        assertTrue(parse("{\"order\":{\"items\":7}}").isNullAt(22));
        assertTrue(parse("{\"event_type\":\"page_view\"}").isNullAt(22));
    }

    @Test
    void nestingIsReadUpToAThousandLevelsTheEventsObjectIncluded() {
        String atTheLimit = "{\"x\":" + "[".repeat(999) + "]".repeat(999) + ",\"event_id\":\"e\"}";
        String beyond = "{\"x\":" + "[".repeat(1000) + "]".repeat(1000) + ",\"event_id\":\"e\"}";
        assertTrue(parse(atTheLimit).getBoolean(0));
        assertEquals("e", text(parse(atTheLimit), 1));
        assertFalse(parse(beyond).getBoolean(0));
    }

    @Test
    void numbersAreReadUpToAThousandCharacters() {
        String atTheLimit = "{\"x\":" + "1".repeat(1000) + ",\"event_id\":\"e\"}";
        String beyond = "{\"x\":" + "1".repeat(1001) + ",\"event_id\":\"e\"}";
        assertTrue(parse(atTheLimit).getBoolean(0));
        assertFalse(parse(beyond).getBoolean(0));
    }
}
