package dev.detour.bench;

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
import dev.detour.filter.RequestHeaders;
import dev.detour.routing.Route;
import dev.detour.routing.RouteTable;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Realistic inputs for the benchmarks: chat bodies of about 1 KB and 20 KB, a route table like the one
 * {@code scripts/bench} gives Detour, and request contexts built the way the server builds them (minus
 * the Netty buffer: the body is a byte array here).
 */
final class Fixtures {

    /** An OpenAI-compatible provider with one key and one extra header; routes with and without renaming. */
    static final String CONFIG = """
            providers:
              llm:
                type: openai
                base-url: http://127.0.0.1:9/v1
                keys:
                  - id: bench
                    value: sk-bench-0000000000000000
                headers:
                  OpenAI-Organization: org-bench
            routes:
              - model: gpt-4o-mini
                targets:
                  - provider: llm
              - model: fast
                targets:
                  - provider: llm
                    model: gpt-4o-mini-2024-07-18
            """;

    private static final String SYSTEM = "You are the support assistant of an online bookshop. Answer in two or "
            + "three sentences, in a friendly tone, and never invent order details: when the user asks about an "
            + "order, ask for the order number first. Prices are in euros and include VAT. Shipping within the EU "
            + "takes three to five working days; express shipping takes one to two working days and costs 9.90 EUR.";
    private static final String USER = "Hello! I ordered two paperbacks and a hardcover last Tuesday with standard "
            + "shipping to Lyon, and the tracking page still says that the parcel is being prepared. Is that "
            + "normal, and can I still switch to express shipping so that it arrives before the weekend?";
    private static final String ASSISTANT = "Thanks for your message! Standard parcels usually leave the warehouse "
            + "within two working days. I can switch your order to express shipping for 9.90 EUR: shall I do that?";

    private Fixtures() {
    }

    /**
     * Returns a chat completion request of about {@code approxBytes}: a system prompt, then user and
     * assistant turns until the size is reached, then the usual sampling fields.
     */
    static byte[] chatBody(String model, boolean stream, int approxBytes) {
        StringBuilder sb = new StringBuilder(approxBytes + 512);
        sb.append("{\"model\":\"").append(model).append("\",\"messages\":[");
        sb.append("{\"role\":\"system\",\"content\":\"").append(SYSTEM).append("\"}");
        int turn = 0;
        do {
            boolean user = turn % 2 == 0;
            sb.append(",{\"role\":\"").append(user ? "user" : "assistant").append("\",\"content\":\"")
              .append(user ? USER : ASSISTANT).append("\"}");
            turn++;
        } while (sb.length() < approxBytes - 150 || turn % 2 == 0);
        sb.append("],\"temperature\":0.2,\"top_p\":1,\"max_tokens\":256,\"stream\":").append(stream)
          .append(",\"user\":\"customer-4821\"}");
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Returns the route table of {@link #CONFIG}. */
    static RouteTable routes() {
        return RouteTable.of(config(CONFIG), 1_700_000_000L);
    }

    /** Parses {@code yaml} as a gateway config, failing loudly: a broken fixture is a bug. */
    static GatewayConfig config(String yaml) {
        try {
            return ConfigLoader.parse(yaml, "bench.yaml", Map.of());
        } catch (ConfigException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /** Returns a context for {@code body}, sniffed and routed as the server does, on an inline executor. */
    static RequestContext context(RouteTable routes, byte[] body) {
        SniffedRequest sniffed;
        try {
            sniffed = RequestSniffer.sniff(new ByteArrayInputStream(body));
        } catch (InvalidRequestException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        Route route = routes.route(sniffed.model());
        if (route == null) {
            throw new IllegalArgumentException("no route for model " + sniffed.model());
        }
        RequestHeaders headers = name -> null;
        return new RequestContext("req_0123456789abcdef01234567", Endpoint.CHAT_COMPLETIONS, headers,
                                  new BytesBody(body), sniffed, route, RequestExecutor.DIRECT, System.nanoTime());
    }

    /** A request body over a byte array. */
    static final class BytesBody implements RequestBody {
        private final byte[] bytes;

        BytesBody(byte[] bytes) {
            this.bytes = bytes;
        }

        @Override
        public int length() {
            return bytes.length;
        }

        @Override
        public InputStream newInputStream() {
            return new ByteArrayInputStream(bytes);
        }
    }
}
