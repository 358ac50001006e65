package dev.detour.provider.compat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.detour.api.Endpoint;
import dev.detour.api.InvalidRequestException;
import dev.detour.api.RequestSniffer;
import dev.detour.api.SniffedRequest;
import dev.detour.config.ConfigException;
import dev.detour.config.ConfigLoader;
import dev.detour.config.GatewayConfig;
import dev.detour.filter.RequestBody;
import dev.detour.filter.RequestContext;
import dev.detour.filter.RequestExecutor;
import dev.detour.provider.ResponseTranslator;
import dev.detour.provider.StreamFailure;
import dev.detour.provider.UpstreamBody;
import dev.detour.routing.Route;
import dev.detour.routing.RouteTable;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** Request contexts, golden fixtures and stream feeding for adapter unit tests; no sockets. */
public final class AdapterFixtures {

    private static final ObjectMapper JSON = new ObjectMapper();

    private AdapterFixtures() {
    }

    /** Returns the route table of {@code yaml}. */
    public static RouteTable routes(String yaml) {
        try {
            GatewayConfig config = ConfigLoader.parse(yaml, "test.yaml", Map.of());
            return RouteTable.of(config, 1_700_000_000L);
        } catch (ConfigException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /** Returns a context for {@code body} on {@code endpoint}, routed by the body's model. */
    public static RequestContext context(RouteTable routes, Endpoint endpoint, String body) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        SniffedRequest sniffed;
        try {
            sniffed = RequestSniffer.sniff(new ByteArrayInputStream(bytes));
        } catch (InvalidRequestException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        Route route = routes.route(sniffed.model());
        if (route == null) {
            throw new IllegalArgumentException("no route for " + sniffed.model());
        }
        RequestBody requestBody = new RequestBody() {
            @Override
            public int length() {
                return bytes.length;
            }

            @Override
            public InputStream newInputStream() {
                return new ByteArrayInputStream(bytes);
            }
        };
        return new RequestContext("req_test", endpoint, name -> null, requestBody, sniffed, route,
                                  RequestExecutor.DIRECT, 0L);
    }

    /** Returns the text of {@code /fixtures/<path>} from the test class path. */
    public static String fixture(String path) {
        return new String(fixtureBytes(path), StandardCharsets.UTF_8);
    }

    /** Returns the bytes of {@code /fixtures/<path>}. */
    public static byte[] fixtureBytes(String path) {
        try (InputStream in = AdapterFixtures.class.getResourceAsStream("/fixtures/" + path)) {
            if (in == null) {
                throw new IllegalArgumentException("missing fixture " + path);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Parses {@code json} into a tree, for semantic comparison. */
    public static JsonNode tree(String json) {
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            throw new IllegalArgumentException(json, e);
        }
    }

    /** Returns the body an upstream would receive for {@code body} sent as {@code client}. */
    public static String sentBody(String client, UpstreamBody body) {
        if (body instanceof UpstreamBody.Replace r) {
            return new String(r.bytes(), StandardCharsets.UTF_8);
        }
        byte[] bytes = client.getBytes(StandardCharsets.UTF_8);
        List<UpstreamBody.Splice> edits = body instanceof UpstreamBody.Splice s ? List.of(s)
                : body instanceof UpstreamBody.Splices many ? many.parts() : List.of();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int at = 0;
        for (UpstreamBody.Splice e : edits) {
            out.writeBytes(Arrays.copyOfRange(bytes, at, e.start()));
            out.writeBytes(e.replacement());
            at = e.end();
        }
        out.writeBytes(Arrays.copyOfRange(bytes, at, bytes.length));
        return out.toString(StandardCharsets.UTF_8);
    }

    /**
     * Feeds {@code upstream} to {@code translator} cut at {@code cuts} (ascending offsets), then ends the stream;
     * returns everything written.
     */
    public static String feed(ResponseTranslator translator, byte[] upstream, int... cuts)
            throws StreamFailure, ResponseTranslator.TranslationException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int from = 0;
        for (int cut : cuts) {
            translator.translateStream(ByteBuffer.wrap(upstream, from, cut - from), out::write);
            from = cut;
        }
        translator.translateStream(ByteBuffer.wrap(upstream, from, upstream.length - from), out::write);
        translator.endStream(out::write);
        return out.toString(StandardCharsets.UTF_8);
    }

    /** Returns the SSE events of {@code stream} ({@code data:}/comment blocks split at blank lines). */
    public static List<String> events(String stream) {
        List<String> events = new ArrayList<>();
        for (String e : stream.split("\n\n")) {
            if (!e.isEmpty()) {
                events.add(e);
            }
        }
        return events;
    }
}
