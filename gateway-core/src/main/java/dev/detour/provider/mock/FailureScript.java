package dev.detour.provider.mock;

import dev.detour.config.MockFailureConfig;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Decides which scripted failure, if any, a request on a key answers, and counts failures per rule and
 * key so that a rule with {@code times: n} fails a key n times and then lets it through.
 *
 * <p>Concurrency: thread-safe. Each (rule, key) pair has its own {@link AtomicInteger}, claimed with a
 * compare-and-set so that concurrent requests never fail a key more than {@code times} times. The
 * counter map only grows by the key ids a provider is configured with, so it needs no eviction.
 */
final class FailureScript {

    private final List<MockFailureConfig> rules;
    private final ConcurrentMap<Counter, AtomicInteger> failures = new ConcurrentHashMap<>();

    FailureScript(List<MockFailureConfig> rules) {
        this.rules = List.copyOf(rules);
    }

    /**
     * Returns the rule this request fails by, and counts the failure. Only the first rule that applies to
     * {@code keyId} is considered: once it has failed the key {@code times} times the key has recovered,
     * and later rules naming the same key (or {@code *}) do not take over.
     */
    Optional<MockFailureConfig> next(String keyId) {
        for (int i = 0; i < rules.size(); i++) {
            MockFailureConfig rule = rules.get(i);
            if (rule.appliesTo(keyId)) {
                return claim(i, rule, keyId) ? Optional.of(rule) : Optional.empty();
            }
        }
        return Optional.empty();
    }

    private boolean claim(int ruleIndex, MockFailureConfig rule, String keyId) {
        if (rule.times() == 0) {
            return true;
        }
        AtomicInteger count = failures.computeIfAbsent(new Counter(ruleIndex, keyId), c -> new AtomicInteger());
        int seen;
        do {
            seen = count.get();
            if (seen >= rule.times()) {
                return false;
            }
        } while (!count.compareAndSet(seen, seen + 1));
        return true;
    }

    /** Identifies one rule's count for one key; a {@code *} rule counts each key separately. */
    private record Counter(int ruleIndex, String keyId) {
    }
}
