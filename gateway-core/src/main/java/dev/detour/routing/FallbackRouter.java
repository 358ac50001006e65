package dev.detour.routing;

import dev.detour.config.RetryTrigger;
import dev.detour.keys.PooledKey;
import dev.detour.provider.UpstreamVerdict;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Decides where a request goes next: which target and key, whether to wait for a cooling key, or to
 * give up. Pure decision logic over the route's live state (key pools, circuit breakers); no I/O.
 *
 * <p>Rules:
 * <ul>
 *   <li>Targets are tried in the route strategy's order; within a target, its pool picks the key.</li>
 *   <li>A key-level signal (429, quota, rejected key) moves on to another key of the same target, then
 *       to the next target; a target-level one (overload, 5xx, timeout, no connection, unknown model)
 *       to the next target; a prompt too long for the model to the route's context-fallback target.
 *       Client errors are never retried. Each move happens only for outcomes in the route's
 *       {@code retry-on}.</li>
 *   <li>Waiting happens only when nothing can take the request now and the soonest key or target is
 *       free within what is left of {@code max-wait} (a budget for all the waits of one request) and the
 *       deadline.</li>
 *   <li>Attempts are bounded by {@code max-attempts} and the route's deadline.</li>
 * </ul>
 *
 * <p>Stateless and thread-safe.
 */
public final class FallbackRouter {

    /** The shared instance. */
    public static final FallbackRouter INSTANCE = new FallbackRouter();

    private FallbackRouter() {
    }

    /** What to do next. */
    public sealed interface Decision permits Send, Wait, GiveUp {
    }

    /** Send an attempt to {@code target} with {@code key}; the key is already counted against its quota. */
    public record Send(Target target, PooledKey key) implements Decision {
    }

    /** Nothing can take the request now, but something can within {@code nanos}: wait, then ask again. */
    public record Wait(long nanos) implements Decision {
    }

    /**
     * Nothing can take the request in time.
     *
     * @param reason          why
     * @param retryAfterNanos when something may take a request again, or {@code -1} if unknown
     */
    public record GiveUp(Reason reason, long retryAfterNanos) implements Decision {
    }

    /** Why a request cannot be served. */
    public enum Reason {
        /** Every key that could serve is cooling or out of quota. */
        EXHAUSTED,
        /** Every key that could serve was rejected by its provider or disabled by an operator. */
        NO_USABLE_KEY,
        /** The targets left are failing: their circuit breakers are open. */
        FAILING,
        /** The route's attempt budget is spent. */
        MAX_ATTEMPTS,
        /** The route's deadline has passed. */
        DEADLINE,
        /** Every target was tried and ruled out. */
        TRIED_ALL
    }

    /** Returns the order in which a new request tries {@code route}'s targets. */
    public List<Target> order(Route route) {
        List<Target> targets = route.targets();
        if (targets.size() == 1) {
            return targets;
        }
        switch (route.config().strategy()) {
            case WEIGHTED:
                return weightedOrder(targets);
            case LEAST_LATENCY: {
                List<Target> sorted = new ArrayList<>(targets);
                // Targets without a sample yet sort first, so that each gets measured.
                sorted.sort(Comparator.comparingDouble(t -> t.stats().latencyNanos()));
                return sorted;
            }
            case LEAST_BUSY: {
                List<Target> sorted = new ArrayList<>(targets);
                sorted.sort(Comparator.comparingInt(t -> t.stats().inFlight()));
                return sorted;
            }
            default:
                return targets;
        }
    }

    /** Decides the next step of a request on {@code route} at {@code now} (monotonic nanos). */
    public Decision next(Route route, AttemptLog log, long now) {
        Objects.requireNonNull(route, "route");
        if (log.attempts() >= route.config().maxAttempts()) {
            return new GiveUp(Reason.MAX_ATTEMPTS, soonest(route, log, now));
        }
        if (now - log.deadline() >= 0) {
            return new GiveUp(Reason.DEADLINE, soonest(route, log, now));
        }
        List<Target> candidates = log.contextFallback() && route.contextFallback() != null
                                  ? List.of(route.contextFallback()) : log.order();
        long soonest = Long.MAX_VALUE;
        boolean anyKeyLeft = false;
        boolean breakerOpen = false;
        for (Target target : candidates) {
            if (log.isDone(target)) {
                continue;
            }
            if (!target.breaker().allows(now)) {
                breakerOpen = true;
                soonest = min(soonest, target.breaker().allowsFrom(now));
                continue;
            }
            PooledKey key = target.keys().select(log.preferredKey(target), log.triedKeys(target));
            if (key == null) {
                long from = target.keys().soonestAvailable();
                if (from != Long.MAX_VALUE) {
                    anyKeyLeft = true;
                    soonest = min(soonest, from);
                }
                continue;
            }
            if (!target.breaker().tryAcquire(now)) {
                // Another request took the half-open probe in between.
                target.keys().unclaim(key);
                breakerOpen = true;
                soonest = min(soonest, target.breaker().allowsFrom(now));
                continue;
            }
            return new Send(target, key);
        }
        if (soonest != Long.MAX_VALUE) {
            long wait = Math.max(0, soonest - now);
            // max-wait is what one request may wait in total, however many waits it takes.
            long budget = Math.min(route.config().maxWait().toNanos() - log.waitedNanos(), log.deadline() - now);
            if (wait <= budget) {
                return new Wait(wait);
            }
        }
        long retryAfter = soonest == Long.MAX_VALUE ? -1 : Math.max(0, soonest - now);
        if (anyKeyLeft) {
            return new GiveUp(Reason.EXHAUSTED, retryAfter);
        }
        if (breakerOpen) {
            return new GiveUp(Reason.FAILING, retryAfter);
        }
        return new GiveUp(allKeysUnusable(candidates, log) ? Reason.NO_USABLE_KEY : Reason.TRIED_ALL, retryAfter);
    }

    /**
     * Records the outcome of an attempt in {@code log} and returns whether the request should move on
     * (to another key or target) rather than answer with this outcome.
     */
    public boolean moveOn(Route route, AttemptLog log, Target target, UpstreamVerdict verdict) {
        RetryTrigger trigger = trigger(verdict.kind());
        if (trigger == null || !route.config().retryOn().contains(trigger)) {
            return false;
        }
        switch (verdict.kind()) {
            case RATE_LIMITED:
            case QUOTA_EXHAUSTED:
            case KEY_INVALID:
                return true; // the key is marked; another key of the same target may serve
            case TOO_LARGE_FOR_POOL:
                // No key of this pool can take this request: rule out every target that draws on it.
                for (Target t : route.targets()) {
                    if (t.keys() == target.keys()) {
                        log.done(t);
                    }
                }
                return true;
            case CONTEXT_TOO_LONG:
                if (route.contextFallback() == null || log.contextFallback()) {
                    return false;
                }
                log.useContextFallback();
                return true;
            default:
                log.done(target);
                return true;
        }
    }

    /** Returns the retry trigger an outcome counts as, or {@code null} when it is never retried. */
    static RetryTrigger trigger(UpstreamVerdict.Kind kind) {
        switch (kind) {
            case RATE_LIMITED:
            case TOO_LARGE_FOR_POOL:
                return RetryTrigger.RATE_LIMIT;
            case QUOTA_EXHAUSTED:
                return RetryTrigger.QUOTA;
            case KEY_INVALID:
                return RetryTrigger.INVALID_KEY;
            case OVERLOADED:
                return RetryTrigger.OVERLOADED;
            case SERVER_ERROR:
                return RetryTrigger.SERVER_ERROR;
            case TIMEOUT:
                return RetryTrigger.TIMEOUT;
            case CONNECT_FAILED:
                return RetryTrigger.CONNECT;
            case MODEL_NOT_FOUND:
                return RetryTrigger.MODEL_NOT_FOUND;
            case CONTEXT_TOO_LONG:
                return RetryTrigger.CONTEXT_LENGTH;
            default:
                return null;
        }
    }

    /** Returns whether {@code verdict} is about keys (exhausted or rejected) rather than the target or request. */
    public static boolean isKeyLevel(UpstreamVerdict.Kind kind) {
        return kind == UpstreamVerdict.Kind.RATE_LIMITED || kind == UpstreamVerdict.Kind.QUOTA_EXHAUSTED
               || kind == UpstreamVerdict.Kind.KEY_INVALID || kind == UpstreamVerdict.Kind.TOO_LARGE_FOR_POOL;
    }

    private static long soonest(Route route, AttemptLog log, long now) {
        long soonest = Long.MAX_VALUE;
        for (Target t : log.order()) {
            soonest = min(soonest, Math.max(t.keys().soonestAvailable(), t.breaker().allowsFrom(now)));
        }
        return soonest == Long.MAX_VALUE ? -1 : Math.max(0, soonest - now);
    }

    /** Returns whether some targets are left and every one of them has only disabled keys. */
    private static boolean allKeysUnusable(List<Target> candidates, AttemptLog log) {
        boolean anyLeft = false;
        for (Target t : candidates) {
            if (log.isDone(t)) {
                continue;
            }
            anyLeft = true;
            if (!t.keys().allDisabled()) {
                return false;
            }
        }
        return anyLeft;
    }

    private static long min(long a, long b) {
        if (a == Long.MAX_VALUE) {
            return b;
        }
        if (b == Long.MAX_VALUE) {
            return a;
        }
        return b - a < 0 ? b : a;
    }

    private static List<Target> weightedOrder(List<Target> targets) {
        List<Target> left = new ArrayList<>(targets);
        List<Target> order = new ArrayList<>(targets.size());
        ThreadLocalRandom random = ThreadLocalRandom.current();
        while (!left.isEmpty()) {
            int total = 0;
            for (Target t : left) {
                total += t.weight();
            }
            int pick = random.nextInt(total);
            for (int i = 0; i < left.size(); i++) {
                pick -= left.get(i).weight();
                if (pick < 0) {
                    order.add(left.remove(i));
                    break;
                }
            }
        }
        return order;
    }
}
