package io.clickstream.functions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.math.BigDecimal;

import org.junit.jupiter.api.Test;

class OrderRevenueTest {

    private final OrderRevenue function = new OrderRevenue();

    private static BigDecimal[] prices(String... values) {
        BigDecimal[] prices = new BigDecimal[values.length];
        for (int i = 0; i < values.length; i++) {
            prices[i] = values[i] == null ? null : new BigDecimal(values[i]);
        }
        return prices;
    }

    @Test
    void sumsQuantityTimesUnitPriceOverTheLines() {
        assertEquals(
                new BigDecimal("1234.47"),
                function.eval(new Integer[] {3, 1, 1000}, prices("0.99", "1.50", "1.23")));
    }

    @Test
    void theLargestLinesTheChecksAllowAreExact() {
        assertEquals(
                new BigDecimal("200000000.00"),
                function.eval(new Integer[] {1000, 1000}, prices("100000.00", "100000.00")));
    }

    @Test
    void aLineWithoutQuantityOrPriceAddsNothingAndNoLinesAreZero() {
        assertEquals(
                new BigDecimal("2.00"),
                function.eval(new Integer[] {null, 2, 5}, prices("9.99", "1.00", null)));
        assertEquals(new BigDecimal("0.00"), function.eval(new Integer[] {}, prices()));
    }

    @Test
    void nullArraysAreNull() {
        assertNull(function.eval(null, prices("1.00")));
        assertNull(function.eval(new Integer[] {1}, null));
    }
}
