package dev.detour.filter;

import dev.detour.config.Match;
import java.util.Map;
import java.util.Objects;

/**
 * A {@link Match} from config prepared for the hot path: tests a request's context (caller, tier, route,
 * priority, client metadata) against it. Limits, budgets and policies match requests the same way.
 *
 * <p>Immutable and thread-safe; build one per config version, not per request.
 */
public final class ContextMatcher {

    /** Matches every request: an empty {@code match}. */
    public static final ContextMatcher ANY = new ContextMatcher(null);

    private final Match match;
    private final String[] metadataKeys;
    private final String[] metadataGlobs;

    private ContextMatcher(Match match) {
        this.match = match;
        int n = match == null ? 0 : match.metadata().size();
        this.metadataKeys = new String[n];
        this.metadataGlobs = new String[n];
        if (match != null) {
            int i = 0;
            for (Map.Entry<String, String> e : match.metadata().entrySet()) {
                metadataKeys[i] = e.getKey();
                metadataGlobs[i++] = e.getValue();
            }
        }
    }

    /** Returns the matcher of {@code match}; {@link #ANY} when it sets no condition. */
    public static ContextMatcher of(Match match) {
        Objects.requireNonNull(match, "match");
        boolean any = match.clients().isEmpty() && match.teams().isEmpty() && match.tiers().isEmpty()
                      && match.routes().isEmpty() && match.priority().isEmpty() && match.metadata().isEmpty();
        return any ? ANY : new ContextMatcher(match);
    }

    /** Returns whether {@code ctx} meets every condition. */
    public boolean matches(RequestContext ctx) {
        if (match == null) {
            return true;
        }
        Caller caller = ctx.caller();
        if (!Match.anyGlob(match.clients(), caller.client())
            || !Match.anyGlob(match.teams(), caller.team())
            || !Match.anyGlob(match.tiers(), ctx.tier())
            || !Match.anyGlob(match.routes(), ctx.route().model())
            || !Match.anyGlob(match.priority(), ctx.priority())) {
            return false;
        }
        for (int i = 0; i < metadataKeys.length; i++) {
            String value = caller.metadata().get(metadataKeys[i]);
            if (value == null || !Match.glob(metadataGlobs[i], value)) {
                return false;
            }
        }
        return true;
    }
}
