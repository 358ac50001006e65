package dev.detour.usage;

import dev.detour.api.UsageScanner;
import dev.detour.catalog.Price;
import dev.detour.filter.AttributeKey;
import dev.detour.filter.RequestContext;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts a finished request in the {@link UsageLedger}: its client, team, route and upstream key, plus the
 * accounts filters asked for under {@link #ALSO_CHARGE} (the budgets that applied to it).
 *
 * <p>What counts: requests that reached a provider (at least one attempt), with the usage the provider reported
 * in the answer the client received ({@code usage.prompt_tokens}, {@code completion_tokens},
 * {@code prompt_tokens_details.cached_tokens}); the server asks providers for a stream's usage when the client
 * did not. The cost is the catalog list price of the upstream model that served the request (see
 * {@link Price}); cached prompt tokens are counted apart but priced like other prompt tokens (providers'
 * cache discounts are ignored, so spend errs on the high side). A model without a price counts its tokens at
 * cost 0, and is named once in a WARN. A request whose answer carried no usage (an error, a stream the client
 * left before its end) counts as a request without tokens. Requests Detour answered itself (refused,
 * served from cache) count nothing.
 *
 * <p>Thread-safe. Called once per request by the server when the response has been written (or the exchange
 * ended otherwise), on the request's event loop; it allocates nothing but its result, and an account the
 * first time it is seen.
 */
public final class UsageRecorder {

    /**
     * Further accounts a request is charged to, set by filters before dispatch (the budget filter: the budgets
     * that applied to it). May hold {@code null} slots past the used ones.
     */
    public static final AttributeKey<UsageAccount[]> ALSO_CHARGE = AttributeKey.newKey("usage-also-charge");

    private static final Logger LOG = LoggerFactory.getLogger(UsageRecorder.class);

    private final UsageLedger ledger;
    /** Models already named in a WARN for having no price, per provider. */
    private final ConcurrentHashMap<String, Set<String>> unpriced = new ConcurrentHashMap<>();

    /** Creates a recorder that counts into {@code ledger}. */
    public UsageRecorder(UsageLedger ledger) {
        this.ledger = Objects.requireNonNull(ledger, "ledger");
    }

    /** Returns the ledger counted into. */
    public UsageLedger ledger() {
        return ledger;
    }

    /** Counts {@code ctx}'s usage and returns it; {@link RequestUsage#NONE} when no provider was called. */
    public RequestUsage record(RequestContext ctx) {
        if (ctx.attempts() == 0) {
            return RequestUsage.NONE;
        }
        UsageScanner scanner = ctx.usage();
        long prompt = scanner.promptTokens();
        long completion = scanner.completionTokens();
        if (prompt < 0 && completion < 0 && scanner.totalTokens() >= 0) {
            prompt = scanner.totalTokens(); // a total without its parts: count it as prompt
        }
        boolean reported = prompt >= 0 || completion >= 0;
        prompt = Math.max(0, prompt);
        completion = Math.max(0, completion);
        long cached = Math.max(0, Math.min(prompt, scanner.cachedTokens()));
        Price price = ctx.price();
        long cost = price.costMicros(prompt, completion);
        if (reported && !price.known()) {
            warnUnpriced(ctx.provider(), ctx.upstreamModel());
        }
        UsageWindows now = ledger.now();
        ledger.account(UsageKind.CLIENT, "", ctx.caller().client()).add(now, prompt, completion, cached, cost);
        ledger.account(UsageKind.TEAM, "", ctx.caller().team()).add(now, prompt, completion, cached, cost);
        ledger.account(UsageKind.ROUTE, "", ctx.route().model()).add(now, prompt, completion, cached, cost);
        ledger.account(UsageKind.KEY, ctx.provider(), ctx.keyId()).add(now, prompt, completion, cached, cost);
        UsageAccount[] also = ctx.attr(ALSO_CHARGE);
        if (also != null) {
            for (UsageAccount account : also) {
                if (account == null) {
                    break;
                }
                account.add(now, prompt, completion, cached, cost);
            }
        }
        ledger.changed();
        if (!reported) {
            return RequestUsage.NONE;
        }
        return new RequestUsage(prompt, completion, scanner.cachedTokens() < 0 ? -1 : cached,
                                price.known() ? cost : -1);
    }

    /** Returns how many models were named for having no price. For tests. */
    int unpricedModels() {
        int n = 0;
        for (Set<String> models : unpriced.values()) {
            n += models.size();
        }
        return n;
    }

    private void warnUnpriced(String provider, String model) {
        Set<String> models = unpriced.get(provider);
        if (models == null) {
            models = unpriced.computeIfAbsent(provider, p -> ConcurrentHashMap.newKeySet());
        }
        if (!models.contains(model) && models.add(model)) {
            LOG.warn("model '{}' of provider '{}' has no list price in the model catalog: its requests count their "
                     + "tokens at cost 0 (spend budgets do not see them); add it under 'models:' with input-price "
                     + "and output-price to count its spend", model, provider);
        }
    }
}
