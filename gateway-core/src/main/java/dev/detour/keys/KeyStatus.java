package dev.detour.keys;

/**
 * An immutable snapshot of a key's (or quota group's) state; swapped whole with compare-and-set, so a
 * transition happens exactly once however many requests report the same signal.
 *
 * @param state      the state
 * @param untilNanos when a cooling or exhausted key may be used again (monotonic clock)
 * @param strikes    rate limits in a row, which grow the cooldown when the provider gives no hint
 * @param probing    whether one probe request of an exhausted key is under way
 * @param lastError  the last signal, e.g. {@code rate_limit_exceeded}; never a secret
 * @param byOperator whether an operator disabled the key: only an operator brings it back, and it stays
 *                   out across config reloads while its secret is still configured
 */
record KeyStatus(KeyState state, long untilNanos, int strikes, boolean probing, String lastError,
                 boolean byOperator) {

    static final KeyStatus AVAILABLE = new KeyStatus(KeyState.AVAILABLE, 0, 0, false, "-");
    /** The detail an operator's disable leaves as the key's last signal. */
    static final String OPERATOR_DETAIL = "disabled_by_operator";

    KeyStatus {
        if (byOperator && state != KeyState.DISABLED) {
            throw new IllegalArgumentException("byOperator with state " + state + " (expected: DISABLED)");
        }
    }

    /** Returns a status the provider's signals set; never the operator's. */
    KeyStatus(KeyState state, long untilNanos, int strikes, boolean probing, String lastError) {
        this(state, untilNanos, strikes, probing, lastError, false);
    }

    /** Returns the status of a key an operator took out. */
    static KeyStatus disabledByOperator(int strikes) {
        return new KeyStatus(KeyState.DISABLED, 0, strikes, false, OPERATOR_DETAIL, true);
    }

    /** Returns whether a request may use the key at {@code now}, ignoring probes. */
    boolean usableAt(long now) {
        switch (state) {
            case AVAILABLE:
                return true;
            case COOLING:
                return now - untilNanos >= 0;
            default:
                return false;
        }
    }
}
