package dev.detour.keys;

import java.util.concurrent.atomic.AtomicReference;

/**
 * Keys that share one upstream quota (one OpenAI organisation, one Gemini project): a rate-limit or
 * quota signal on one of them keeps all of them out, so the router does not waste attempts on siblings.
 *
 * <p>Thread-safe: the state is one immutable snapshot swapped with compare-and-set.
 */
final class QuotaGroup {

    private final String id;
    private final AtomicReference<KeyStatus> status = new AtomicReference<>(KeyStatus.AVAILABLE);

    QuotaGroup(String id) {
        this.id = id;
    }

    String id() {
        return id;
    }

    KeyStatus status() {
        return status.get();
    }

    AtomicReference<KeyStatus> statusRef() {
        return status;
    }

    /** Returns when the group lets its keys be used again, or {@code now} when it does already. */
    long blockedUntil(long now) {
        KeyStatus s = status.get();
        if (s.state() == KeyState.AVAILABLE || now - s.untilNanos() >= 0) {
            return now;
        }
        return s.untilNanos();
    }
}
