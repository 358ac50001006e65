package dev.detour.routing;

import dev.detour.filter.GatewayResponse;
import dev.detour.keys.PooledKey;
import dev.detour.provider.UpstreamException;
import dev.detour.provider.UpstreamVerdict;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What one request has tried so far: the target order chosen for it, the keys and targets already
 * ruled out, the attempts made and the last outcome.
 *
 * <p>One per request, confined to the request's executor; not thread-safe.
 */
public final class AttemptLog {

    private final List<Target> order;
    private final long deadline;
    private final Map<Target, Set<String>> triedKeys = new IdentityHashMap<>(4);
    private final Set<Target> done = Collections.newSetFromMap(new IdentityHashMap<>(4));
    /** How each attempt ended; created at the first outcome, read only for logs. */
    private List<Outcome> outcomes;
    private int attempts;
    private long waitedNanos;
    private boolean contextFallback;
    private Target affinityTarget;
    private String affinityKey;

    private UpstreamVerdict lastVerdict;
    private GatewayResponse.Full lastResponse;
    private UpstreamException lastFailure;
    private Target lastTarget;

    /** Creates a log for a request that tries targets in {@code order} until {@code deadline} (monotonic nanos). */
    public AttemptLog(List<Target> order, long deadline) {
        this.order = List.copyOf(order);
        this.deadline = deadline;
    }

    /** Returns the targets in the order this request tries them. */
    public List<Target> order() {
        return order;
    }

    /** Returns the deadline of all attempts together, in monotonic nanoseconds. */
    public long deadline() {
        return deadline;
    }

    /** Returns how many attempts were sent. */
    public int attempts() {
        return attempts;
    }

    /** Counts an attempt at {@code target} with {@code key}. */
    public void sent(Target target, PooledKey key) {
        attempts++;
        triedKeys.computeIfAbsent(target, t -> new HashSet<>(4)).add(key.id());
    }

    /** Returns the key ids this request tried on {@code target}. */
    public Set<String> triedKeys(Target target) {
        Set<String> tried = triedKeys.get(target);
        return tried == null ? Set.of() : tried;
    }

    /** Records a wait for a cooling key; the keys tried so far may serve again after it. */
    public void waited(long nanos) {
        waitedNanos += nanos;
        triedKeys.clear();
    }

    /** Returns how long this request has waited for cooling keys in total. */
    public long waitedNanos() {
        return waitedNanos;
    }

    /** Rules out {@code target} for the rest of this request. */
    public void done(Target target) {
        done.add(target);
    }

    /** Returns whether {@code target} is ruled out. */
    public boolean isDone(Target target) {
        return done.contains(target);
    }

    /** Switches to the route's larger-context target: the others cannot take this prompt. */
    public void useContextFallback() {
        contextFallback = true;
    }

    /** Returns whether only the context fallback target remains. */
    public boolean contextFallback() {
        return contextFallback;
    }

    /** Sets the key and target an earlier request of the same session used. */
    public void affinity(Target target, String keyId) {
        this.affinityTarget = target;
        this.affinityKey = keyId;
    }

    /** Returns the key id to prefer on {@code target}, or {@code null}. */
    public String preferredKey(Target target) {
        return target == affinityTarget ? affinityKey : null;
    }

    /** Records how an attempt ended, for the final answer and the log. */
    public void outcome(Target target, PooledKey key, UpstreamVerdict verdict, GatewayResponse.Full response,
                        UpstreamException failure) {
        lastTarget = target;
        lastVerdict = verdict;
        lastResponse = response;
        lastFailure = failure;
        if (outcomes == null) {
            outcomes = new ArrayList<>(4);
        }
        outcomes.add(new Outcome(target, key.id(), verdict));
    }

    /** Returns the last verdict, or {@code null} before any attempt ended. */
    public UpstreamVerdict lastVerdict() {
        return lastVerdict;
    }

    /** Returns the last upstream error answer, or {@code null}. */
    public GatewayResponse.Full lastResponse() {
        return lastResponse;
    }

    /** Returns the last failure without an answer, or {@code null}. */
    public UpstreamException lastFailure() {
        return lastFailure;
    }

    /** Returns the target of the last attempt, or {@code null}. */
    public Target lastTarget() {
        return lastTarget;
    }

    /** Returns one entry per attempt, for logs: formatted only when printed. */
    public List<Outcome> outcomes() {
        return outcomes == null ? List.of() : outcomes;
    }

    /** How one attempt ended. */
    public record Outcome(Target target, String keyId, UpstreamVerdict verdict) {
        @Override
        public String toString() {
            return target + " key " + keyId + ": " + verdict.kind().name().toLowerCase(java.util.Locale.ROOT) + " ("
                   + verdict.detail() + ")";
        }
    }
}
