package dev.detour.keys;

/** The state of one upstream key, as the admin view and metrics show it. */
public enum KeyState {
    /** Can take requests. */
    AVAILABLE,
    /** Rate-limited: out until an instant, then back by itself. */
    COOLING,
    /** Quota gone: out until an instant, then one probe request decides whether it returns. */
    EXHAUSTED,
    /** Rejected by the provider, or taken out by an operator: out until enabled again. */
    DISABLED
}
