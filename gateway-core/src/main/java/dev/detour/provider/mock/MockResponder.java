package dev.detour.provider.mock;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import dev.detour.api.Endpoint;
import dev.detour.config.MockConfig;
import dev.detour.config.MockFailureConfig;
import dev.detour.config.ProviderConfig;
import dev.detour.error.ErrorResponses;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Answers requests to a {@code mock} provider without any I/O: deterministic chat, completion and
 * embedding replies in OpenAI's dialect, or the failures its config scripts for a key.
 *
 * <pre>{@code
 * MockResponder mock = new MockResponder(providerConfig);
 * MockReply reply = mock.reply(Endpoint.CHAT_COMPLETIONS, "mock-small", "key-1", true, body);
 * // the server waits reply.delay(), sends the headers, then reply.events() reply.interEventDelay() apart
 * }</pre>
 *
 * <p>Thread-safe: one instance per provider, shared by every event loop. Scripted-failure counters
 * and the id sequence are atomic; everything else is immutable.
 */
public final class MockResponder {

    /**
     * Parsing is not on the hot path (the mock stands in for a network round trip), so a tree is fine.
     * The body belongs to the caller, so the parser must not close it.
     */
    private static final ObjectReader JSON =
            new ObjectMapper(JsonFactory.builder().disable(StreamReadFeature.AUTO_CLOSE_SOURCE).build())
                    .reader()
                    .with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final MockConfig config;
    private final Clock clock;
    private final FailureScript failures;
    private final AtomicLong ids = new AtomicLong();

    /** Creates a responder for {@code provider} that dates replies by the system clock. */
    public MockResponder(ProviderConfig provider) {
        this(provider, Clock.systemUTC());
    }

    /** Creates a responder for {@code provider} that dates replies ({@code created}) by {@code clock}. */
    public MockResponder(ProviderConfig provider, Clock clock) {
        this.config = Objects.requireNonNull(provider, "provider").mock();
        this.clock = Objects.requireNonNull(clock, "clock");
        this.failures = new FailureScript(config.failures());
    }

    /**
     * Returns the reply to one request. A scripted failure for {@code keyId}, when one is due, wins over
     * everything and is never streamed; otherwise the reply is streamed when {@code stream} is set and
     * {@code endpoint} is {@linkplain Endpoint#streamable() streamable}.
     *
     * @param endpoint      the endpoint the client called
     * @param upstreamModel the model name the reply carries
     * @param keyId         the id of the key the request was sent with; scripted failures are per key
     * @param stream        whether the client asked for {@code stream: true}
     * @param body          the client's JSON request in OpenAI's dialect; read, not closed
     */
    public MockReply reply(Endpoint endpoint, String upstreamModel, String keyId, boolean stream, InputStream body) {
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(upstreamModel, "upstreamModel");
        Objects.requireNonNull(keyId, "keyId");
        Objects.requireNonNull(body, "body");
        Duration delay = config.latency();
        // A real provider rejects a key or a rate before reading the body, so failures come first.
        Optional<MockFailureConfig> failure = failures.next(keyId);
        if (failure.isPresent()) {
            return FailureReplies.of(failure.get(), upstreamModel, keyId, delay);
        }
        try {
            JsonNode root = parse(body);
            boolean streamed = stream && endpoint.streamable();
            return switch (endpoint) {
                case CHAT_COMPLETIONS -> chat(root, upstreamModel, streamed, delay);
                case COMPLETIONS -> completion(root, upstreamModel, streamed, delay);
                case EMBEDDINGS -> EmbeddingReplies.full(EmbeddingRequest.of(root, config.embeddingDimensions()),
                                                         upstreamModel, delay);
            };
        } catch (BadRequestException e) {
            return MockReply.full(400, MockJson.JSON_HEADERS, delay,
                                  ErrorResponses.body("invalid_request_error", e.getMessage(), e.code(), e.param()));
        }
    }

    private MockReply chat(JsonNode root, String model, boolean streamed, Duration delay)
            throws BadRequestException {
        TextRequest request = TextRequest.ofChat(root);
        Generation generation = Generation.of(request);
        ObjectHead head = head("chatcmpl-mock-", model);
        if (streamed) {
            return ChatReplies.stream(head, generation, request.includeUsage(), delay, pace());
        }
        return ChatReplies.full(head, generation, delay);
    }

    private MockReply completion(JsonNode root, String model, boolean streamed, Duration delay)
            throws BadRequestException {
        TextRequest request = TextRequest.ofCompletion(root);
        Generation generation = Generation.of(request);
        ObjectHead head = head("cmpl-mock-", model);
        if (streamed) {
            return CompletionReplies.stream(head, generation, request.includeUsage(), delay, pace());
        }
        return CompletionReplies.full(head, generation, delay);
    }

    private static JsonNode parse(InputStream body) throws BadRequestException {
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (JacksonException e) {
            root = null;
        } catch (IOException e) {
            // The server lends an in-memory view of a buffered body, so a read error is a bug, not bad input.
            throw new UncheckedIOException(e);
        }
        if (root == null || !root.isObject()) {
            throw new BadRequestException("We could not parse the JSON body of your request. The API expects a JSON "
                                          + "object.", null, null);
        }
        return root;
    }

    private ObjectHead head(String idPrefix, String model) {
        return new ObjectHead(idPrefix + ids.incrementAndGet(), clock.instant().getEpochSecond(), model);
    }

    /** Returns the pause between streamed events: one word per {@code 1s / tokensPerSecond}. */
    private Duration pace() {
        int tokensPerSecond = config.tokensPerSecond();
        return tokensPerSecond > 0 ? Duration.ofNanos(1_000_000_000L / tokensPerSecond) : Duration.ZERO;
    }
}
