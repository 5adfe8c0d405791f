package io.clickstream.functions;

import java.math.BigDecimal;

import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.functions.ScalarFunction;

/**
 * An order's revenue from its parallel item arrays: the sum of quantity x unit price over its
 * lines, the same figure as the sum of {@code order_items_flattened.line_total} (each line is
 * exact at two decimals, so no rounding happens anywhere).
 *
 * <p>Why not the lines themselves: a view that unnests the items is planned once per sink that
 * reads it (each expansion gets its own correlation variable, so Flink cannot see that two are
 * the same), and the session windows, which need the revenue, are then computed twice. A scalar
 * over the purchase row keeps one session operator.
 *
 * <p>Silver purchases have parallel arrays without nulls (events_checked quarantines the rest);
 * a line missing its quantity or price adds nothing, as a null line total adds nothing to a SUM.
 * Null arrays give null, as SUM over no rows does.
 */
public final class OrderRevenue extends ScalarFunction {

    private static final long serialVersionUID = 1L;

    public @DataTypeHint("DECIMAL(38, 2)") BigDecimal eval(
            Integer[] quantities, @DataTypeHint("ARRAY<DECIMAL(12, 2)>") BigDecimal[] unitPrices) {
        if (quantities == null || unitPrices == null) {
            return null;
        }
        BigDecimal revenue = BigDecimal.ZERO.setScale(2);
        for (int line = 0; line < Math.min(quantities.length, unitPrices.length); line++) {
            if (quantities[line] != null && unitPrices[line] != null) {
                revenue = revenue.add(unitPrices[line].multiply(BigDecimal.valueOf(quantities[line])));
            }
        }
        return revenue.setScale(2);
    }
}
