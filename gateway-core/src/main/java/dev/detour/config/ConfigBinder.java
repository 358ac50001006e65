package dev.detour.config;

import dev.detour.catalog.ModelInfo;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Turns a composed YAML tree into a {@link GatewayConfig}, or into the list of everything wrong with it.
 *
 * <p>Each section is read with its defaults; a bad value is reported and replaced by its default so the
 * walk goes on and later problems are found too. Checks that span sections (a target names a defined
 * provider, route models are unique, mock failures name a defined key) run in the same walk, because
 * providers are read before routes. One instance per load.
 */
final class ConfigBinder {

    private static final Pattern PROVIDER_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
    private static final Pattern HEADER_NAME = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
    private static final String ANY_KEY = "*";

    private static final Map<String, ServerConfig.TransportKind> TRANSPORTS =
            choices(ServerConfig.TransportKind.values());
    private static final Map<String, LoggingConfig.Format> FORMATS = choices(LoggingConfig.Format.values());
    private static final Map<String, LoggingConfig.Sink> SINKS = choices(LoggingConfig.Sink.values());
    private static final Map<String, PoolConfig.Strategy> POOL_STRATEGIES = choices(PoolConfig.Strategy.values());
    private static final Map<String, ExhaustionMode> EXHAUSTION_MODES = choices(ExhaustionMode.values());
    private static final Map<String, RouteConfig.Strategy> ROUTE_STRATEGIES = choices(RouteConfig.Strategy.values());
    private static final Map<String, RetryTrigger> RETRY_TRIGGERS = choices(RetryTrigger.values());
    private static final Map<String, RouteConfig.Affinity> AFFINITIES = choices(RouteConfig.Affinity.values());
    private static final Map<String, ProviderType> PROVIDER_TYPES = providerTypes();
    private static final Map<String, MockFailureConfig.Kind> FAILURE_KINDS = failureKinds();

    private final YamlNode.Context context;
    /** Every provider name in the file, including providers with problems, so targets do not cascade. */
    private final List<String> providerNames = new ArrayList<>();

    /** Returns a binder that tells {@code observer} of each mapping it reads. */
    ConfigBinder(String source, Map<String, String> env, MappingObserver observer) {
        this.context = new YamlNode.Context(source, env, observer);
    }

    /** Returns the configuration in {@code root}, a document composed by SnakeYAML ({@code null} if empty). */
    GatewayConfig bind(Node root) throws ConfigException {
        YamlMapping document = YamlNode.root(root, context)
                .asMapping("server", "upstream", "logging", "providers", "routes", "auth", "clients", "limits",
                           "policies", "filters", "models", "budgets", "usage", "cache", "metrics");
        ServerConfig server = document.get("server").map(this::server).orElseGet(ServerConfig::ofDefault);
        UpstreamConfig upstream = document.get("upstream").map(this::upstream).orElseGet(UpstreamConfig::ofDefault);
        LoggingConfig logging = document.get("logging").map(this::logging).orElseGet(LoggingConfig::ofDefault);
        Map<String, ProviderConfig> providers = document.require("providers")
                .map(this::providers)
                .orElseGet(Map::of);
        List<RouteConfig> routes = document.require("routes")
                .map(node -> routes(node, upstream.timeouts()))
                .orElseGet(List::of);
        Set<String> routeNames = new LinkedHashSet<>();
        for (RouteConfig r : routes) {
            routeNames.add(r.model());
        }
        ChainConfig chain = ChainBinder.bind(document, routeNames);
        List<ModelInfo> models = document.get("models").map(ModelsBinder::bind).orElseGet(List::of);
        UsageConfig usage = document.get("usage").map(this::usage).orElseGet(UsageConfig::ofDefault);
        CacheConfig cache = document.get("cache").map(CacheBinder::global).orElseGet(CacheConfig::ofDefault);
        MetricsConfig metrics = document.get("metrics").map(n -> metrics(n, server, chain))
                .orElseGet(MetricsConfig::ofDefault);
        List<ConfigProblem> problems = context.problems();
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        return new GatewayConfig(context.source(), server, upstream, logging, providers, routes, chain, models,
                                 usage, cache, metrics);
    }

    /** Returns the path in {@code node}; whether the directory exists or can be made is checked at start-up. */
    private static Optional<Path> directory(YamlNode node) {
        return node.nonBlankString().flatMap(text -> {
            try {
                return Optional.of(Path.of(text.trim()));
            } catch (java.nio.file.InvalidPathException e) {
                node.report("expected a directory path, got " + YamlNode.quote(text) + " (" + e.getReason() + ")");
                return Optional.empty();
            }
        });
    }

    private UsageConfig usage(YamlNode node) {
        YamlMapping m = node.asMapping("data-dir", "flush-interval");
        UsageConfig d = UsageConfig.ofDefault();
        Optional<Path> dataDir = m.get("data-dir").flatMap(ConfigBinder::directory);
        Duration flush = m.get("flush-interval").flatMap(n -> {
            Optional<Duration> interval = n.duration();
            if (interval.isPresent() && interval.get().compareTo(UsageConfig.MIN_FLUSH_INTERVAL) < 0) {
                n.report("expected at least 100ms (a shorter interval mostly wears the disk)");
                return Optional.empty();
            }
            return interval;
        }).orElse(d.flushInterval());
        return new UsageConfig(dataDir, flush);
    }

    private static MetricsConfig metrics(YamlNode node, ServerConfig server, ChainConfig chain) {
        YamlMapping m = node.asMapping("enabled", "path", "port", "host", "require-admin-key");
        MetricsConfig d = MetricsConfig.ofDefault();
        boolean enabled = m.get("enabled").flatMap(YamlNode::bool).orElse(d.enabled());
        String path = m.get("path").flatMap(ConfigBinder::metricsPath).orElse(d.path());
        int port = m.get("port").flatMap(n -> n.integer(0, 65535)).orElse(d.port());
        if (port != 0 && port == server.port()) {
            m.get("port").get().report("the main listener's port (server.port); leave metrics.port at 0 to serve "
                                       + "metrics on the main listener, or pick another port");
        }
        Optional<String> host = m.get("host").flatMap(YamlNode::nonBlankString);
        if (host.isPresent() && port == 0) {
            m.get("host").get().report("only used by a separate metrics listener: set metrics.port too, or remove "
                                       + "metrics.host (the main listener uses server.host)");
        }
        boolean requireAdminKey = m.get("require-admin-key").flatMap(YamlNode::bool).orElse(d.requireAdminKey());
        if (requireAdminKey && chain.auth().adminKeys().isEmpty()) {
            m.get("require-admin-key").get().report("needs at least one admin key in auth.admin-keys (a scrape "
                                                    + "presents one as 'Authorization: Bearer KEY')");
        }
        return new MetricsConfig(enabled, path, port, host, requireAdminKey);
    }

    /** Returns a path for metrics that no other endpoint of Detour uses. */
    private static Optional<String> metricsPath(YamlNode node) {
        Optional<String> text = node.nonBlankString();
        if (text.isEmpty()) {
            return text;
        }
        String path = text.get();
        if (!path.startsWith("/") || path.length() < 2 || path.endsWith("/") || path.indexOf('?') >= 0
            || path.indexOf('#') >= 0 || path.chars().anyMatch(c -> c <= ' ' || c == 0x7f)) {
            node.report("expected an absolute path without query, spaces or trailing slash, e.g. /metrics, got "
                        + YamlNode.quote(path));
            return Optional.empty();
        }
        if (path.equals("/v1") || path.startsWith("/v1/") || path.equals("/healthz") || path.equals("/readyz")
            || path.equals("/admin") || path.startsWith("/admin/")) {
            node.report(YamlNode.quote(path) + " is served by Detour already (/v1/*, /healthz, /readyz and /admin/* "
                        + "are taken); pick another path, e.g. /metrics");
            return Optional.empty();
        }
        return text;
    }

    private ServerConfig server(YamlNode node) {
        YamlMapping m = node.asMapping("host", "port", "transport", "io-threads", "max-body-size",
                                       "max-header-size", "max-initial-line-length", "idle-timeout",
                                       "request-timeout", "shutdown-grace-period", "watch-config");
        ServerConfig d = ServerConfig.ofDefault();
        return new ServerConfig(
                m.get("host").flatMap(YamlNode::nonBlankString).orElse(d.host()),
                m.get("port").flatMap(n -> n.integer(0, 65535)).orElse(d.port()),
                m.get("transport").flatMap(n -> n.oneOf(TRANSPORTS)).orElse(d.transport()),
                m.get("io-threads").flatMap(n -> n.integer(0, Integer.MAX_VALUE)).orElse(d.ioThreads()),
                m.get("max-body-size").flatMap(n -> n.size(1, Integer.MAX_VALUE)).orElse(d.maxBodySize()),
                intSize(m, "max-header-size", 1, d.maxHeaderSize()),
                intSize(m, "max-initial-line-length", 1, d.maxInitialLineLength()),
                duration(m, "idle-timeout", d.idleTimeout()),
                duration(m, "request-timeout", d.requestTimeout()),
                duration(m, "shutdown-grace-period", d.shutdownGracePeriod()),
                m.get("watch-config").flatMap(YamlNode::bool).orElse(d.watchConfig()));
    }

    private UpstreamConfig upstream(YamlNode node) {
        YamlMapping m = node.asMapping("timeouts", "max-idle-connections", "pool-idle-timeout",
                                       "max-error-body-size", "ca-file");
        UpstreamConfig d = UpstreamConfig.ofDefault();
        return new UpstreamConfig(
                m.get("timeouts").map(n -> timeouts(n, d.timeouts())).orElse(d.timeouts()),
                m.get("max-idle-connections").flatMap(n -> n.integer(0, Integer.MAX_VALUE))
                        .orElse(d.maxIdleConnections()),
                duration(m, "pool-idle-timeout", d.poolIdleTimeout()),
                intSize(m, "max-error-body-size", 0, d.maxErrorBodySize()),
                m.get("ca-file").flatMap(ConfigBinder::caFile));
    }

    /** Returns the CA file named by {@code node} once it is known to hold at least one X.509 certificate. */
    private static Optional<Path> caFile(YamlNode node) {
        Optional<String> name = node.nonBlankString();
        if (name.isEmpty()) {
            return Optional.empty();
        }
        Path file = Path.of(name.get());
        try (InputStream in = Files.newInputStream(file)) {
            if (CertificateFactory.getInstance("X.509").generateCertificates(in).isEmpty()) {
                node.report("no certificate in " + YamlNode.quote(name.get()) + " (expected PEM certificates)");
                return Optional.empty();
            }
            return Optional.of(file);
        } catch (IOException e) {
            node.report("cannot read " + YamlNode.quote(name.get()) + " (" + e.getClass().getSimpleName()
                        + "; relative paths start at the working directory)");
        } catch (CertificateException e) {
            node.report("cannot read certificates from " + YamlNode.quote(name.get()) + ": " + e.getMessage());
        }
        return Optional.empty();
    }

    /** Returns timeouts where each field left out takes its value from {@code base}. */
    private TimeoutsConfig timeouts(YamlNode node, TimeoutsConfig base) {
        YamlMapping m = node.asMapping("connect", "first-byte", "idle", "total");
        return new TimeoutsConfig(
                duration(m, "connect", base.connect()),
                duration(m, "first-byte", base.firstByte()),
                duration(m, "idle", base.idle()),
                duration(m, "total", base.total()));
    }

    private LoggingConfig logging(YamlNode node) {
        YamlMapping m = node.asMapping("access-log", "format", "access-log-sink", "access-log-flush-interval",
                                       "access-log-queue-size");
        LoggingConfig d = LoggingConfig.ofDefault();
        Duration flush = m.get("access-log-flush-interval").flatMap(n -> {
            Optional<Duration> interval = n.duration();
            if (interval.isPresent() && (interval.get().compareTo(LoggingConfig.MIN_FLUSH_INTERVAL) < 0
                                         || interval.get().compareTo(LoggingConfig.MAX_FLUSH_INTERVAL) > 0)) {
                n.report("expected from 1ms to 10s (how long a line may wait before it is written)");
                return Optional.empty();
            }
            return interval;
        }).orElse(d.flushInterval());
        return new LoggingConfig(
                m.get("access-log").flatMap(YamlNode::bool).orElse(d.accessLog()),
                m.get("format").flatMap(n -> n.oneOf(FORMATS)).orElse(d.format()),
                m.get("access-log-sink").flatMap(n -> n.oneOf(SINKS)).orElse(d.sink()),
                flush,
                m.get("access-log-queue-size")
                        .flatMap(n -> n.integer(LoggingConfig.MIN_QUEUE_SIZE, LoggingConfig.MAX_QUEUE_SIZE))
                        .orElse(d.queueSize()));
    }

    private Map<String, ProviderConfig> providers(YamlNode node) {
        YamlMapping m = node.asMapping();
        if (m.wellFormed() && m.entries().isEmpty()) {
            node.report("expected at least one provider");
        }
        for (YamlMapping.Entry entry : m.entries()) {
            providerNames.add(entry.name());
        }
        Map<String, ProviderConfig> providers = new LinkedHashMap<>();
        for (YamlMapping.Entry entry : m.entries()) {
            if (!PROVIDER_NAME.matcher(entry.name()).matches()) {
                entry.key().report("invalid provider name " + YamlNode.quote(entry.name())
                                   + " (expected letters, digits, '.', '_' or '-', starting with a letter or digit)");
            }
            provider(entry.name(), entry.value()).ifPresent(p -> providers.put(p.name(), p));
        }
        return providers;
    }

    private Optional<ProviderConfig> provider(String name, YamlNode node) {
        YamlMapping m = node.asMapping("type", "base-url", "keys", "headers", "mock", "options", "pool");
        PoolConfig pool = m.get("pool").map(ConfigBinder::pool).orElse(PoolConfig.DEFAULT);
        Optional<ProviderType> type = m.require("type").flatMap(this::providerType);
        Set<String> keyIds = new LinkedHashSet<>();
        Optional<YamlNode> keysNode = m.get("keys");
        // Empty when a key has a problem, which is reported already.
        Optional<List<ApiKeyConfig>> keys = keysNode.flatMap(n -> keys(n, keyIds));
        Map<String, String> headers = m.get("headers").map(this::headers).orElseGet(Map::of);
        MockConfig mock = m.get("mock").map(n -> mock(n, keyIds)).orElse(MockConfig.DEFAULT);
        Map<String, String> options = type.map(t -> options(t, m, node)).orElseGet(Map::of);
        if (type.isEmpty()) {
            // Which fields are required depends on the type; guessing would only add noise to the report.
            // The URL is still read, so an unset variable in it is reported now rather than after the fix.
            m.get("base-url").flatMap(YamlNode::string);
            return Optional.empty();
        }
        ProviderType t = type.get();
        String typeName = t.yamlName();
        Optional<URI> baseUrl;
        if (t.defaultBaseUrl().isPresent()) {
            baseUrl = m.get("base-url").map(n -> url(n, t != ProviderType.MOCK))
                    .orElse(Optional.of(URI.create(t.defaultBaseUrl().get())));
        } else if (t == ProviderType.BEDROCK) {
            // The endpoint follows from the region; an explicit base-url (a VPC endpoint) still wins.
            baseUrl = m.get("base-url").map(n -> url(n, true)).orElse(Optional.of(URI.create("https://bedrock-runtime."
                    + options.getOrDefault("region", "invalid") + ".amazonaws.com")));
        } else {
            baseUrl = m.require("base-url", "required field is missing (type " + typeName
                                            + " needs an http or https URL)")
                    .flatMap(n -> url(n, true));
        }
        if (t != ProviderType.MOCK) {
            m.entry("mock").ifPresent(entry -> entry.key().report(
                    "only allowed when type is mock (this provider's type is " + typeName + ")"));
        }
        if (t == ProviderType.AZURE) {
            checkAzureOptions(options, node);
        }
        if (t == ProviderType.BEDROCK && keysNode.isPresent() && keys.isPresent()) {
            checkAwsKeys(keysNode.get(), keys.get());
        }
        if (t.keyRequired()) {
            m.require("keys", "required field is missing (type " + typeName + " needs at least one key)");
            if (keys.isPresent() && keys.get().isEmpty()) {
                keysNode.get().report("expected at least one key (type " + typeName + " needs one)");
            }
        }
        if (baseUrl.isEmpty() || keysNode.isPresent() && keys.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new ProviderConfig(name, type.get(), baseUrl.get(), keys.orElseGet(List::of), headers,
                                              mock, options, pool));
    }

    private static void checkAzureOptions(Map<String, String> options, YamlNode providerNode) {
        String auth = options.get("auth");
        if (auth != null && !auth.equals("api-key") && !auth.equals("bearer")) {
            providerNode.reportNested("options.auth", "expected api-key or bearer, got " + YamlNode.quote(auth));
        }
        String version = options.get("api-version");
        if (version != null && !version.matches("v1|\\d{4}-\\d{2}-\\d{2}(-preview)?")) {
            providerNode.reportNested("options.api-version", "expected YYYY-MM-DD, YYYY-MM-DD-preview or v1, got "
                                                             + YamlNode.quote(version));
        }
    }

    /** Reports Bedrock keys not of the form ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN]; never echoes them. */
    private static void checkAwsKeys(YamlNode keysNode, List<ApiKeyConfig> keys) {
        List<YamlNode> items = keysNode.asList().orElseGet(List::of);
        for (int i = 0; i < keys.size() && i < items.size(); i++) {
            String[] parts = keys.get(i).value().reveal().split(":", -1);
            boolean ok = parts.length == 2 || parts.length == 3;
            for (String part : parts) {
                ok &= !part.isBlank();
            }
            if (!ok) {
                items.get(i).reportChild("value", "expected ACCESS_KEY_ID:SECRET_ACCESS_KEY or "
                        + "ACCESS_KEY_ID:SECRET_ACCESS_KEY:SESSION_TOKEN (type bedrock), got a value in "
                        + parts.length + " part(s)");
            }
        }
    }

    /** Returns every option of {@code type}: the configured value or the default; reports unknown and missing ones. */
    private static Map<String, String> options(ProviderType type, YamlMapping provider, YamlNode providerNode) {
        Map<String, String> values = new LinkedHashMap<>();
        Optional<YamlNode> node = provider.get("options");
        if (node.isPresent()) {
            if (type.optionNames().isEmpty()) {
                provider.entry("options").ifPresent(entry -> entry.key().report(
                        "type " + type.yamlName() + " takes no options"));
            } else {
                YamlMapping m = node.get().asMapping(type.optionNames().stream().sorted().toArray(String[]::new));
                for (YamlMapping.Entry entry : m.entries()) {
                    entry.value().nonBlankString().ifPresent(v -> values.put(entry.name(), v));
                }
            }
        }
        for (String name : type.optionNames().stream().sorted().toList()) {
            String fallback = type.optionDefault(name);
            if (!values.containsKey(name)) {
                if (fallback.isEmpty()) {
                    providerNode.reportNested("options." + name, "required field is missing (type "
                                                                + type.yamlName() + " needs it)");
                } else {
                    values.put(name, fallback);
                }
            }
        }
        return values;
    }

    private Optional<ProviderType> providerType(YamlNode node) {
        Optional<String> text = node.string();
        if (text.isEmpty()) {
            return Optional.empty();
        }
        ProviderType type = PROVIDER_TYPES.get(text.get());
        if (type == null) {
            node.report("unknown provider type " + YamlNode.quote(text.get())
                        + " (known: " + String.join(", ", PROVIDER_TYPES.keySet()) + ")");
        }
        return Optional.ofNullable(type);
    }

    /**
     * Returns the absolute URL in {@code node}, without a trailing slash so endpoint paths can be appended;
     * {@code httpOnly} also requires an http or https URL with a host.
     */
    private Optional<URI> url(YamlNode node, boolean httpOnly) {
        Optional<String> text = node.string();
        if (text.isEmpty()) {
            return Optional.empty();
        }
        String expected = httpOnly
                ? "expected an absolute http or https URL without query or fragment, e.g. https://api.openai.com/v1"
                : "expected an absolute URL, e.g. mock://local";
        try {
            URI uri = new URI(text.get());
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            boolean ok = uri.isAbsolute() && !uri.isOpaque() && uri.getRawQuery() == null
                         && uri.getRawFragment() == null
                         && (!httpOnly || (scheme.equals("http") || scheme.equals("https")) && uri.getHost() != null);
            if (ok) {
                String url = uri.toString();
                while (url.endsWith("/") && url.length() > scheme.length() + 3) {
                    url = url.substring(0, url.length() - 1);
                }
                return Optional.of(URI.create(url));
            }
        } catch (URISyntaxException e) {
            // Reported below like any other unusable URL.
        }
        node.report(expected + ", got " + YamlNode.quote(text.get()));
        return Optional.empty();
    }

    /**
     * Returns the keys, adding every id seen to {@code ids} even when its key has another problem, so
     * mock failures naming it are not reported as well. Empty when any key has a problem.
     */
    private static KeyQuotas quotas(YamlNode node) {
        YamlMapping m = node.asMapping("requests-per-minute", "tokens-per-minute", "requests-per-day", "tokens-per-day");
        return new KeyQuotas(
                m.get("requests-per-minute").flatMap(n -> n.integer(0, Integer.MAX_VALUE)).orElse(0),
                m.get("tokens-per-minute").flatMap(n -> n.integer(0, Integer.MAX_VALUE)).orElse(0),
                m.get("requests-per-day").flatMap(n -> n.integer(0, Integer.MAX_VALUE)).orElse(0),
                m.get("tokens-per-day").flatMap(n -> n.integer(0, Integer.MAX_VALUE)).orElse(0));
    }

    private static PoolConfig pool(YamlNode node) {
        YamlMapping m = node.asMapping("strategy", "cooldown", "max-cooldown", "exhausted-for", "on-exhausted");
        PoolConfig d = PoolConfig.DEFAULT;
        return new PoolConfig(
                m.get("strategy").flatMap(n -> n.oneOf(POOL_STRATEGIES)).orElse(d.strategy()),
                duration(m, "cooldown", d.cooldown()),
                duration(m, "max-cooldown", d.maxCooldown()),
                duration(m, "exhausted-for", d.exhaustedFor()),
                m.get("on-exhausted").flatMap(n -> n.oneOf(EXHAUSTION_MODES)).orElse(d.onExhausted()));
    }

    private Optional<List<ApiKeyConfig>> keys(YamlNode node, Set<String> ids) {
        Optional<List<YamlNode>> items = node.asList();
        if (items.isEmpty()) {
            return Optional.empty();
        }
        Map<String, Integer> firstLine = new HashMap<>();
        List<ApiKeyConfig> keys = new ArrayList<>();
        boolean ok = true;
        for (YamlNode item : items.get()) {
            YamlMapping m = item.asMapping("id", "value", "weight", "quota-group", "quotas", "on-exhausted");
            Optional<String> id = m.require("id").flatMap(n -> keyId(n, firstLine));
            id.ifPresent(ids::add);
            Optional<String> value = m.require("value").flatMap(this::keyValue);
            int weight = m.get("weight").flatMap(n -> n.integer(1, 1_000_000)).orElse(1);
            Optional<String> group = m.get("quota-group").flatMap(YamlNode::nonBlankString);
            KeyQuotas quotas = m.get("quotas").map(ConfigBinder::quotas).orElse(KeyQuotas.NONE);
            Optional<ExhaustionMode> onExhausted = m.get("on-exhausted").flatMap(n -> n.oneOf(EXHAUSTION_MODES));
            if (id.isPresent() && value.isPresent()) {
                keys.add(new ApiKeyConfig(id.get(), Secret.of(value.get()), weight, group, quotas, onExhausted));
            } else {
                ok = false;
            }
        }
        return ok ? Optional.of(keys) : Optional.empty();
    }

    private Optional<String> keyId(YamlNode node, Map<String, Integer> firstLine) {
        Optional<String> id = node.nonBlankString();
        if (id.isEmpty()) {
            return id;
        }
        if (id.get().equals(ANY_KEY)) {
            node.report("key id '*' is reserved (mock failures use it to mean every key)");
            return Optional.empty();
        }
        Integer first = firstLine.putIfAbsent(id.get(), node.line());
        if (first != null) {
            node.report("duplicate key id " + YamlNode.quote(id.get()) + " (first defined at line " + first + ")");
        }
        return id;
    }

    /** Returns a key's value; it is never echoed, so a message cannot leak it. */
    private Optional<String> keyValue(YamlNode node) {
        Optional<String> value = node.string();
        if (value.isPresent() && value.get().isEmpty()) {
            node.report("expected a non-empty key value");
            return Optional.empty();
        }
        // Keys travel in request headers: a line break would split the upstream request, and a stray space
        // or newline from the variable that holds the key would only show later as the provider's 401.
        if (value.isPresent() && value.get().chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            node.report("the key value contains a line break or another control character (check the variable "
                        + "or file it comes from, e.g. a trailing newline)");
            return Optional.empty();
        }
        if (value.isPresent() && !value.get().equals(value.get().strip())) {
            node.report("the key value starts or ends with a space (check the variable or file it comes from)");
            return Optional.empty();
        }
        return value;
    }

    private Map<String, String> headers(YamlNode node) {
        Map<String, String> headers = new LinkedHashMap<>();
        Map<String, Integer> firstLine = new HashMap<>();
        for (YamlMapping.Entry entry : node.asMapping().entries()) {
            String name = entry.name();
            if (!HEADER_NAME.matcher(name).matches()) {
                entry.key().report("invalid header name " + YamlNode.quote(name) + " (expected an HTTP token)");
                continue;
            }
            Integer first = firstLine.putIfAbsent(name.toLowerCase(Locale.ROOT), entry.key().line());
            if (first != null) {
                entry.key().report("duplicate header (names are case-insensitive; first defined at line "
                                   + first + ")");
                continue;
            }
            Optional<String> value = entry.value().string();
            if (value.isPresent() && value.get().chars().anyMatch(c -> c == '\r' || c == '\n' || c == 0)) {
                entry.value().report("expected a header value without line breaks or NUL");
                continue;
            }
            value.ifPresent(v -> headers.put(name, v));
        }
        return headers;
    }

    private MockConfig mock(YamlNode node, Set<String> keyIds) {
        YamlMapping m = node.asMapping("latency", "tokens-per-second", "embedding-dimensions", "failures");
        MockConfig d = MockConfig.DEFAULT;
        List<MockFailureConfig> failures = new ArrayList<>();
        m.get("failures").flatMap(YamlNode::asList).ifPresent(items -> {
            for (YamlNode item : items) {
                failure(item, keyIds).ifPresent(failures::add);
            }
        });
        return new MockConfig(
                duration(m, "latency", d.latency()),
                m.get("tokens-per-second").flatMap(n -> n.integer(0, Integer.MAX_VALUE)).orElse(d.tokensPerSecond()),
                m.get("embedding-dimensions").flatMap(n -> n.integer(1, Integer.MAX_VALUE))
                        .orElse(d.embeddingDimensions()),
                failures);
    }

    private Optional<MockFailureConfig> failure(YamlNode node, Set<String> keyIds) {
        YamlMapping m = node.asMapping("key", "kind", "retry-after", "times");
        Optional<String> key = m.require("key").flatMap(YamlNode::nonBlankString);
        if (key.isPresent() && !key.get().equals(ANY_KEY) && !keyIds.contains(key.get())) {
            List<String> known = new ArrayList<>();
            known.add(ANY_KEY);
            known.addAll(keyIds);
            m.get("key").get().report("unknown key id " + YamlNode.quote(key.get())
                                      + " (known: " + String.join(", ", known) + ")");
        }
        Optional<MockFailureConfig.Kind> kind = m.require("kind").flatMap(n -> n.oneOf(FAILURE_KINDS));
        Duration retryAfter = duration(m, "retry-after", Duration.ZERO);
        int times = m.get("times").flatMap(n -> n.integer(0, Integer.MAX_VALUE)).orElse(0);
        if (key.isEmpty() || kind.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new MockFailureConfig(key.get(), kind.get(), retryAfter, times));
    }

    private List<RouteConfig> routes(YamlNode node, TimeoutsConfig base) {
        Optional<List<YamlNode>> items = node.asList();
        if (items.isEmpty()) {
            return List.of();
        }
        if (items.get().isEmpty()) {
            node.report("expected at least one route");
        }
        Map<String, Integer> firstLine = new HashMap<>();
        List<RouteConfig> routes = new ArrayList<>();
        for (YamlNode item : items.get()) {
            route(item, base, firstLine).ifPresent(routes::add);
        }
        return routes;
    }

    private Optional<RouteConfig> route(YamlNode node, TimeoutsConfig base, Map<String, Integer> firstLine) {
        YamlMapping m = node.asMapping("model", "timeouts", "targets", "strategy", "retry-on", "max-attempts",
                                       "deadline", "max-wait", "context-fallback", "circuit-breaker", "affinity",
                                       "cache");
        Optional<String> model = m.require("model").flatMap(YamlNode::nonBlankString);
        model.ifPresent(name -> {
            YamlNode modelNode = m.get("model").get();
            Integer first = firstLine.putIfAbsent(name, modelNode.line());
            if (first != null) {
                modelNode.report("duplicate route " + YamlNode.quote(name) + " (first defined at line " + first + ")");
            }
        });
        Optional<TimeoutsConfig> timeouts = m.get("timeouts")
                .filter(n -> !n.isNull())
                .map(n -> timeouts(n, base));
        List<TargetConfig> targets = new ArrayList<>();
        Optional<List<YamlNode>> items = m.require("targets").flatMap(YamlNode::asList);
        if (items.isPresent() && items.get().isEmpty()) {
            m.get("targets").get().report("expected at least one target");
        }
        boolean ok = items.isPresent();
        for (YamlNode item : items.orElseGet(List::of)) {
            Optional<TargetConfig> target = target(item, model);
            target.ifPresent(targets::add);
            ok &= target.isPresent();
        }
        RouteConfig.Strategy strategy = m.get("strategy").flatMap(n -> n.oneOf(ROUTE_STRATEGIES))
                .orElse(RouteConfig.Strategy.FALLBACK);
        // "retry-on:" with nothing under it is the same as leaving it out; "retry-on: []" retries nothing.
        Set<RetryTrigger> retryOn = m.get("retry-on").filter(n -> !n.isNull()).map(ConfigBinder::retryOn)
                .orElseGet(RetryTrigger::all);
        int maxAttempts = m.get("max-attempts").flatMap(n -> n.integer(1, 100)).orElse(RouteConfig.DEFAULT_MAX_ATTEMPTS);
        Duration deadline = duration(m, "deadline", Duration.ZERO);
        Duration maxWait = duration(m, "max-wait", RouteConfig.DEFAULT_MAX_WAIT);
        Optional<TargetConfig> contextFallback = Optional.empty();
        Optional<YamlNode> fallbackNode = m.get("context-fallback");
        if (fallbackNode.isPresent()) {
            contextFallback = target(fallbackNode.get(), model);
            ok &= contextFallback.isPresent();
        }
        BreakerConfig breaker = m.get("circuit-breaker").map(ConfigBinder::breaker).orElse(BreakerConfig.DEFAULT);
        RouteConfig.Affinity affinity = m.get("affinity").flatMap(n -> n.oneOf(AFFINITIES))
                .orElse(RouteConfig.Affinity.SESSION);
        RouteCacheConfig cache = m.get("cache").map(CacheBinder::route).orElse(RouteCacheConfig.OFF);
        if (model.isEmpty() || !ok || targets.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new RouteConfig(model.get(), targets, timeouts, strategy, retryOn, maxAttempts, deadline,
                                           maxWait, contextFallback, breaker, affinity, cache));
    }

    private static Set<RetryTrigger> retryOn(YamlNode node) {
        Set<RetryTrigger> triggers = java.util.EnumSet.noneOf(RetryTrigger.class);
        for (YamlNode item : node.asList().orElseGet(List::of)) {
            item.oneOf(RETRY_TRIGGERS).ifPresent(triggers::add);
        }
        return triggers;
    }

    private static BreakerConfig breaker(YamlNode node) {
        YamlMapping m = node.asMapping("failures", "failure-rate", "window", "min-calls", "open-for");
        BreakerConfig d = BreakerConfig.DEFAULT;
        int window = m.get("window").flatMap(n -> n.integer(1, 10_000)).orElse(d.window());
        int minCalls = m.get("min-calls").flatMap(n -> n.integer(1, 10_000)).orElse(Math.min(d.minCalls(), window));
        if (minCalls > window) {
            m.get("min-calls").ifPresent(n -> n.report("expected at most window (" + window + "), got " + minCalls));
            return d;
        }
        return new BreakerConfig(
                m.get("failures").flatMap(n -> n.integer(0, 10_000)).orElse(d.consecutiveFailures()),
                m.get("failure-rate").flatMap(YamlNode::fraction).orElse(d.failureRate()),
                window, minCalls, duration(m, "open-for", d.openFor()));
    }

    private Optional<TargetConfig> target(YamlNode node, Optional<String> routeModel) {
        YamlMapping m = node.asMapping("provider", "model", "weight", "params");
        Optional<String> provider = m.require("provider").flatMap(YamlNode::nonBlankString);
        if (provider.isPresent() && !providerNames.contains(provider.get())) {
            String known = providerNames.isEmpty() ? "none" : String.join(", ", providerNames);
            m.get("provider").get().report("unknown provider " + YamlNode.quote(provider.get())
                                           + " (known: " + known + ")");
            return Optional.empty();
        }
        Optional<String> model = m.get("model").isPresent()
                ? m.get("model").get().nonBlankString()
                : routeModel;
        int weight = m.get("weight").flatMap(n -> n.integer(1, 1_000_000)).orElse(1);
        Map<String, Object> params = new LinkedHashMap<>();
        boolean paramsOk = true;
        Optional<YamlNode> paramsNode = m.get("params");
        if (paramsNode.isPresent()) {
            for (YamlMapping.Entry entry : paramsNode.get().asMapping().entries()) {
                if (entry.name().equals("model") || entry.name().equals("stream")) {
                    entry.key().report("cannot be overridden (set the target's model, and let the client choose "
                                       + "whether to stream)");
                    paramsOk = false;
                    continue;
                }
                Optional<Object> value = entry.value().plainValue();
                paramsOk &= value.isPresent();
                value.ifPresent(v -> params.put(entry.name(), v));
            }
        }
        if (provider.isEmpty() || model.isEmpty() || !paramsOk) {
            return Optional.empty();
        }
        return Optional.of(new TargetConfig(provider.get(), model.get(), weight, params));
    }

    private static Duration duration(YamlMapping m, String key, Duration fallback) {
        return m.get(key).flatMap(YamlNode::duration).orElse(fallback);
    }

    private static int intSize(YamlMapping m, String key, int min, int fallback) {
        return m.get(key).flatMap(n -> n.size(min, Integer.MAX_VALUE)).map(Long::intValue).orElse(fallback);
    }

    private static <E extends Enum<E>> Map<String, E> choices(E[] values) {
        Map<String, E> choices = new LinkedHashMap<>();
        for (E value : values) {
            choices.put(value.name().toLowerCase(Locale.ROOT).replace('_', '-'), value);
        }
        return choices;
    }

    private static Map<String, ProviderType> providerTypes() {
        Map<String, ProviderType> types = new LinkedHashMap<>();
        for (ProviderType type : ProviderType.values()) {
            types.put(type.yamlName(), type);
        }
        return types;
    }

    private static Map<String, MockFailureConfig.Kind> failureKinds() {
        Map<String, MockFailureConfig.Kind> kinds = new LinkedHashMap<>();
        for (MockFailureConfig.Kind kind : MockFailureConfig.Kind.values()) {
            kinds.put(kind.yamlName(), kind);
        }
        return kinds;
    }
}
