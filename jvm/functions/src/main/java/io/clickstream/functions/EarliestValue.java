package io.clickstream.functions;

import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.util.Arrays;

import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.functions.AggregateFunction;

/**
 * The value of the earliest row: the one with the smallest {@code at}, ties broken by the
 * smallest {@code tiebreak} (compared as UTF-8 bytes, as DuckDB compares strings), so the result
 * does not depend on the order rows arrive in. Flink has no ARG_MIN; a session's device is the
 * device of its first event, as dbt's {@code arg_min(device_type, (event_at, event_id))} has it.
 *
 * <p>Rows with a null {@code at} are ignored. {@code merge} is there for session windows, whose
 * accumulators merge when two sessions grow into one.
 */
public final class EarliestValue extends AggregateFunction<String, EarliestValue.Earliest> {

    private static final long serialVersionUID = 1L;

    /** The earliest row seen so far; {@code at} is null while there is none. */
    public static final class Earliest {
        public @DataTypeHint("TIMESTAMP(3)") LocalDateTime at;
        public String tiebreak;
        public String value;
    }

    @Override
    public Earliest createAccumulator() {
        return new Earliest();
    }

    public void accumulate(
            Earliest earliest,
            String value,
            @DataTypeHint("TIMESTAMP(3)") LocalDateTime at,
            String tiebreak) {
        if (at != null && isBefore(at, tiebreak, earliest)) {
            earliest.at = at;
            earliest.tiebreak = tiebreak;
            earliest.value = value;
        }
    }

    public void merge(Earliest earliest, Iterable<Earliest> others) {
        for (Earliest other : others) {
            if (other.at != null) {
                accumulate(earliest, other.value, other.at, other.tiebreak);
            }
        }
    }

    @Override
    public String getValue(Earliest earliest) {
        return earliest.value;
    }

    private static boolean isBefore(LocalDateTime at, String tiebreak, Earliest earliest) {
        if (earliest.at == null) {
            return true;
        }
        int byTime = at.compareTo(earliest.at);
        return byTime != 0 ? byTime < 0 : compareUtf8(tiebreak, earliest.tiebreak) < 0;
    }

    /** Byte-wise on UTF-8 (nulls last): String.compareTo orders UTF-16 units, which differs. */
    static int compareUtf8(String a, String b) {
        if (a == null || b == null) {
            return a == null ? (b == null ? 0 : 1) : -1;
        }
        return Arrays.compareUnsigned(
                a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }
}
