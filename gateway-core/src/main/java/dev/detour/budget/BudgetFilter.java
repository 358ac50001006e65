package dev.detour.budget;

import dev.detour.config.BudgetConfig;
import dev.detour.config.ChainConfig;
import dev.detour.config.ClientConfig;
import dev.detour.error.ErrorKind;
import dev.detour.error.ErrorResponses;
import dev.detour.filter.FilterChain;
import dev.detour.filter.FilterOrder;
import dev.detour.filter.GatewayFilter;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.Headers;
import dev.detour.filter.RequestContext;
import dev.detour.routing.Route;
import dev.detour.routing.RouteTable;
import dev.detour.time.NanoClock;
import dev.detour.usage.UsageAccount;
import dev.detour.usage.UsageKind;
import dev.detour.usage.UsageLedger;
import dev.detour.usage.UsageRecorder;
import dev.detour.usage.UsageWindows;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Enforces spend and token budgets per UTC day or month, per client, team or globally.
 *
 * <p>What applies to a request: each top-level budget ({@code budgets:}) whose {@code match} fits the request's
 * context, and the calling client's own budgets. Each keeps one account per scope value in the long-lived
 * {@link UsageLedger}, and every request a budget applied to is charged to it when it finishes (see
 * {@link UsageRecorder#ALSO_CHARGE}), at the list price of the model that served it.
 *
 * <p>Before a request is sent, each applicable budget's current window is read. When one has reached its
 * spend or token cap:
 * <ul>
 *   <li>without a {@code fallback-route}, the request is refused: 429 {@code rate_limit_error}, code
 *       {@code budget_exceeded}, a message naming the budget, its scope, the cap, what was used and when the
 *       window resets (ISO-8601, UTC), {@code Retry-After} in seconds until then, and
 *       {@code x-should-retry: false} when that is more than a minute away. A budget without a fallback wins over
 *       one with a fallback;</li>
 *   <li>with a {@code fallback-route}, the request is served on that route instead, with the response header
 *       {@code x-detour-budget-fallback: <budget>}. Budgets are then checked again for the new route: a used-up
 *       budget whose own fallback is that route lets it through (that is the point), any other used-up budget
 *       refuses it. A request is re-routed at most once, so fallbacks cannot loop.</li>
 * </ul>
 *
 * <p>Best effort, by design: the check reads what finished requests used, so requests already in flight when a
 * budget runs out still complete and are counted, and a budget may end a window somewhat above its cap (by the
 * cost of the requests in flight at that moment).
 *
 * <p>Stateless and thread-safe; built once per config version over the server's ledger, so a reload keeps every
 * budget's usage (counted per budget name; changing a cap keeps it, renaming a budget starts it from zero).
 * Allocates one small array per request that a budget applies to, nothing otherwise.
 */
public final class BudgetFilter implements GatewayFilter {

    /** The response header naming the budget whose fallback route served the request. */
    public static final String FALLBACK_HEADER = "x-detour-budget-fallback";

    private static final Budget[] NONE = new Budget[0];
    private static final long ONE_MINUTE_SECONDS = 60;

    private final Budget[] global;
    private final Map<String, Budget[]> byClient;
    /** Every budget, in config order. */
    private final List<Budget> all = new ArrayList<>();
    private final UsageLedger ledger;
    private final NanoClock clock;

    /**
     * Creates the filter for {@code chain}'s budgets, resolving fallback routes in {@code routes} and counting in
     * {@code ledger}; {@code clock} times {@code Retry-After} (use the ledger's clock).
     *
     * @throws IllegalArgumentException if a fallback route is not in {@code routes} (config validation prevents
     *                                  this)
     */
    public BudgetFilter(ChainConfig chain, RouteTable routes, UsageLedger ledger, NanoClock clock) {
        Objects.requireNonNull(chain, "chain");
        Objects.requireNonNull(routes, "routes");
        this.ledger = Objects.requireNonNull(ledger, "ledger");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.global = compile(chain.budgets(), routes, "");
        this.byClient = new HashMap<>();
        for (ClientConfig c : chain.clients()) {
            if (!c.budgets().isEmpty()) {
                byClient.put(c.name(), compile(c.budgets(), routes, c.name()));
            }
        }
    }

    @Override
    public int order() {
        return FilterOrder.BUDGET;
    }

    @Override
    public String name() {
        return "budget";
    }

    @Override
    public CompletionStage<GatewayResponse> filter(RequestContext ctx, FilterChain next) {
        Budget[] own = byClient.isEmpty() ? NONE : byClient.getOrDefault(ctx.caller().client(), NONE);
        if (global.length == 0 && own.length == 0) {
            return next.proceed(ctx);
        }
        UsageWindows now = ledger.now();
        Charges charges = null;
        Budget refuse = null;
        UsageAccount refuseAccount = null;
        Budget fallback = null;
        for (int pass = 0; pass < 2; pass++) {
            Budget[] budgets = global;
            for (int list = 0; list < 2; list++, budgets = own) {
                for (Budget b : budgets) {
                    if (!b.matches(ctx)) {
                        continue;
                    }
                    UsageAccount account = b.account(ctx, ledger);
                    if (charges == null) {
                        charges = new Charges(global.length + own.length);
                    }
                    charges.add(account);
                    if (refuse != null || !b.exhausted(account, now)) {
                        continue;
                    }
                    if (pass == 1) {
                        // Re-routed already: only a budget that itself falls back to this route lets it through.
                        if (b.fallback == null || !b.fallback.model().equals(ctx.route().model())) {
                            refuse = b;
                            refuseAccount = account;
                        }
                    } else if (b.fallback == null) {
                        refuse = b;
                        refuseAccount = account;
                    } else if (fallback == null) {
                        fallback = b;
                    }
                }
            }
            if (pass == 1 || refuse != null || fallback == null) {
                break;
            }
            ctx.route(fallback.fallback);
        }
        if (charges == null) {
            return next.proceed(ctx);
        }
        ctx.attr(UsageRecorder.ALSO_CHARGE, charges.accounts);
        if (refuse != null) {
            return CompletableFuture.completedFuture(refusal(refuse, refuseAccount, now));
        }
        if (fallback == null) {
            return next.proceed(ctx);
        }
        String fellBackOn = fallback.name;
        return next.proceed(ctx).thenApply(response -> withHeader(response, FALLBACK_HEADER, fellBackOn));
    }

    /**
     * Returns where every budget stands: one state per scope value that has been counted (and, for a client's own
     * and for global budgets, their one scope value even before it was), in config order, then by scope value.
     */
    public List<BudgetState> states() {
        UsageWindows now = ledger.now();
        List<BudgetState> states = new ArrayList<>();
        for (Budget b : all) {
            List<UsageAccount> accounts = new ArrayList<>(ledger.accounts(UsageKind.BUDGET, b.name));
            String always = b.knownScopeValue();
            if (always != null) {
                UsageAccount known = ledger.account(UsageKind.BUDGET, b.name, always);
                if (!accounts.contains(known)) {
                    accounts.add(known);
                }
            }
            accounts.sort(Comparator.comparing(UsageAccount::name));
            for (UsageAccount a : accounts) {
                states.add(new BudgetState(b.name, b.scope, a.name(), b.period, b.spendMicros, b.tokens,
                                           a.costMicros(b.period, now), a.tokens(b.period, now), now.endOf(b.period),
                                           b.exhausted(a, now),
                                           Optional.ofNullable(b.fallback).map(Route::model)));
            }
        }
        return states;
    }

    private GatewayResponse refusal(Budget b, UsageAccount account, UsageWindows now) {
        Instant resets = now.endOf(b.period);
        long spent = account.costMicros(b.period, now);
        long tokens = account.tokens(b.period, now);
        String when = b.period == BudgetConfig.Period.DAY ? "today" : "this month";
        StringBuilder used = new StringBuilder();
        if (b.spendMicros >= 0 && spent >= b.spendMicros) {
            used.append('$').append(usd(spent)).append(" spent of $").append(usd(b.spendMicros));
        }
        if (b.tokens >= 0 && tokens >= b.tokens) {
            used.append(used.length() > 0 ? ", and " : "").append(tokens).append(" tokens used of ").append(b.tokens);
        }
        String message = "Budget '" + b.name + "' of " + b.describeScope(account.name()) + " is used up: " + used
                         + " " + when + " (UTC). It resets at " + resets + ". Ask the gateway operator to raise "
                         + "it, or retry after the reset.";
        GatewayResponse.Full error = ErrorResponses.of(ErrorKind.RATE_LIMITED, message, "budget_exceeded", null);
        long nanos = Duration.between(clock.instant(), resets).toNanos();
        long seconds = Math.max(1, (nanos + 999_999_999L) / 1_000_000_000L);
        Headers headers = error.headers().with("retry-after", Long.toString(seconds));
        if (seconds > ONE_MINUTE_SECONDS) {
            // OpenAI's SDKs honour x-should-retry: retrying within their backoff cannot help.
            headers = headers.with("x-should-retry", "false");
        }
        return new GatewayResponse.Full(error.status(), headers, error.body());
    }

    /** Returns micro-dollars as USD with two decimals, or up to six when cents do not say it exactly. */
    static String usd(long micros) {
        BigDecimal value = BigDecimal.valueOf(micros, 6).stripTrailingZeros();
        return value.scale() <= 2 ? value.setScale(2).toPlainString() : value.toPlainString();
    }

    private static GatewayResponse withHeader(GatewayResponse response, String name, String value) {
        Headers h = response.headers().with(name, value);
        if (response instanceof GatewayResponse.Full full) {
            return new GatewayResponse.Full(full.status(), h, full.body());
        }
        GatewayResponse.Relayed relayed = (GatewayResponse.Relayed) response;
        return new GatewayResponse.Relayed(relayed.status(), h, relayed.body());
    }

    /** Compiles {@code configs}, owned by the client {@code owner} (empty for top-level budgets). */
    private Budget[] compile(List<BudgetConfig> configs, RouteTable routes, String owner) {
        Budget[] budgets = new Budget[configs.size()];
        for (int i = 0; i < budgets.length; i++) {
            BudgetConfig c = configs.get(i);
            Route fallback = null;
            if (c.fallbackRoute().isPresent()) {
                fallback = routes.route(c.fallbackRoute().get());
                if (fallback == null) {
                    throw new IllegalArgumentException("budget '" + c.name() + "': fallback-route '"
                                                       + c.fallbackRoute().get() + "' is not a route");
                }
            }
            budgets[i] = new Budget(c, owner, fallback, ledger);
            all.add(budgets[i]);
        }
        return budgets;
    }

    /** The accounts of the budgets that apply to one request, without repeats. One per request. */
    private static final class Charges {
        UsageAccount[] accounts;
        int count;

        Charges(int capacity) {
            accounts = new UsageAccount[capacity];
        }

        void add(UsageAccount account) {
            for (int i = 0; i < count; i++) {
                if (accounts[i] == account) {
                    return;
                }
            }
            if (count == accounts.length) {
                accounts = Arrays.copyOf(accounts, count * 2);
            }
            accounts[count++] = account;
        }
    }
}
