package dev.detour.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

    private static final String SOURCE = "gateway.yaml";

    /** The smallest valid file; tests append or prepend the part they are about. */
    private static final String MINIMAL = """
            providers:
              local: {type: mock}
            routes:
              - model: m
                targets: [{provider: local}]
            """;

    private static final String FULL = """
            server:
              host: 0.0.0.0
              port: 9090
              transport: epoll
              io-threads: 4
              max-body-size: 8MiB
              max-header-size: 32KiB
              max-initial-line-length: 4KiB
              idle-timeout: 90s
              request-timeout: 1m30s
              shutdown-grace-period: 10s
            upstream:
              timeouts: {connect: 2s, first-byte: 45s, idle: 30s, total: 5m}
              max-idle-connections: 32
              pool-idle-timeout: 2m
              max-error-body-size: 512KiB
            logging:
              access-log: false
              format: json
            providers:
              openai:
                type: openai
                base-url: https://api.openai.com/v1/
                keys:
                  - id: primary
                    value: ${OPENAI_API_KEY}
                  - id: backup
                    value: sk-literal-backup-key
                headers: {OpenAI-Organization: org-123}
              local:
                type: mock
                keys:
                  - id: k1
                    value: mock-key-1
                mock:
                  latency: 250ms
                  tokens-per-second: 20
                  embedding-dimensions: 8
                  failures:
                    - key: k1
                      kind: rate-limit
                      retry-after: 2s
                      times: 3
                    - key: "*"
                      kind: server-error
            routes:
              - model: gpt-4o-mini
                timeouts: {first-byte: 30s}
                targets:
                  - provider: openai
                    model: gpt-4o-mini-2024-07-18
                  - provider: local
              - model: echo
                targets:
                  - provider: local
            """;

    @TempDir
    Path dir;

    @Test
    void bindsFullConfigIntoRecords() throws ConfigException {
        GatewayConfig config = ConfigLoader.parse(FULL, SOURCE, Map.of("OPENAI_API_KEY", "sk-from-env-0123456789"));

        TimeoutsConfig upstreamTimeouts = new TimeoutsConfig(
                Duration.ofSeconds(2), Duration.ofSeconds(45), Duration.ofSeconds(30), Duration.ofMinutes(5));
        ProviderConfig openai = new ProviderConfig(
                "openai", ProviderType.OPENAI, URI.create("https://api.openai.com/v1"),
                List.of(new ApiKeyConfig("primary", Secret.of("sk-from-env-0123456789")),
                        new ApiKeyConfig("backup", Secret.of("sk-literal-backup-key"))),
                Map.of("OpenAI-Organization", "org-123"), MockConfig.DEFAULT);
        ProviderConfig local = new ProviderConfig(
                "local", ProviderType.MOCK, URI.create("mock://local"),
                List.of(new ApiKeyConfig("k1", Secret.of("mock-key-1"))), Map.of(),
                new MockConfig(Duration.ofMillis(250), 20, 8, List.of(
                        new MockFailureConfig("k1", MockFailureConfig.Kind.RATE_LIMIT, Duration.ofSeconds(2), 3),
                        new MockFailureConfig("*", MockFailureConfig.Kind.SERVER_ERROR, Duration.ZERO, 0))));
        GatewayConfig expected = new GatewayConfig(
                SOURCE,
                new ServerConfig("0.0.0.0", 9090, ServerConfig.TransportKind.EPOLL, 4, 8L * 1024 * 1024, 32 * 1024,
                                 4 * 1024, Duration.ofSeconds(90), Duration.ofSeconds(90), Duration.ofSeconds(10)),
                new UpstreamConfig(upstreamTimeouts, 32, Duration.ofMinutes(2), 512 * 1024, Optional.empty()),
                new LoggingConfig(false, LoggingConfig.Format.JSON),
                Map.of("openai", openai, "local", local),
                List.of(new RouteConfig("gpt-4o-mini",
                                        List.of(new TargetConfig("openai", "gpt-4o-mini-2024-07-18"),
                                                new TargetConfig("local", "gpt-4o-mini")),
                                        Optional.of(new TimeoutsConfig(Duration.ofSeconds(2), Duration.ofSeconds(30),
                                                                       Duration.ofSeconds(30), Duration.ofMinutes(5)))),
                        new RouteConfig("echo", List.of(new TargetConfig("local", "echo")), Optional.empty())));

        assertEquals(expected, config);
        assertEquals(List.of("openai", "local"), List.copyOf(config.providers().keySet()), "providers in file order");
    }

    @Test
    void appliesDefaultsWhenSectionsAreOmitted() throws ConfigException {
        GatewayConfig config = ConfigLoader.parse(MINIMAL, SOURCE, Map.of());

        assertEquals(ServerConfig.ofDefault(), config.server());
        assertEquals(UpstreamConfig.ofDefault(), config.upstream());
        assertEquals(LoggingConfig.ofDefault(), config.logging());
        assertEquals(new ProviderConfig("local", ProviderType.MOCK, URI.create("mock://local"), List.of(), Map.of(),
                                        MockConfig.DEFAULT),
                     config.providers().get("local"));
        assertEquals(List.of(new RouteConfig("m", List.of(new TargetConfig("local", "m")), Optional.empty())),
                     config.routes());
        assertEquals(SOURCE, config.source());
    }

    @Test
    void appliesDefaultsToOmittedFieldsOfPresentSections() throws ConfigException {
        String yaml = """
                server:
                  port: 0
                upstream:
                  timeouts: {idle: 0}
                logging: {}
                """ + MINIMAL;

        GatewayConfig config = ConfigLoader.parse(yaml, SOURCE, Map.of());

        assertEquals(ServerConfig.ofDefault().withPort(0), config.server());
        assertEquals(new TimeoutsConfig(Duration.ofSeconds(5), Duration.ofSeconds(60), Duration.ZERO,
                                        Duration.ofMinutes(10)),
                     config.upstream().timeouts());
        assertEquals(LoggingConfig.ofDefault(), config.logging());
    }

    @Test
    void treatsEmptySectionAsAllDefaults() throws ConfigException {
        GatewayConfig config = ConfigLoader.parse("server:\n" + MINIMAL, SOURCE, Map.of());

        assertEquals(ServerConfig.ofDefault(), config.server());
    }

    @Test
    void keepsRouteTimeoutsEmptyWhenNotGiven() throws ConfigException {
        GatewayConfig config = ConfigLoader.parse(MINIMAL, SOURCE, Map.of());

        assertEquals(Optional.empty(), config.routes().get(0).timeouts());
    }

    @Test
    void substitutesEnvironmentVariables() throws ConfigException {
        String yaml = """
                server:
                  host: ${HOST}
                  port: ${PORT:-8081}
                  idle-timeout: ${IDLE:-45s}
                """ + MINIMAL;

        GatewayConfig config = ConfigLoader.parse(yaml, SOURCE, Map.of("HOST", "10.0.0.1", "IDLE", ""));

        assertEquals("10.0.0.1", config.server().host());
        assertEquals(8081, config.server().port(), "default of an unset variable");
        assertEquals(Duration.ofSeconds(45), config.server().idleTimeout(), "default of an empty variable");
    }

    @Test
    void substitutesSeveralReferencesInsideLongerString() throws ConfigException {
        String yaml = """
                providers:
                  local:
                    type: mock
                    headers:
                      X-Tag: "${TEAM}-${STAGE:-dev} costs $$5 and keeps $${LITERAL}"
                routes:
                  - model: m
                    targets: [{provider: local}]
                """;

        GatewayConfig config = ConfigLoader.parse(yaml, SOURCE, Map.of("TEAM", "search"));

        assertEquals("search-dev costs $$5 and keeps ${LITERAL}",
                     config.providers().get("local").headers().get("X-Tag"));
    }

    @Test
    void reportsUnsetVariableByName() {
        String yaml = """
                providers:
                  openai:
                    type: openai
                    base-url: https://api.openai.com/v1
                    keys:
                      - id: primary
                        value: ${OPENAI_API_KEY}
                routes:
                  - model: m
                    targets: [{provider: openai}]
                """;

        assertEquals(List.of("gateway.yaml:7:16 providers.openai.keys[0].value: "
                             + "environment variable OPENAI_API_KEY is not set"),
                     problems(yaml, Map.of()));
    }

    @Test
    void reportsSubstitutedValueWithItsOrigin() {
        String yaml = "server: {port: '${PORT}'}\n" + MINIMAL;

        assertEquals(List.of("gateway.yaml:1:16 server.port: expected an integer from 0 to 65535, got 'http' "
                             + "(from '${PORT}')"),
                     problems(yaml, Map.of("PORT", "http")));
    }

    @Test
    void reportsUnknownProviderWithPosition() {
        String yaml = """
                providers:
                  openai:
                    type: openai
                    base-url: https://api.openai.com/v1
                    keys: [{id: primary, value: sk-test}]
                  mock:
                    type: mock
                routes:
                  - model: gpt-4o-mini
                    targets:
                      - provider: openai
                      - provider: opneai
                """;

        ConfigException e = assertThrows(ConfigException.class,
                                         () -> ConfigLoader.parse(yaml, "config/gateway.yaml", Map.of()));

        assertEquals(List.of(new ConfigProblem("config/gateway.yaml", 12, 19, "routes[0].targets[1].provider",
                                               "unknown provider 'opneai' (known: openai, mock)")),
                     e.problems());
        assertEquals("config/gateway.yaml:12:19 routes[0].targets[1].provider: "
                     + "unknown provider 'opneai' (known: openai, mock)",
                     e.problems().get(0).toString());
    }

    @Test
    void reportsUnknownFieldWithKnownOnes() {
        String yaml = "server:\n  prot: 8080\n" + MINIMAL;

        assertEquals(List.of("gateway.yaml:2:3 server.prot: unknown field (known: host, port, transport, io-threads, "
                             + "max-body-size, max-header-size, max-initial-line-length, idle-timeout, "
                             + "request-timeout, shutdown-grace-period, watch-config)"),
                     problems(yaml));
    }

    @Test
    void rejectsCamelCaseKeys() {
        String yaml = "server:\n  maxBodySize: 1MiB\n" + MINIMAL;

        List<String> problems = problems(yaml);

        assertEquals(1, problems.size());
        assertTrue(problems.get(0).startsWith("gateway.yaml:2:3 server.maxBodySize: unknown field (known: "),
                   problems.get(0));
    }

    @Test
    void reportsWrongTypeWithExpectation() {
        String yaml = "server:\n  port: abc\n" + MINIMAL;

        assertEquals(List.of("gateway.yaml:2:9 server.port: expected an integer from 0 to 65535, got 'abc'"),
                     problems(yaml));
    }

    @Test
    void reportsSectionOfWrongKindOnce() {
        String yaml = "server: 8080\nlogging: [json]\n" + MINIMAL;

        assertEquals(List.of("gateway.yaml:1:9 server: expected a mapping, got '8080'",
                             "gateway.yaml:2:10 logging: expected a mapping, got a list"),
                     problems(yaml));
    }

    @Test
    void acceptsOnlyTrueOrFalseAsBooleans() {
        String yaml = "logging:\n  access-log: yes\n" + MINIMAL;

        assertEquals(List.of("gateway.yaml:2:15 logging.access-log: expected true or false, got 'yes'"),
                     problems(yaml));
    }

    @Test
    void readsWatchConfigAndRefusesNonBooleans() throws Exception {
        assertTrue(ConfigLoader.parse(MINIMAL, "gateway.yaml", Map.of()).server().watchConfig(), "watched by default");
        assertFalse(ConfigLoader.parse("server:\n  watch-config: false\n" + MINIMAL, "gateway.yaml", Map.of())
                                .server().watchConfig());
        assertEquals(List.of("gateway.yaml:2:17 server.watch-config: expected true or false, got 'no'"),
                     problems("server:\n  watch-config: no\n" + MINIMAL));
    }

    @Test
    void rejectsUnknownEnumValues() {
        String yaml = "server: {transport: kqueue}\nlogging: {format: xml}\n" + MINIMAL;

        assertEquals(List.of("gateway.yaml:1:21 server.transport: expected auto, epoll or nio, got 'kqueue'",
                             "gateway.yaml:2:19 logging.format: expected text or json, got 'xml'"),
                     problems(yaml));
    }

    @Test
    void readsAccessLogSinkFlushIntervalAndQueueSize() throws Exception {
        String yaml = "logging:\n  access-log-sink: logback\n  access-log-flush-interval: 20ms\n"
                      + "  access-log-queue-size: 1024\n" + MINIMAL;

        LoggingConfig logging = ConfigLoader.parse(yaml, "gateway.yaml", Map.of()).logging();

        assertEquals(new LoggingConfig(true, LoggingConfig.Format.TEXT, LoggingConfig.Sink.LOGBACK,
                                       Duration.ofMillis(20), 1024), logging);
        assertEquals(LoggingConfig.Sink.STDOUT, LoggingConfig.ofDefault().sink(), "stdout by default");
        assertEquals(Duration.ofMillis(100), LoggingConfig.ofDefault().flushInterval());
        assertEquals(8192, LoggingConfig.ofDefault().queueSize());
    }

    @Test
    void rejectsAccessLogSettingsOutOfRange() {
        String yaml = "logging:\n  access-log-sink: file\n  access-log-flush-interval: 1m\n"
                      + "  access-log-queue-size: 10\n" + MINIMAL;

        assertEquals(List.of("gateway.yaml:2:20 logging.access-log-sink: expected stdout or logback, got 'file'",
                             "gateway.yaml:3:30 logging.access-log-flush-interval: expected from 1ms to 10s (how "
                             + "long a line may wait before it is written)",
                             "gateway.yaml:4:26 logging.access-log-queue-size: expected an integer from 64 to "
                             + "1048576, got '10'"),
                     problems(yaml));
    }

    @Test
    void rejectsDurationWithoutUnit() {
        String yaml = "server:\n  idle-timeout: 30\n" + MINIMAL;

        assertEquals(List.of("gateway.yaml:2:17 server.idle-timeout: expected a duration with a unit, e.g. 30s or "
                             + "30ms, got '30' (a number without a unit is ambiguous; only 0 may omit it)"),
                     problems(yaml));
    }

    @Test
    void acceptsZeroDurationWithoutUnit() throws ConfigException {
        String yaml = "server:\n  idle-timeout: 0\n" + MINIMAL;

        assertEquals(Duration.ZERO, ConfigLoader.parse(yaml, SOURCE, Map.of()).server().idleTimeout());
    }

    @Test
    void rejectsSizesOutsideTheFieldsRange() {
        String yaml = "server:\n  max-body-size: 2GiB\n  max-header-size: 0\n" + MINIMAL;

        assertEquals(List.of("gateway.yaml:2:18 server.max-body-size: expected a size from 1 to 2147483647 bytes, "
                             + "got '2GiB'",
                             "gateway.yaml:3:20 server.max-header-size: expected a size from 1 to 2147483647 bytes, "
                             + "got '0'"),
                     problems(yaml));
    }

    @Test
    void acceptsPlainIntegerSizeAsBytes() throws ConfigException {
        String yaml = "server:\n  max-body-size: 1000\n  max-header-size: 2 KB\n" + MINIMAL;

        GatewayConfig config = ConfigLoader.parse(yaml, SOURCE, Map.of());

        assertEquals(1000, config.server().maxBodySize());
        assertEquals(2000, config.server().maxHeaderSize());
    }

    @Test
    void reportsUnknownProviderType() {
        String yaml = """
                providers:
                  local: {type: x}
                routes:
                  - model: m
                    targets: [{provider: local}]
                """;

        assertEquals(List.of("gateway.yaml:2:17 providers.local.type: unknown provider type 'x' (known: openai, mock, "
                             + "anthropic, gemini, azure, bedrock, mistral, groq, together, fireworks, deepseek, "
                             + "openrouter, xai, perplexity, cerebras, ollama, vllm, lmstudio)"),
                     problems(yaml));
    }

    @Test
    void reportsDuplicateRouteAtSecondOneWithLineOfFirst() {
        String yaml = """
                providers:
                  local: {type: mock}
                routes:
                  - model: m
                    targets: [{provider: local}]
                  - model: m
                    targets: [{provider: local}]
                """;

        assertEquals(List.of("gateway.yaml:6:12 routes[1].model: duplicate route 'm' (first defined at line 4)"),
                     problems(yaml));
    }

    @Test
    void reportsDuplicateKeyIdWithinProvider() {
        String yaml = """
                providers:
                  openai:
                    type: openai
                    base-url: https://api.openai.com/v1
                    keys:
                      - {id: a, value: one}
                      - {id: a, value: two}
                routes:
                  - model: m
                    targets: [{provider: openai}]
                """;

        assertEquals(List.of("gateway.yaml:7:14 providers.openai.keys[1].id: duplicate key id 'a' "
                             + "(first defined at line 6)"),
                     problems(yaml));
    }

    @Test
    void allowsSameKeyIdInDifferentProviders() throws ConfigException {
        String yaml = """
                providers:
                  a: {type: mock, keys: [{id: k, value: v}]}
                  b: {type: mock, keys: [{id: k, value: v}]}
                routes:
                  - model: m
                    targets: [{provider: a}, {provider: b}]
                """;

        assertEquals(2, ConfigLoader.parse(yaml, SOURCE, Map.of()).providers().size());
    }

    @Test
    void requiresBaseUrlAndKeysForOpenAiProvider() {
        String yaml = """
                providers:
                  openai:
                    type: openai
                routes:
                  - model: m
                    targets: [{provider: openai}]
                """;

        assertEquals(List.of("gateway.yaml:3:5 providers.openai.base-url: required field is missing "
                             + "(type openai needs an http or https URL)",
                             "gateway.yaml:3:5 providers.openai.keys: required field is missing "
                             + "(type openai needs at least one key)"),
                     problems(yaml));
    }

    @Test
    void requiresAtLeastOneKeyInList() {
        String yaml = """
                providers:
                  openai: {type: openai, base-url: "http://localhost:11434/v1", keys: []}
                routes:
                  - model: m
                    targets: [{provider: openai}]
                """;

        assertEquals(List.of("gateway.yaml:2:71 providers.openai.keys: expected at least one key "
                             + "(type openai needs one)"),
                     problems(yaml));
    }

    @Test
    void rejectsBaseUrlThatIsNotAbsoluteHttp() {
        String yaml = """
                providers:
                  a: {type: openai, base-url: "ftp://example.com", keys: [{id: k, value: v}]}
                  b: {type: openai, base-url: api.openai.com/v1, keys: [{id: k, value: v}]}
                routes:
                  - model: m
                    targets: [{provider: a}, {provider: b}]
                """;

        String expected = "expected an absolute http or https URL without query or fragment, "
                          + "e.g. https://api.openai.com/v1, got ";
        assertEquals(List.of("gateway.yaml:2:31 providers.a.base-url: " + expected + "'ftp://example.com'",
                             "gateway.yaml:3:31 providers.b.base-url: " + expected + "'api.openai.com/v1'"),
                     problems(yaml));
    }

    @Test
    void rejectsMockSectionOnOtherProviderTypes() {
        String yaml = """
                providers:
                  openai:
                    type: openai
                    base-url: https://api.openai.com/v1
                    keys: [{id: k, value: v}]
                    mock: {latency: 1s}
                routes:
                  - model: m
                    targets: [{provider: openai}]
                """;

        assertEquals(List.of("gateway.yaml:6:5 providers.openai.mock: only allowed when type is mock "
                             + "(this provider's type is openai)"),
                     problems(yaml));
    }

    @Test
    void rejectsMockFailureForUndefinedKey() {
        String yaml = """
                providers:
                  local:
                    type: mock
                    keys: [{id: k1, value: v}]
                    mock:
                      failures:
                        - {key: k1, kind: timeout}
                        - {key: "*", kind: overloaded}
                        - {key: k2, kind: invalid-key}
                routes:
                  - model: m
                    targets: [{provider: local}]
                """;

        assertEquals(List.of("gateway.yaml:9:17 providers.local.mock.failures[2].key: unknown key id 'k2' "
                             + "(known: *, k1)"),
                     problems(yaml));
    }

    @Test
    void reportsMissingRequiredFieldsAtParentMapping() {
        String yaml = """
                providers:
                  local:
                    keys: [{value: v}]
                    mock:
                      failures: [{key: "*"}]
                routes:
                  - targets: [{}]
                """;

        assertEquals(List.of("gateway.yaml:3:5 providers.local.type: required field is missing",
                             "gateway.yaml:3:12 providers.local.keys[0].id: required field is missing",
                             "gateway.yaml:5:18 providers.local.mock.failures[0].kind: required field is missing",
                             "gateway.yaml:7:5 routes[0].model: required field is missing",
                             "gateway.yaml:7:15 routes[0].targets[0].provider: required field is missing"),
                     problems(yaml));
    }

    @Test
    void requiresProvidersRoutesAndTargetsToBeNonEmpty() {
        String yaml = """
                providers: {}
                routes:
                  - model: m
                    targets: []
                """;

        assertEquals(List.of("gateway.yaml:1:12 providers: expected at least one provider",
                             "gateway.yaml:4:14 routes[0].targets: expected at least one target"),
                     problems(yaml));
    }

    @Test
    void reportsMissingTopLevelSectionsOfEmptyFile() {
        assertEquals(List.of("gateway.yaml:1:1 providers: required field is missing",
                             "gateway.yaml:1:1 routes: required field is missing"),
                     problems(""));
    }

    @Test
    void reportsDuplicateYamlKeys() {
        String yaml = "server: {port: 1}\nserver: {port: 2}\n" + MINIMAL;

        assertEquals(List.of("gateway.yaml:2:1 server: duplicate key (first defined at line 1)"), problems(yaml));
    }

    @Test
    void collectsEveryProblemInFileOrder() {
        String yaml = """
                server:
                  port: 70000
                  idle-timeout: soon
                providers:
                  openai:
                    type: openai
                    base-url: https://api.openai.com/v1
                    keys: [{id: primary, value: "${OPENAI_API_KEY}"}]
                routes:
                  - model: gpt-4o
                    targets: [{provider: openia}]
                """;

        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(yaml, SOURCE, Map.of()));

        assertEquals("""
                invalid configuration (4 problems):
                  gateway.yaml:2:9 server.port: expected an integer from 0 to 65535, got '70000'
                  gateway.yaml:3:17 server.idle-timeout: expected a duration such as 500ms, 30s, 5m, 1h or 1m30s \
                (0 disables), got 'soon'
                  gateway.yaml:8:33 providers.openai.keys[0].value: environment variable OPENAI_API_KEY is not set
                  gateway.yaml:11:26 routes[0].targets[0].provider: unknown provider 'openia' (known: openai)""",
                     e.getMessage());
        assertEquals(4, e.problems().size());
    }

    @Test
    void reportsSyntaxErrorAtProblemPosition() {
        String yaml = """
                server:
                  port: [8080
                providers: {}
                """;

        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(yaml, SOURCE, Map.of()));

        assertEquals(1, e.problems().size());
        ConfigProblem problem = e.problems().get(0);
        assertEquals(3, problem.line());
        assertEquals(10, problem.column());
        assertTrue(problem.message().startsWith("invalid YAML: expected ',' or ']'"), problem.message());
    }

    @Test
    void reportsTabIndentationAsSyntaxError() {
        ConfigException e = assertThrows(ConfigException.class,
                                         () -> ConfigLoader.parse("server:\n\tport: 1\n", SOURCE, Map.of()));

        assertEquals(2, e.problems().get(0).line());
        assertEquals(1, e.problems().get(0).column());
    }

    @Test
    void rejectsSeveralDocuments() {
        ConfigException e = assertThrows(ConfigException.class,
                                         () -> ConfigLoader.parse(MINIMAL + "---\n" + MINIMAL, SOURCE, Map.of()));

        assertEquals(6, e.problems().get(0).line(), e.getMessage());
    }

    @Test
    void expandsAnchorsAndMergeKeys() throws ConfigException {
        String yaml = """
                providers:
                  a: {type: mock}
                  b: {type: mock}
                routes:
                  - model: first
                    timeouts: &slow {first-byte: 2m, total: 20m}
                    targets: &both [{provider: a}, {provider: b}]
                  - model: second
                    timeouts: {<<: *slow, total: 30m}
                    targets: *both
                """;

        GatewayConfig config = ConfigLoader.parse(yaml, SOURCE, Map.of());

        RouteConfig second = config.routes().get(1);
        assertEquals(List.of(new TargetConfig("a", "second"), new TargetConfig("b", "second")), second.targets());
        assertEquals(Duration.ofMinutes(2), second.timeouts().orElseThrow().firstByte());
        assertEquals(Duration.ofMinutes(30), second.timeouts().orElseThrow().total(), "explicit key beats merged");
    }

    @Test
    void limitsAliases() {
        StringBuilder yaml = new StringBuilder("a: &a [x]\nb: [");
        for (int i = 0; i < 200; i++) {
            yaml.append("*a, ");
        }
        yaml.append("*a]\n");

        ConfigException e = assertThrows(ConfigException.class,
                                         () -> ConfigLoader.parse(yaml.toString(), SOURCE, Map.of()));

        assertEquals(1, e.problems().size());
        assertTrue(e.problems().get(0).message().startsWith("invalid YAML: "), e.getMessage());
    }

    @Test
    void refusesKeyValuesWithLineBreaksOrSurroundingSpacesWithoutEchoingThem() {
        String yaml = """
                providers:
                  openai:
                    type: openai
                    base-url: https://api.openai.com/v1
                    keys:
                      - {id: a, value: "${KEY_A}"}
                      - {id: b, value: "${KEY_B}"}
                routes:
                  - model: m
                    targets: [{provider: openai}]
                """;

        List<String> problems = problems(yaml, Map.of("KEY_A", "sk-secret-aaaa\n", "KEY_B", " sk-secret-bbbb"));

        assertEquals(2, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("providers.openai.keys[0].value: the key value contains a line break"),
                   problems.toString());
        assertTrue(problems.get(1).contains("providers.openai.keys[1].value: the key value starts or ends with a "
                                            + "space"), problems.toString());
        assertFalse(problems.toString().contains("sk-secret"), "key values are never echoed");
    }

    @Test
    void providerToStringNeverShowsKeyValue() throws ConfigException {
        String key = "sk-proj-very-secret-0123456789";
        String yaml = """
                providers:
                  openai:
                    type: openai
                    base-url: https://api.openai.com/v1
                    keys: [{id: primary, value: "${OPENAI_API_KEY}"}]
                routes:
                  - model: m
                    targets: [{provider: openai}]
                """;

        GatewayConfig config = ConfigLoader.parse(yaml, SOURCE, Map.of("OPENAI_API_KEY", key));

        ProviderConfig provider = config.providers().get("openai");
        assertEquals(key, provider.keys().get(0).value().reveal());
        assertFalse(provider.toString().contains(key), provider.toString());
        assertFalse(config.toString().contains(key), config.toString());
        assertFalse(config.toString().contains("0123456789"), "not even a long suffix of the key");
    }

    @Test
    void keepsHeaderValuesOutOfToString() throws Exception {
        String yaml = """
                providers:
                  azure:
                    type: openai
                    base-url: https://example.openai.azure.com/openai
                    keys: [{id: k, value: unused-key-value}]
                    headers: {api-key: header-secret-value}
                routes:
                  - model: m
                    targets: [{provider: azure}]
                """;

        ProviderConfig provider = ConfigLoader.parse(yaml, SOURCE, Map.of()).providers().get("azure");

        assertEquals("header-secret-value", provider.headers().get("api-key"));
        assertFalse(provider.toString().contains("header-secret-value"), provider.toString());
        assertTrue(provider.toString().contains("api-key"), provider.toString());
    }

    @Test
    void loadsFileAndUsesPathAsSource() throws IOException, ConfigException {
        Path file = dir.resolve("gateway.yaml");
        Files.writeString(file, "\uFEFF" + MINIMAL, StandardCharsets.UTF_8);

        GatewayConfig config = ConfigLoader.load(file);

        assertEquals(file.toString(), config.source());
        assertEquals(1, config.routes().size());
    }

    @Test
    void namesFileInProblems() throws IOException {
        Path file = dir.resolve("bad.yaml");
        Files.writeString(file, "server: {port: -1}\n" + MINIMAL, StandardCharsets.UTF_8);

        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file));

        assertEquals(file + ":1:16 server.port: expected an integer from 0 to 65535, got '-1'",
                     e.problems().get(0).toString());
    }

    @Test
    void reportsMissingFileByPath() {
        Path file = dir.resolve("absent.yaml");

        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file));

        assertEquals("invalid configuration (1 problem):\n  " + file + ": file not found", e.getMessage());
    }

    @Test
    void reportsDirectoryInsteadOfFile() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(dir));

        assertEquals(List.of(new ConfigProblem(dir.toString(), 0, 0, "", "is a directory (expected a YAML file)")),
                     e.problems());
    }

    @Test
    void reportsInvalidUtf8() throws IOException {
        Path file = dir.resolve("latin1.yaml");
        Files.write(file, new byte[] {'a', ':', ' ', (byte) 0xE9, '\n'});

        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file));

        assertEquals(file + ": cannot read file: not valid UTF-8", e.problems().get(0).toString());
    }

    @Test
    void refusesCaFileThatIsMissingOrHoldsNoCertificate(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path notPem = dir.resolve("not.pem");
        java.nio.file.Files.writeString(notPem, "hello");
        String missing = "upstream:\n  ca-file: " + dir.resolve("missing.pem") + "\n" + MINIMAL;
        String garbage = "upstream:\n  ca-file: " + notPem + "\n" + MINIMAL;

        List<String> missingProblems = problems(missing);
        List<String> garbageProblems = problems(garbage);

        assertEquals(1, missingProblems.size(), missingProblems.toString());
        assertTrue(missingProblems.get(0).startsWith("gateway.yaml:2:12 upstream.ca-file: cannot read"),
                   missingProblems.toString());
        assertTrue(garbageProblems.get(0).startsWith("gateway.yaml:2:12 upstream.ca-file: "),
                   garbageProblems.toString());
    }

    @Test
    void fillsPresetBaseUrlAndAllowsKeylessLocalServers() throws Exception {
        String yaml = """
                providers:
                  groq: {type: groq, keys: [{id: g, value: gsk-1}]}
                  local: {type: ollama}
                  claude: {type: anthropic, keys: [{id: a, value: sk-ant-1}]}
                routes:
                  - model: m
                    targets: [{provider: groq}, {provider: local}, {provider: claude}]
                """;

        GatewayConfig config = ConfigLoader.parse(yaml, SOURCE, Map.of());

        assertEquals("https://api.groq.com/openai/v1", config.providers().get("groq").baseUrl().toString());
        assertEquals("http://127.0.0.1:11434/v1", config.providers().get("local").baseUrl().toString());
        assertEquals(List.of(), config.providers().get("local").keys());
        assertEquals("2023-06-01", config.providers().get("claude").option("version"));
    }

    @Test
    void derivesBedrockEndpointFromRequiredRegion() throws Exception {
        String ok = """
                providers:
                  aws: {type: bedrock, options: {region: eu-west-1}, keys: [{id: k, value: "AKID:SECRET"}]}
                routes:
                  - model: m
                    targets: [{provider: aws, model: anthropic.claude-3-haiku-20240307-v1:0}]
                """;
        String missing = ok.replace("options: {region: eu-west-1}, ", "");

        assertEquals("https://bedrock-runtime.eu-west-1.amazonaws.com",
                     ConfigLoader.parse(ok, SOURCE, Map.of()).providers().get("aws").baseUrl().toString());
        assertEquals(List.of("gateway.yaml:2:8 providers.aws.options.region: required field is missing "
                             + "(type bedrock needs it)"), problems(missing));
    }

    @Test
    void reportsUnknownOptionsAndOptionsOfTypesWithout() {
        String yaml = """
                providers:
                  az: {type: azure, base-url: "https://r.openai.azure.com/openai", keys: [{id: k, value: v}],
                       options: {api-versoin: x}}
                  gm: {type: gemini, keys: [{id: k, value: v}], options: {a: b}}
                routes:
                  - model: m
                    targets: [{provider: az}, {provider: gm}]
                """;

        List<String> problems = problems(yaml);

        assertEquals(2, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("providers.az.options.api-versoin: unknown field (known: api-version, auth)"),
                   problems.toString());
        assertTrue(problems.get(1).contains("providers.gm.options: type gemini takes no options"), problems.toString());
    }

    @Test
    void refusesBedrockKeysThatAreNotAccessKeyPairs() {
        String yaml = """
                providers:
                  aws:
                    type: bedrock
                    options: {region: us-east-1}
                    keys:
                      - id: k
                        value: just-one-secret-part
                routes:
                  - model: m
                    targets: [{provider: aws}]
                """;

        List<String> problems = problems(yaml);

        assertEquals(List.of("gateway.yaml:6:9 providers.aws.keys[0].value: expected ACCESS_KEY_ID:SECRET_ACCESS_KEY "
                             + "or ACCESS_KEY_ID:SECRET_ACCESS_KEY:SESSION_TOKEN (type bedrock), got a value in 1 "
                             + "part(s)"), problems);
        assertFalse(problems.get(0).contains("just-one-secret-part"));
    }

    @Test
    void checksAzureOptionValues() {
        String yaml = """
                providers:
                  az:
                    type: azure
                    base-url: https://r.openai.azure.com/openai
                    keys: [{id: k, value: v}]
                    options: {auth: bearerx, api-version: latest}
                routes:
                  - model: m
                    targets: [{provider: az}]
                """;

        assertEquals(List.of("gateway.yaml:3:5 providers.az.options.auth: expected api-key or bearer, got 'bearerx'",
                             "gateway.yaml:3:5 providers.az.options.api-version: expected YYYY-MM-DD, "
                             + "YYYY-MM-DD-preview or v1, got 'latest'"),
                     problems(yaml));
    }

    @Test
    void refusesALimitThatRefillsFasterThanOnePerNanosecond() {
        String yaml = MINIMAL + """
                limits:
                  - name: too-fast
                    scope: global
                    requests: {capacity: 2000000000, per: 1s}
                """;

        List<String> problems = problems(yaml);

        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("limits[0].requests: expected at most one unit per nanosecond"),
                   problems.toString());
    }

    private static List<String> problems(String yaml) {
        return problems(yaml, Map.of());
    }

    private static List<String> problems(String yaml, Map<String, String> env) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(yaml, SOURCE, env));
        return e.problems().stream().map(ConfigProblem::toString).toList();
    }
}
