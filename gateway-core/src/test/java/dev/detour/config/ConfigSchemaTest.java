package dev.detour.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import dev.detour.catalog.Capability;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Keeps {@code docs/config.schema.json}, the JSON schema editors use to complete and check Detour configs, in step
 * with the binder, which is the real definition of the format.
 *
 * <p>Two directions: every field the binder accepts is in the schema ({@link MappingObserver} reports each mapping
 * the binder reads, with its allowed keys, while it loads {@code everything.yaml}), and every field the schema
 * declares is one the binder accepts. Every example config shipped in the repository must also validate.
 */
class ConfigSchemaTest {

    private static final Path REPO = Path.of("..");
    private static final String HEADER = "# yaml-language-server: $schema=../docs/config.schema.json";
    private static final String HOW_TO_FIX = """
            docs/config.schema.json and the config binder disagree. When you add a config field:
              1. declare it in docs/config.schema.json (description, default, type; additionalProperties: false on \
            new sections),
              2. set it in gateway-core/src/test/resources/config/everything.yaml (it must still load without problems),
              3. document it in docs/configuration.md.
            """;

    private static JsonNode schemaJson;
    private static Schema schema;
    private static SchemaPaths paths;
    private static List<SchemaSync.Read> everythingReads;

    @BeforeAll
    static void load() throws Exception {
        schemaJson = new ObjectMapper().readTree(REPO.resolve(SchemaSync.SCHEMA_FILE).toFile());
        schema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_7).getSchema(schemaJson);
        paths = new SchemaPaths(schemaJson);
        SchemaSync.Recorder recorder = new SchemaSync.Recorder();
        // Throws, listing every problem, when the fixture does not load.
        ConfigLoader.parse(everythingYaml(), "everything.yaml", fixtureEnv(), recorder);
        everythingReads = recorder.reads();
    }

    @Test
    void schemaIsValidDraft07() {
        Schema metaSchema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_7)
                .getSchema(SchemaLocation.of(SpecificationVersion.DRAFT_7.getDialectId()));

        assertEquals(List.of(), messages(metaSchema.validate(schemaJson)));
    }

    @Test
    void everyExampleConfigValidates() throws IOException {
        Map<String, String> files = exampleConfigs();
        files.put("everything.yaml", everythingYaml());

        for (Map.Entry<String, String> file : files.entrySet()) {
            List<String> errors = validate(file.getValue());

            assertEquals(List.of(), errors, file.getKey() + " does not validate against " + SchemaSync.SCHEMA_FILE);
        }
    }

    @Test
    void exampleConfigsPointEditorsAtTheSchema() throws IOException {
        for (Map.Entry<String, String> file : exampleConfigs().entrySet()) {
            assertTrue(file.getValue().startsWith(HEADER + "\n"),
                       file.getKey() + " should start with '" + HEADER + "' so that editors complete and check it");
        }
    }

    @Test
    void schemaDeclaresEveryFieldTheBinderAccepts() {
        List<String> problems = SchemaSync.missingFromSchema(paths, everythingReads);

        assertEquals(List.of(), problems, HOW_TO_FIX);
    }

    @Test
    void binderAcceptsEveryFieldTheSchemaDeclares() {
        List<String> problems = SchemaSync.unknownToBinder(paths, everythingReads);

        assertEquals(List.of(), problems, HOW_TO_FIX);
    }

    @Test
    void choicesMatchTheBinder() {
        Map<String, Set<String>> expected = new LinkedHashMap<>();
        expected.put("server.transport", names(ServerConfig.TransportKind.values(), e -> e.name()));
        expected.put("logging.format", names(LoggingConfig.Format.values(), e -> e.name()));
        expected.put("logging.access-log-sink", names(LoggingConfig.Sink.values(), e -> e.name()));
        expected.put("providers.p.type", names(ProviderType.values(), ProviderType::yamlName));
        expected.put("providers.p.pool.strategy", names(PoolConfig.Strategy.values(), PoolConfig.Strategy::yamlName));
        expected.put("providers.p.pool.on-exhausted", names(ExhaustionMode.values(), ExhaustionMode::yamlName));
        expected.put("providers.p.keys[0].on-exhausted", names(ExhaustionMode.values(), ExhaustionMode::yamlName));
        expected.put("providers.p.mock.failures[0].kind",
                     names(MockFailureConfig.Kind.values(), MockFailureConfig.Kind::yamlName));
        expected.put("routes[0].strategy", names(RouteConfig.Strategy.values(), RouteConfig.Strategy::yamlName));
        expected.put("routes[0].retry-on[0]", names(RetryTrigger.values(), RetryTrigger::yamlName));
        expected.put("routes[0].affinity", names(RouteConfig.Affinity.values(), RouteConfig.Affinity::yamlName));
        expected.put("limits[0].scope", names(LimitConfig.Scope.values(), LimitConfig.Scope::yamlName));
        expected.put("policies[0].limits[0].scope", names(LimitConfig.Scope.values(), LimitConfig.Scope::yamlName));
        expected.put("limits[0].match.priority[0]", new TreeSet<>(ChainBinder.PRIORITIES));
        expected.put("policies[0].admission.refuse[0]", new TreeSet<>(ChainBinder.PRIORITIES));
        expected.put("clients[0].can-override[0]", new TreeSet<>(ChainBinder.OVERRIDABLE));
        expected.put("budgets[0].scope", names(BudgetConfig.Scope.values(), BudgetConfig.Scope::yamlName));
        expected.put("budgets[0].period", names(BudgetConfig.Period.values(), BudgetConfig.Period::yamlName));
        expected.put("clients[0].budgets[0].period",
                     names(BudgetConfig.Period.values(), BudgetConfig.Period::yamlName));
        expected.put("cache.scope", names(CacheConfig.Scope.values(), CacheConfig.Scope::yamlName));
        expected.put("routes[0].cache.scope", names(CacheConfig.Scope.values(), CacheConfig.Scope::yamlName));
        expected.put("filters[0].name", new TreeSet<>(ChainBinder.FILTER_NAMES));
        expected.put("models[0].family", names(ProviderType.values(), ProviderType::yamlName));
        expected.put("models[0].capabilities[0]", names(Capability.values(), Capability::yamlName));

        for (Map.Entry<String, Set<String>> choice : expected.entrySet()) {
            assertEquals(choice.getValue(), paths.enumValues(choice.getKey()),
                         "choices of " + choice.getKey() + " in " + SchemaSync.SCHEMA_FILE);
        }
    }

    @Test
    void providerRulesMatchTheProviderTypes() {
        for (ProviderType type : ProviderType.values()) {
            String options = type.optionNames().isEmpty() ? ""
                    : ", options: {" + type.optionNames().stream().map(o -> o + ": x").collect(Collectors.joining(", "))
                      + "}";
            String keys = ", keys: [{id: a, value: b}]";
            String url = ", base-url: https://example.com/v1";

            boolean keysRefused = !validate(provider(type, url + options)).isEmpty();
            boolean urlRefused = !validate(provider(type, keys + options)).isEmpty();
            boolean optionsRefused = !validate(provider(type, keys + url + ", options: {version: x}")).isEmpty();
            boolean mockRefused = !validate(provider(type, keys + url + options + ", mock: {}")).isEmpty();

            assertEquals(type.keyRequired(), keysRefused, type + ": keys required");
            assertEquals(type.defaultBaseUrl().isEmpty() && type != ProviderType.BEDROCK, urlRefused,
                         type + ": base-url required");
            assertEquals(!type.optionNames().contains("version"), optionsRefused, type + ": option version");
            assertEquals(type != ProviderType.MOCK, mockRefused, type + ": mock section");
        }
    }

    // --- The schema is not vacuous ---------------------------------------------------------------------------------

    @Test
    void acceptsEnvironmentReferencesAndQuotedNumbersWhereTheBinderDoes() {
        String yaml = minimal("""
                server: {port: "${PORT:-8080}", io-threads: "4", idle-timeout: "${IDLE}", max-body-size: 1000}
                logging: {access-log: "${ACCESS_LOG}", format: "${LOG_FORMAT:-json}"}
                """);

        assertEquals(List.of(), validate(yaml));
    }

    @Test
    void rejectsMisspelledField() {
        List<String> errors = validate(minimal("server: {prot: 8080}"));

        assertEquals(1, errors.size(), errors.toString());
        assertTrue(errors.get(0).contains("prot"), errors.toString());
    }

    @Test
    void rejectsWrongTypes() {
        assertFalse(validate(minimal("server: {port: eighty}")).isEmpty(), "a word as a port");
        assertFalse(validate(minimal("server: {port: 70000}")).isEmpty(), "a port above 65535");
        assertFalse(validate(minimal("server: {idle-timeout: 30}")).isEmpty(), "a duration without a unit");
        assertFalse(validate(minimal("server: {max-body-size: 16Mb}")).isEmpty(), "megabits as a size");
        assertFalse(validate(minimal("server: {transport: epol}")).isEmpty(), "an unknown choice");
        assertFalse(validate(minimal("logging: {access-log: yes}")).isEmpty(), "a YAML 1.1 boolean");
        assertFalse(validate(minimal("budgets: [{name: b, scope: team, period: week, spend: 5}]")).isEmpty(),
                    "an unknown budget period");
        assertFalse(validate(minimal("budgets: [{name: b, scope: team, period: day, spend: -5}]")).isEmpty(),
                    "a negative spend");
    }

    @Test
    void rejectsMissingRequiredSectionsAndFields() {
        assertFalse(validate("providers: {local: {type: mock}}\n").isEmpty(), "no routes");
        assertFalse(validate(minimal("limits: [{name: l, scope: team}]")).isEmpty(), "neither requests nor tokens");
        assertFalse(validate(minimal("clients: [{name: c}]")).isEmpty(), "a client without key-hash");
        assertFalse(validate(minimal("policies: [{name: p, admission: {refuse: [batch]}}]")).isEmpty(),
                    "admission without reserve");
        assertFalse(validate(minimal("budgets: [{name: b, scope: team, period: day}]")).isEmpty(),
                    "a budget with neither spend nor tokens");
        assertFalse(validate(minimal("clients: [{name: c, key-hash: " + "a".repeat(64)
                                     + ", budgets: [{name: b, scope: team, period: day, spend: 5}]}]")).isEmpty(),
                    "a client budget with a scope");
        assertFalse(validate("providers: {local: {type: mock}}\n"
                             + "routes: [{model: m, targets: [{provider: local}], cache: {ttl: 10m}}]\n").isEmpty(),
                    "route cache settings without enabled");
    }

    // --- The sync check finds what it should -----------------------------------------------------------------------

    @Test
    void reportsFieldTheBinderAcceptsButTheSchemaLacks() {
        ObjectNode copy = schemaJson.deepCopy();
        ((ObjectNode) copy.at("/definitions/route/properties/circuit-breaker/properties")).remove("window");

        List<String> problems = SchemaSync.missingFromSchema(new SchemaPaths(copy), everythingReads);

        assertEquals(List.of("schema lacks routes[].circuit-breaker.window: add it to docs/config.schema.json under "
                             + "routes[].circuit-breaker"), problems);
    }

    @Test
    void reportsNewSectionTheSchemaLacks() {
        List<SchemaSync.Read> reads = new ArrayList<>(everythingReads);
        reads.add(new SchemaSync.Read("routes[1].mirror", List.of("target")));

        List<String> problems = SchemaSync.missingFromSchema(paths, reads);

        assertEquals(List.of("schema lacks routes[].mirror, which the binder reads: add it to docs/config.schema.json"),
                     problems);
    }

    @Test
    void reportsFieldTheSchemaDeclaresButTheBinderRefuses() {
        ObjectNode copy = schemaJson.deepCopy();
        ((ObjectNode) copy.at("/properties/server/properties")).putObject("colour").put("type", "string");

        List<String> problems = SchemaSync.unknownToBinder(new SchemaPaths(copy), everythingReads);

        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith("schema declares server.colour, which the binder refuses"),
                   problems.toString());
    }

    @Test
    void reportsSectionTheFixtureNeverReaches() {
        List<SchemaSync.Read> reads = everythingReads.stream()
                .filter(read -> !read.path().startsWith("policies[1].admission"))
                .toList();

        List<String> problems = SchemaSync.unknownToBinder(paths, reads);

        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith("the binder never read policies[].admission while loading "
                                              + SchemaSync.FIXTURE_FILE), problems.toString());
    }

    @Test
    void followsUserNamedKeysAndListsToPatterns() {
        SchemaPaths.Resolution key = paths.resolve("providers[\"my provider\"].keys[3]");
        SchemaPaths.Resolution params = paths.resolve("routes[0].targets[0].params.response_format");

        assertEquals(List.of("providers", "my provider", "keys", 3),
                     SchemaPaths.segments("providers[\"my provider\"].keys[3]"));
        assertEquals("providers.*.keys[]", key.pattern());
        assertEquals(SchemaPaths.State.FOUND, key.state());
        assertTrue(key.declaredFields().contains("quota-group"), key.declaredFields().toString());
        assertEquals("routes[].targets[].params.*", params.pattern());
        assertTrue(params.allowsUserNamedKeys());
        assertEquals(SchemaPaths.State.MISSING, paths.resolve("server.colour").state());
    }

    private static List<String> validate(String yaml) {
        return messages(schema.validate(YamlTree.read(yaml)));
    }

    private static List<String> messages(List<Error> errors) {
        return errors.stream().map(e -> e.getInstanceLocation() + ": " + e.getMessage()).toList();
    }

    private static String provider(ProviderType type, String fields) {
        return "providers: {p: {type: " + type.yamlName() + fields + "}}\n"
               + "routes: [{model: m, targets: [{provider: p}]}]\n";
    }

    private static String minimal(String extra) {
        return extra + "\nproviders: {local: {type: mock}}\nroutes: [{model: m, targets: [{provider: local}]}]\n";
    }

    /** Returns the example configs shipped in the repository: {@code config/*.yaml} and the container's. */
    private static Map<String, String> exampleConfigs() throws IOException {
        Map<String, String> files = new LinkedHashMap<>();
        try (Stream<Path> config = Files.list(REPO.resolve("config"))) {
            for (Path file : config.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
                files.put("config/" + file.getFileName(), Files.readString(file));
            }
        }
        files.put("docker/gateway.yaml", Files.readString(REPO.resolve("docker/gateway.yaml")));
        assertTrue(files.size() >= 3, "expected config/gateway.yaml, config/gateway.example.yaml and docker's");
        return files;
    }

    private static String everythingYaml() {
        try {
            return Files.readString(resource("everything.yaml"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Map<String, String> fixtureEnv() {
        return Map.of("OPENAI_API_KEY", "sk-example", "CA_FILE", resource("test-ca.pem").toString());
    }

    private static Path resource(String name) {
        try {
            return Path.of(ConfigSchemaTest.class.getResource("/config/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static <E> Set<String> names(E[] values, Function<E, String> name) {
        return Arrays.stream(values).map(name).map(n -> n.toLowerCase(Locale.ROOT))
                .collect(Collectors.toCollection(TreeSet::new));
    }
}
