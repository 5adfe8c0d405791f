package io.clickstream.functions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.LocalDateTime;
import java.util.List;

import org.junit.jupiter.api.Test;

class EarliestValueTest {

    private final EarliestValue function = new EarliestValue();
    private static final LocalDateTime T0 = LocalDateTime.of(2026, 11, 30, 23, 59, 59, 999_000_000);

    private String earliestOf(Object[]... rows) {
        EarliestValue.Earliest earliest = function.createAccumulator();
        for (Object[] row : rows) {
            function.accumulate(earliest, (String) row[0], (LocalDateTime) row[1], (String) row[2]);
        }
        return function.getValue(earliest);
    }

    private static Object[] row(String value, LocalDateTime at, String tiebreak) {
        return new Object[] {value, at, tiebreak};
    }

    @Test
    void theEarliestTimeWinsWhateverTheArrivalOrder() {
        Object[] first = row("mobile", T0, "e-2");
        Object[] later = row("desktop", T0.plusNanos(1_000_000), "e-1");
        assertEquals("mobile", earliestOf(first, later));
        assertEquals("mobile", earliestOf(later, first));
    }

    @Test
    void aTieIsBrokenByTheSmallestTiebreakAsUtf8Bytes() {
        assertEquals("tablet", earliestOf(row("desktop", T0, "e-b"), row("tablet", T0, "e-a")));
        // U+FF21 sorts before U+1F600 in UTF-8 but after its surrogates in UTF-16.
        assertEquals("a", earliestOf(row("b", T0, "\uD83D\uDE00"), row("a", T0, "\uFF21")));
        assertTrue(EarliestValue.compareUtf8("\uFF21", "\uD83D\uDE00") < 0);
    }

    @Test
    void nullTimesAreIgnoredAndNothingIsNull() {
        assertNull(earliestOf());
        assertEquals("mobile", earliestOf(row("desktop", null, "e-0"), row("mobile", T0, "e-1")));
    }

    @Test
    void mergingSessionsKeepsTheEarliestOfBoth() {
        EarliestValue.Earliest left = function.createAccumulator();
        function.accumulate(left, "desktop", T0.plusMinutes(5), "e-9");
        EarliestValue.Earliest right = function.createAccumulator();
        function.accumulate(right, "mobile", T0, "e-3");
        EarliestValue.Earliest empty = function.createAccumulator();
        function.merge(left, List.of(right, empty));
        assertEquals("mobile", function.getValue(left));
    }
}
