package io.clickstream.functions;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonFactory;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonParser;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonToken;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.data.DecimalData;
import org.apache.flink.table.data.GenericArrayData;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.functions.ScalarFunction;

/**
 * Reads one event payload (docs/events.md) into typed columns in a single pass.
 *
 * <p>Flink's JSON_VALUE and JSON_QUERY parse the whole text again for every field they extract;
 * this function parses it once. It only reads and types: whether a record is valid is decided
 * in SQL (flink_sql/views/events_checked.sql) from what it returns.
 *
 * <p>It emits exactly one row per call, also for a null or unreadable value (then only
 * {@code is_json_object = false}), so a record can never be lost here. Column by column:
 *
 * <ul>
 *   <li>{@code is_json_object}: the bytes are valid UTF-8 and hold exactly one JSON object, with
 *       nothing but whitespace after it, within the limits of {@link PayloadJson};
 *   <li>strings: a JSON scalar's text (numbers and booleans as written), null when absent, JSON
 *       null, an object or an array; the last of duplicate keys wins;
 *   <li>{@code price}, {@code item_unit_prices}: a JSON number with at most 2 decimals (trailing
 *       zeros aside) as DECIMAL(12, 2); null when absent, not a number, or with more decimals
 *       (never rounded); beyond the type it reads as the type's largest value of its sign;
 *   <li>{@code quantity}, {@code item_quantities}: a JSON integer as INT, beyond the type its
 *       largest value of its sign; null for anything else; {@code has_quantity} tells a wrong
 *       quantity from an absent one;
 *   <li>{@code item_*}: one element per element of {@code order.items} (null when that is not
 *       an array), each null when the item lacks the field or it has the wrong JSON type;
 *   <li>{@code order_total}: the sum of quantity × unit price over the items as read (Flink SQL
 *       cannot sum an array), beyond DECIMAL(12, 2) its largest value; null when an item lacks
 *       either or there are no items.
 * </ul>
 *
 * <p>A value beyond its type thus stays a number: the SQL finds it out of range instead of
 * missing, and the raw payload keeps what was sent.
 */
public final class ParseEvent extends ScalarFunction {

    private static final long serialVersionUID = 1L;

    @DataTypeHint(
                        value =
                                "ROW<"
                                        + "is_json_object BOOLEAN NOT NULL,"
                                        + " event_id STRING,"
                                        + " event_type STRING,"
                                        + " event_at_text STRING,"
                                        + " user_id STRING,"
                                        + " session_id STRING,"
                                        + " product_id STRING,"
                                        + " category STRING,"
                                        + " brand STRING,"
                                        + " price DECIMAL(12, 2),"
                                        + " quantity INT,"
                                        + " has_quantity BOOLEAN NOT NULL,"
                                        + " order_id STRING,"
                                        + " item_product_ids ARRAY<STRING>,"
                                        + " item_categories ARRAY<STRING>,"
                                        + " item_brands ARRAY<STRING>,"
                                        + " item_quantities ARRAY<INT>,"
                                        + " item_unit_prices ARRAY<DECIMAL(12, 2)>,"
                                        + " device_type_raw STRING,"
                                        + " browser_raw STRING,"
                                        + " page_url STRING,"
                                        + " referrer STRING,"
                                        + " order_total DECIMAL(12, 2)>",
                        bridgedTo = RowData.class)
    public RowData eval(byte[] value) {
        return parse(value);
    }

    /**
     * Declared non-deterministic only so that the planner keeps one call per record: it would
     * otherwise inline {@code parse_event(raw_value).field} into every expression that reads a
     * field, parsing the payload once per field again. The result depends on the input alone.
     */
    @Override
    public boolean isDeterministic() {
        return false;
    }

    private static final JsonFactory JSON = PayloadJson.FACTORY;

    private static final int SCALE = 2;
    private static final int MAX_INTEGER_DIGITS = 10; // DECIMAL(12, 2)
    private static final BigDecimal LARGEST = new BigDecimal("9999999999.99");
    private static final DecimalData LARGEST_DECIMAL = DecimalData.fromBigDecimal(LARGEST, 12, 2);
    private static final DecimalData SMALLEST_DECIMAL =
            DecimalData.fromBigDecimal(LARGEST.negate(), 12, 2);

    private static final int IS_JSON_OBJECT = 0;
    private static final int EVENT_ID = 1;
    private static final int EVENT_TYPE = 2;
    private static final int EVENT_AT_TEXT = 3;
    private static final int USER_ID = 4;
    private static final int SESSION_ID = 5;
    private static final int PRODUCT_ID = 6;
    private static final int CATEGORY = 7;
    private static final int BRAND = 8;
    private static final int PRICE = 9;
    private static final int QUANTITY = 10;
    private static final int HAS_QUANTITY = 11;
    private static final int ORDER_ID = 12;
    private static final int ITEM_PRODUCT_IDS = 13;
    private static final int ITEM_CATEGORIES = 14;
    private static final int ITEM_BRANDS = 15;
    private static final int ITEM_QUANTITIES = 16;
    private static final int ITEM_UNIT_PRICES = 17;
    private static final int DEVICE_TYPE_RAW = 18;
    private static final int BROWSER_RAW = 19;
    private static final int PAGE_URL = 20;
    private static final int REFERRER = 21;
    private static final int ORDER_TOTAL = 22;
    private static final int ARITY = 23;

    private transient CharsetDecoder utf8;

    /** The row for one payload; never null. */
    RowData parse(byte[] value) {
        if (utf8 == null) {
            utf8 = StandardCharsets.UTF_8.newDecoder(); // reports malformed input, never replaces
        }
        GenericRowData row = new GenericRowData(ARITY);
        row.setField(HAS_QUANTITY, false);
        boolean isJsonObject = false;
        if (value != null) {
            try {
                CharBuffer text = utf8.reset().decode(ByteBuffer.wrap(value));
                try (JsonParser parser =
                        JSON.createParser(text.array(), text.arrayOffset(), text.limit())) {
                    if (parser.nextToken() == JsonToken.START_OBJECT) {
                        readEvent(parser, row);
                        isJsonObject = parser.nextToken() == null; // one object, then the end
                    }
                }
            } catch (IOException | RuntimeException unreadable) { // CharacterCodingException too
                isJsonObject = false;
            }
        }
        if (!isJsonObject) {
            row = new GenericRowData(ARITY); // nothing of an unreadable record is trusted
            row.setField(HAS_QUANTITY, false);
        }
        row.setField(IS_JSON_OBJECT, isJsonObject);
        return row;
    }

    private static void readEvent(JsonParser parser, GenericRowData row) throws IOException {
        for (JsonToken token = parser.nextToken();
                token != JsonToken.END_OBJECT;
                token = parser.nextToken()) {
            String field = parser.currentName();
            token = parser.nextToken();
            switch (field) {
                case "event_id" -> row.setField(EVENT_ID, text(parser, token));
                case "event_type" -> row.setField(EVENT_TYPE, text(parser, token));
                case "event_at" -> row.setField(EVENT_AT_TEXT, text(parser, token));
                case "user_id" -> row.setField(USER_ID, text(parser, token));
                case "session_id" -> row.setField(SESSION_ID, text(parser, token));
                case "product_id" -> row.setField(PRODUCT_ID, text(parser, token));
                case "category" -> row.setField(CATEGORY, text(parser, token));
                case "brand" -> row.setField(BRAND, text(parser, token));
                case "price" -> row.setField(PRICE, decimal(parser, token));
                case "quantity" -> {
                    row.setField(HAS_QUANTITY, token != JsonToken.VALUE_NULL);
                    row.setField(QUANTITY, integer(parser, token));
                }
                case "order" -> readOrder(parser, token, row);
                case "device_type" -> row.setField(DEVICE_TYPE_RAW, text(parser, token));
                case "browser" -> row.setField(BROWSER_RAW, text(parser, token));
                case "page_url" -> row.setField(PAGE_URL, text(parser, token));
                case "referrer" -> row.setField(REFERRER, text(parser, token));
                default -> parser.skipChildren(); // unknown fields are ignored, still read to the end
            }
        }
    }

    private static void readOrder(JsonParser parser, JsonToken token, GenericRowData row)
            throws IOException {
        row.setField(ORDER_ID, null);
        row.setField(ORDER_TOTAL, null);
        for (int i = ITEM_PRODUCT_IDS; i <= ITEM_UNIT_PRICES; i++) {
            row.setField(i, null);
        }
        if (token != JsonToken.START_OBJECT) {
            parser.skipChildren();
            return;
        }
        for (token = parser.nextToken(); token != JsonToken.END_OBJECT; token = parser.nextToken()) {
            String field = parser.currentName();
            token = parser.nextToken();
            switch (field) {
                case "order_id" -> row.setField(ORDER_ID, text(parser, token));
                case "items" -> readItems(parser, token, row);
                default -> parser.skipChildren();
            }
        }
    }

    private static void readItems(JsonParser parser, JsonToken token, GenericRowData row)
            throws IOException {
        row.setField(ORDER_TOTAL, null);
        for (int i = ITEM_PRODUCT_IDS; i <= ITEM_UNIT_PRICES; i++) {
            row.setField(i, null);
        }
        if (token != JsonToken.START_ARRAY) {
            parser.skipChildren();
            return;
        }
        BigDecimal orderTotal = BigDecimal.ZERO;
        boolean hasOrderTotal = true;
        List<Object> productIds = new ArrayList<>();
        List<Object> categories = new ArrayList<>();
        List<Object> brands = new ArrayList<>();
        List<Object> quantities = new ArrayList<>();
        List<Object> unitPrices = new ArrayList<>();
        for (token = parser.nextToken(); token != JsonToken.END_ARRAY; token = parser.nextToken()) {
            Object productId = null, category = null, brand = null, quantity = null, unitPrice = null;
            if (token == JsonToken.START_OBJECT) {
                for (token = parser.nextToken();
                        token != JsonToken.END_OBJECT;
                        token = parser.nextToken()) {
                    String field = parser.currentName();
                    token = parser.nextToken();
                    switch (field) {
                        case "product_id" -> productId = text(parser, token);
                        case "category" -> category = text(parser, token);
                        case "brand" -> brand = text(parser, token);
                        case "quantity" -> quantity = integer(parser, token);
                        case "unit_price" -> unitPrice = decimal(parser, token);
                        default -> parser.skipChildren();
                    }
                }
            } else {
                parser.skipChildren();
            }
            if (quantity == null || unitPrice == null) {
                hasOrderTotal = false;
            } else if (hasOrderTotal) {
                orderTotal =
                        orderTotal.add(
                                ((DecimalData) unitPrice)
                                        .toBigDecimal()
                                        .multiply(BigDecimal.valueOf((Integer) quantity)));
            }
            productIds.add(productId);
            categories.add(category);
            brands.add(brand);
            quantities.add(quantity);
            unitPrices.add(unitPrice);
        }
        row.setField(ITEM_PRODUCT_IDS, new GenericArrayData(productIds.toArray()));
        row.setField(ITEM_CATEGORIES, new GenericArrayData(categories.toArray()));
        row.setField(ITEM_BRANDS, new GenericArrayData(brands.toArray()));
        row.setField(ITEM_QUANTITIES, new GenericArrayData(quantities.toArray()));
        row.setField(ITEM_UNIT_PRICES, new GenericArrayData(unitPrices.toArray()));
        if (hasOrderTotal && !productIds.isEmpty()) {
            row.setField(ORDER_TOTAL, fit(orderTotal));
        }
    }

    /** A scalar's text, as JSON_VALUE returns it; null for null, objects and arrays. */
    private static StringData text(JsonParser parser, JsonToken token) throws IOException {
        return switch (token) {
            case VALUE_STRING, VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> StringData.fromString(
                    parser.getText());
            case VALUE_TRUE -> StringData.fromString("true");
            case VALUE_FALSE -> StringData.fromString("false");
            default -> {
                parser.skipChildren();
                yield null;
            }
        };
    }

    /**
     * A JSON integer as INT, beyond it INT's largest value of its sign; null for anything else (a
     * fraction, a string, …).
     */
    private static Integer integer(JsonParser parser, JsonToken token) throws IOException {
        if (token != JsonToken.VALUE_NUMBER_INT) {
            parser.skipChildren();
            return null;
        }
        if (parser.getNumberType() == JsonParser.NumberType.INT) {
            return parser.getIntValue();
        }
        return parser.getText().startsWith("-") ? Integer.MIN_VALUE : Integer.MAX_VALUE;
    }

    /**
     * A JSON number with at most 2 decimals as DECIMAL(12, 2), beyond it the type's largest value
     * of its sign; null if not a number or it has more decimals (19.995 is not a price).
     */
    private static DecimalData decimal(JsonParser parser, JsonToken token) throws IOException {
        if (token != JsonToken.VALUE_NUMBER_INT && token != JsonToken.VALUE_NUMBER_FLOAT) {
            parser.skipChildren();
            return null;
        }
        BigDecimal number = parser.getDecimalValue();
        // By scale and magnitude only: rescaling 1e999999999 or 1e-999999999 would take forever.
        if (number.scale() > SCALE && number.stripTrailingZeros().scale() > SCALE) {
            return null;
        }
        return fit(number);
    }

    /** A number of at most 2 decimals as DECIMAL(12, 2), beyond it the largest of its sign. */
    private static DecimalData fit(BigDecimal number) {
        if (number.precision() - number.scale() > MAX_INTEGER_DIGITS) {
            return number.signum() > 0 ? LARGEST_DECIMAL : SMALLEST_DECIMAL;
        }
        return DecimalData.fromBigDecimal(number.setScale(SCALE, RoundingMode.UNNECESSARY), 12, 2);
    }
}
