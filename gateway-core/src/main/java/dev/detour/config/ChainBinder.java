package dev.detour.config;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Binds the sections the filter chain reads: {@code auth}, {@code clients}, {@code limits},
 * {@code policies}, {@code budgets} and {@code filters}. Collects problems like the rest of the binder.
 */
final class ChainBinder {

    /** The built-in filters that YAML may enable, disable or reorder. */
    static final List<String> FILTER_NAMES = List.of("auth", "policy", "budget", "rate-limit", "cache");
    static final List<String> OVERRIDABLE = List.of("user", "session", "priority", "tier");
    static final List<String> PRIORITIES = List.of("critical", "interactive", "batch");
    /** The default orders of auth and policy (FilterOrder, which config does not depend on). */
    private static final int AUTH_ORDER = 100;
    private static final int POLICY_ORDER = 150;

    private static final Map<String, LimitConfig.Scope> SCOPES = new LinkedHashMap<>();
    private static final Map<String, BudgetConfig.Scope> BUDGET_SCOPES = new LinkedHashMap<>();
    private static final Map<String, BudgetConfig.Period> PERIODS = new LinkedHashMap<>();
    /** Whole USD up to twelve digits and at most six decimals: micro-dollars, well inside a long. */
    private static final Pattern USD = Pattern.compile("\\d{1,12}(\\.\\d{1,6})?");
    private static final Pattern COUNT = Pattern.compile("\\d{1,18}");

    static {
        for (LimitConfig.Scope s : LimitConfig.Scope.values()) {
            SCOPES.put(s.yamlName(), s);
        }
        for (BudgetConfig.Scope s : BudgetConfig.Scope.values()) {
            BUDGET_SCOPES.put(s.yamlName(), s);
        }
        for (BudgetConfig.Period p : BudgetConfig.Period.values()) {
            PERIODS.put(p.yamlName(), p);
        }
    }

    private final Map<String, Integer> limitNames = new HashMap<>();
    private final Map<String, Integer> budgetNames = new HashMap<>();
    private final Set<String> routeNames;

    private ChainBinder(Set<String> routeNames) {
        this.routeNames = routeNames;
    }

    /** Binds the chain sections of {@code document}; {@code routeNames} are the routes defined in the file. */
    static ChainConfig bind(YamlMapping document, Set<String> routeNames) {
        ChainBinder b = new ChainBinder(routeNames);
        AuthConfig auth = document.get("auth").map(ChainBinder::auth).orElseGet(AuthConfig::ofDefault);
        List<BudgetConfig> budgets = document.get("budgets").map(n -> b.budgets(n, null)).orElseGet(List::of);
        List<ClientConfig> clients = document.get("clients").map(b::clients).orElseGet(List::of);
        List<LimitConfig> limits = document.get("limits").map(n -> b.limits(n, null)).orElseGet(List::of);
        List<PolicyConfig> policies = document.get("policies").map(n -> b.policies(n, routeNames))
                .orElseGet(List::of);
        List<FilterConfig> filters = document.get("filters").map(ChainBinder::filters).orElseGet(List::of);
        if (auth.enabled() && clients.isEmpty() && document.get("clients").isEmpty()) {
            document.get("auth").ifPresent(n -> n.report(
                    "auth is enabled but no clients are configured: every request would get 401 (add clients, "
                    + "or set auth.enabled: false for local use)"));
        }
        return new ChainConfig(auth, clients, limits, policies, filters, budgets);
    }

    private static AuthConfig auth(YamlNode node) {
        YamlMapping m = node.asMapping("enabled", "admin-keys");
        boolean enabled = m.get("enabled").flatMap(YamlNode::bool).orElse(false);
        List<KeyHash> admin = new ArrayList<>();
        for (YamlNode item : m.get("admin-keys").flatMap(YamlNode::asList).orElseGet(List::of)) {
            hash(item).ifPresent(admin::add);
        }
        return new AuthConfig(enabled, admin);
    }

    private static Optional<KeyHash> hash(YamlNode node) {
        return node.nonBlankString().flatMap(text -> {
            try {
                return Optional.of(KeyHash.parse(text));
            } catch (IllegalArgumentException e) {
                // Never echo the value: someone may have pasted a key instead of its hash.
                node.report(e.getMessage() + " (write the key's hash, e.g. from 'detour keys generate', not the "
                            + "key itself)");
                return Optional.empty();
            }
        });
    }

    private List<ClientConfig> clients(YamlNode node) {
        List<ClientConfig> clients = new ArrayList<>();
        Map<String, Integer> names = new HashMap<>();
        List<KeyHash> hashes = new ArrayList<>();
        for (YamlNode item : node.asList().orElseGet(List::of)) {
            YamlMapping m = item.asMapping("name", "key-hash", "team", "tier", "allowed-models", "metadata",
                                           "expires", "can-override", "limits", "budgets");
            Optional<String> name = m.require("name").flatMap(YamlNode::nonBlankString);
            name.ifPresent(n -> {
                Integer first = names.putIfAbsent(n, m.get("name").get().line());
                if (first != null) {
                    m.get("name").get().report("duplicate client " + YamlNode.quote(n) + " (first defined at line "
                                               + first + ")");
                }
            });
            Optional<KeyHash> hash = m.require("key-hash").flatMap(ChainBinder::hash);
            hash.ifPresent(h -> {
                for (KeyHash other : hashes) {
                    if (other.matches(h)) {
                        m.get("key-hash").get().report("the same key hash as another client: each client needs "
                                                       + "its own key");
                    }
                }
                hashes.add(h);
            });
            String team = m.get("team").flatMap(YamlNode::nonBlankString).orElse("default");
            String tier = m.get("tier").flatMap(YamlNode::nonBlankString).orElse("default");
            List<String> allowed = m.get("allowed-models").map(ChainBinder::strings).orElse(List.of("*"));
            Map<String, String> metadata = m.get("metadata").map(ChainBinder::stringMap).orElseGet(Map::of);
            Optional<Instant> expires = m.get("expires").flatMap(ChainBinder::instant);
            Set<String> canOverride = new LinkedHashSet<>();
            for (YamlNode o : m.get("can-override").flatMap(YamlNode::asList).orElseGet(List::of)) {
                o.oneOf(choices(OVERRIDABLE)).ifPresent(canOverride::add);
            }
            List<LimitConfig> limits = m.get("limits").map(n -> limits(n, LimitConfig.Scope.CLIENT))
                    .orElseGet(List::of);
            List<BudgetConfig> budgets = m.get("budgets").map(n -> budgets(n, BudgetConfig.Scope.CLIENT))
                    .orElseGet(List::of);
            if (name.isPresent() && hash.isPresent()) {
                clients.add(new ClientConfig(name.get(), hash.get(), team, tier, allowed, metadata, expires,
                                             canOverride, limits, budgets));
            }
        }
        return clients;
    }

    /** Binds limits; {@code forcedScope} is set for limits nested in a client (always per that client). */
    private List<LimitConfig> limits(YamlNode node, LimitConfig.Scope forcedScope) {
        List<LimitConfig> limits = new ArrayList<>();
        for (YamlNode item : node.asList().orElseGet(List::of)) {
            YamlMapping m = forcedScope == null
                    ? item.asMapping("name", "scope", "requests", "tokens", "shadow", "match")
                    : item.asMapping("name", "requests", "tokens", "shadow");
            Optional<String> name = m.require("name").flatMap(YamlNode::nonBlankString);
            name.ifPresent(n -> {
                Integer first = limitNames.putIfAbsent(n, m.get("name").get().line());
                if (first != null) {
                    m.get("name").get().report("duplicate limit " + YamlNode.quote(n) + " (first defined at line "
                                               + first + ")");
                }
            });
            Optional<LimitConfig.Scope> scope = forcedScope != null ? Optional.of(forcedScope)
                    : m.require("scope").flatMap(n -> n.oneOf(SCOPES));
            Optional<Bucket> requests = m.get("requests").flatMap(ChainBinder::bucket);
            Optional<Bucket> tokens = m.get("tokens").flatMap(ChainBinder::bucket);
            if (m.get("requests").isEmpty() && m.get("tokens").isEmpty()) {
                item.report("expected requests, tokens or both");
                continue;
            }
            boolean shadow = m.get("shadow").flatMap(YamlNode::bool).orElse(false);
            Match match = m.get("match").map(ChainBinder::match).orElse(Match.ANY);
            boolean complete = (m.get("requests").isEmpty() || requests.isPresent())
                               && (m.get("tokens").isEmpty() || tokens.isPresent());
            if (name.isPresent() && scope.isPresent() && complete) {
                limits.add(new LimitConfig(name.get(), scope.get(), requests, tokens, shadow, match));
            }
        }
        return limits;
    }

    /** Binds budgets; {@code forcedScope} is set for budgets nested in a client (always per that client). */
    private List<BudgetConfig> budgets(YamlNode node, BudgetConfig.Scope forcedScope) {
        List<BudgetConfig> budgets = new ArrayList<>();
        for (YamlNode item : node.asList().orElseGet(List::of)) {
            YamlMapping m = forcedScope == null
                    ? item.asMapping("name", "scope", "match", "period", "spend", "tokens", "fallback-route")
                    : item.asMapping("name", "period", "spend", "tokens", "fallback-route");
            Optional<String> name = m.require("name").flatMap(YamlNode::nonBlankString);
            name.ifPresent(n -> {
                Integer first = budgetNames.putIfAbsent(n, m.get("name").get().line());
                if (first != null) {
                    m.get("name").get().report("duplicate budget " + YamlNode.quote(n) + " (first defined at line "
                                               + first + ")");
                }
            });
            Optional<BudgetConfig.Scope> scope = forcedScope != null ? Optional.of(forcedScope)
                    : m.require("scope").flatMap(n -> n.oneOf(BUDGET_SCOPES));
            Optional<BudgetConfig.Period> period = m.require("period").flatMap(n -> n.oneOf(PERIODS));
            Optional<BigDecimal> spend = m.get("spend").flatMap(ChainBinder::usd);
            OptionalLong tokens = m.get("tokens").map(ChainBinder::count).orElse(OptionalLong.empty());
            if (m.get("spend").isEmpty() && m.get("tokens").isEmpty()) {
                item.report("expected spend, tokens or both");
                continue;
            }
            Optional<String> fallback = m.get("fallback-route").flatMap(n -> n.nonBlankString().flatMap(route -> {
                if (!routeNames.contains(route)) {
                    n.report("unknown route " + YamlNode.quote(route) + " (known: " + String.join(", ", routeNames)
                             + ")");
                    return Optional.empty();
                }
                return Optional.of(route);
            }));
            Match match = m.get("match").map(ChainBinder::match).orElse(Match.ANY);
            boolean complete = (m.get("spend").isEmpty() || spend.isPresent())
                               && (m.get("tokens").isEmpty() || tokens.isPresent())
                               && (m.get("fallback-route").isEmpty() || fallback.isPresent());
            if (name.isPresent() && scope.isPresent() && period.isPresent() && complete) {
                budgets.add(new BudgetConfig(name.get(), scope.get(), period.get(), spend, tokens, fallback, match));
            }
        }
        return budgets;
    }

    /** Returns an amount of USD above 0 with at most six decimals (a micro-dollar), e.g. {@code 500} or {@code 0.25}. */
    private static Optional<BigDecimal> usd(YamlNode node) {
        Optional<String> text = node.string();
        if (text.isEmpty()) {
            return Optional.empty();
        }
        String t = text.get().trim();
        if (USD.matcher(t).matches()) {
            BigDecimal amount = new BigDecimal(t);
            if (amount.signum() > 0) {
                return Optional.of(amount);
            }
        }
        node.report("expected an amount of USD above 0 with at most six decimals, such as 500 or 12.50, got "
                    + YamlNode.quote(t));
        return Optional.empty();
    }

    /** Returns a whole number of tokens from 1, as large as a long holds comfortably. */
    private static OptionalLong count(YamlNode node) {
        Optional<String> text = node.string();
        if (text.isEmpty()) {
            return OptionalLong.empty();
        }
        String t = text.get().trim().replace("_", "");
        if (COUNT.matcher(t).matches() && Long.parseLong(t) >= 1) {
            return OptionalLong.of(Long.parseLong(t));
        }
        node.report("expected a whole number of tokens from 1, such as 20000000 or 20_000_000, got "
                    + YamlNode.quote(text.get()));
        return OptionalLong.empty();
    }

    private static Optional<Bucket> bucket(YamlNode node) {
        YamlMapping m = node.asMapping("capacity", "per");
        Optional<Integer> capacity = m.require("capacity").flatMap(n -> n.integer(1, Integer.MAX_VALUE));
        Optional<Duration> per = m.require("per").flatMap(n -> {
            Optional<Duration> d = n.duration();
            if (d.isPresent() && d.get().isZero()) {
                n.report("expected a duration above 0, such as 1s or 1m");
                return Optional.empty();
            }
            return d;
        });
        if (capacity.isEmpty() || per.isEmpty()) {
            return Optional.empty();
        }
        if (capacity.get() > per.get().toNanos()) {
            // The token bucket refills at most one unit per nanosecond; beyond that it would refuse to work.
            node.report("expected at most one unit per nanosecond (" + capacity.get() + " per " + per.get().toNanos()
                        + " ns): lower capacity or lengthen per");
            return Optional.empty();
        }
        return Optional.of(new Bucket(capacity.get(), per.get()));
    }

    private static Match match(YamlNode node) {
        YamlMapping m = node.asMapping("clients", "teams", "tiers", "routes", "priority", "metadata");
        List<String> priority = new ArrayList<>();
        for (YamlNode p : m.get("priority").flatMap(YamlNode::asList).orElseGet(List::of)) {
            p.oneOf(choices(PRIORITIES)).ifPresent(priority::add);
        }
        return new Match(
                m.get("clients").map(ChainBinder::strings).orElseGet(List::of),
                m.get("teams").map(ChainBinder::strings).orElseGet(List::of),
                m.get("tiers").map(ChainBinder::strings).orElseGet(List::of),
                m.get("routes").map(ChainBinder::strings).orElseGet(List::of),
                priority,
                m.get("metadata").map(ChainBinder::stringMap).orElseGet(Map::of));
    }

    private List<PolicyConfig> policies(YamlNode node, Set<String> routeNames) {
        List<PolicyConfig> policies = new ArrayList<>();
        Map<String, Integer> names = new HashMap<>();
        for (YamlNode item : node.asList().orElseGet(List::of)) {
            YamlMapping m = item.asMapping("name", "match", "limits", "routes", "admission");
            Optional<String> name = m.require("name").flatMap(YamlNode::nonBlankString);
            name.ifPresent(n -> {
                Integer first = names.putIfAbsent(n, m.get("name").get().line());
                if (first != null) {
                    m.get("name").get().report("duplicate policy " + YamlNode.quote(n) + " (first defined at line "
                                               + first + ")");
                }
            });
            Match match = m.get("match").map(ChainBinder::match).orElse(Match.ANY);
            List<LimitConfig> limits = m.get("limits").map(n -> limits(n, null)).orElseGet(List::of);
            Map<String, String> routes = new LinkedHashMap<>();
            for (YamlMapping.Entry e : m.get("routes").map(YamlNode::asMapping).map(YamlMapping::entries)
                    .orElseGet(List::of)) {
                e.value().nonBlankString().ifPresent(target -> {
                    if (!routeNames.contains(target)) {
                        e.value().report("unknown route " + YamlNode.quote(target) + " (known: "
                                         + String.join(", ", routeNames) + ")");
                    } else {
                        routes.put(e.name(), target);
                    }
                });
            }
            PolicyConfig.Admission admission = m.get("admission").map(ChainBinder::admission)
                    .orElse(PolicyConfig.Admission.NONE);
            name.ifPresent(n -> policies.add(new PolicyConfig(n, match, limits, routes, admission)));
        }
        return policies;
    }

    private static PolicyConfig.Admission admission(YamlNode node) {
        YamlMapping m = node.asMapping("reserve", "refuse");
        double reserve = m.require("reserve").flatMap(YamlNode::fraction).orElse(0.0);
        Set<String> refuse = new LinkedHashSet<>();
        for (YamlNode p : m.get("refuse").flatMap(YamlNode::asList).orElse(List.of())) {
            p.oneOf(choices(PRIORITIES)).ifPresent(refuse::add);
        }
        if (m.get("refuse").isEmpty()) {
            refuse.add("batch");
        }
        return new PolicyConfig.Admission(reserve, refuse);
    }

    private static List<FilterConfig> filters(YamlNode node) {
        List<FilterConfig> filters = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        YamlNode cacheOrder = null;
        for (YamlNode item : node.asList().orElseGet(List::of)) {
            YamlMapping m = item.asMapping("name", "enabled", "order");
            Optional<String> name = m.require("name").flatMap(n -> n.oneOf(choices(FILTER_NAMES)));
            boolean enabled = m.get("enabled").flatMap(YamlNode::bool).orElse(true);
            OptionalInt order = m.get("order").flatMap(n -> n.integer(1, 1_000_000))
                    .map(OptionalInt::of).orElse(OptionalInt.empty());
            name.ifPresent(n -> {
                if (!seen.add(n)) {
                    m.get("name").get().report("filter " + YamlNode.quote(n) + " is listed twice");
                } else {
                    filters.add(new FilterConfig(n, enabled, order));
                }
            });
            if (name.isPresent() && name.get().equals("cache") && order.isPresent()) {
                cacheOrder = m.get("order").get();
            }
        }
        checkCacheOrder(filters, cacheOrder);
        return filters;
    }

    /**
     * Reports a cache filter placed before auth or policy: there it would answer requests nobody has
     * authenticated, from entries keyed on the caller and route those filters have yet to settle.
     */
    private static void checkCacheOrder(List<FilterConfig> filters, YamlNode cacheOrder) {
        if (cacheOrder == null) {
            return;
        }
        int cache = 0;
        int auth = AUTH_ORDER;
        int policy = POLICY_ORDER;
        for (FilterConfig f : filters) {
            int order = f.order().orElse(-1);
            if (f.name().equals("cache")) {
                cache = order;
            } else if (f.name().equals("auth") && order > 0 && f.enabled()) {
                auth = order;
            } else if (f.name().equals("policy") && order > 0 && f.enabled()) {
                policy = order;
            }
        }
        int floor = Math.max(auth, policy);
        if (cache <= floor) {
            cacheOrder.report("expected above " + floor + " (the auth and policy filters' orders): before them the "
                              + "cache would answer unauthenticated requests and key entries on a caller and route "
                              + "not yet settled");
        }
    }

    private static List<String> strings(YamlNode node) {
        List<String> values = new ArrayList<>();
        Optional<List<YamlNode>> items = node.asList();
        for (YamlNode item : items.orElseGet(List::of)) {
            item.nonBlankString().ifPresent(values::add);
        }
        return values;
    }

    private static Map<String, String> stringMap(YamlNode node) {
        Map<String, String> values = new LinkedHashMap<>();
        for (YamlMapping.Entry e : node.asMapping().entries()) {
            e.value().string().ifPresent(v -> values.put(e.name(), v));
        }
        return values;
    }

    private static Optional<Instant> instant(YamlNode node) {
        return node.nonBlankString().flatMap(text -> {
            try {
                return Optional.of(Instant.parse(text));
            } catch (DateTimeParseException e) {
                node.report("expected an instant such as 2027-01-01T00:00:00Z, got " + YamlNode.quote(text));
                return Optional.empty();
            }
        });
    }

    private static Map<String, String> choices(List<String> names) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String n : names) {
            m.put(n, n);
        }
        return m;
    }
}
