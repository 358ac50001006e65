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
 */
record KeyStatus(KeyState state, long untilNanos, int strikes, boolean probing, String lastError) {

    static final KeyStatus AVAILABLE = new KeyStatus(KeyState.AVAILABLE, 0, 0, false, "-");

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
