package io.clickstream.functions;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonFactory;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.StreamReadConstraints;

/**
 * The JSON reader of both functions, with the limits docs/events.md states for a whole payload.
 *
 * <p>A payload beyond one of them is not readable, so {@code parse_event} calls it no JSON
 * object ({@code invalid_json}) and {@code event_time} finds no {@code event_at}; both read with
 * the same limits, so they never disagree about a payload. Jackson's defaults also reject NaN and
 * Infinity, which are not JSON.
 */
final class PayloadJson {

    /** Levels of objects and arrays, the payload's own object included, unknown fields too. */
    static final int MAX_NESTING_DEPTH = 1_000;

    /** Characters of one number, digits, sign, point and exponent together. */
    static final int MAX_NUMBER_LENGTH = 1_000;

    static final JsonFactory FACTORY =
            JsonFactory.builder()
                    .streamReadConstraints(
                            StreamReadConstraints.builder()
                                    .maxNestingDepth(MAX_NESTING_DEPTH)
                                    .maxNumberLength(MAX_NUMBER_LENGTH)
                                    .build())
                    .build();

    private PayloadJson() {}
}
