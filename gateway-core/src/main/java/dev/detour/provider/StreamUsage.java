package dev.detour.provider;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.detour.filter.RequestContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Asks an upstream of OpenAI's dialect for the usage of a stream whose client did not ask for it: the body
 * gets {@code "stream_options": {"include_usage": true}}, and the usage-only chunk the upstream then sends is
 * read and kept from the client ({@link UsageChunkFilter}, or the host's own stream filter).
 *
 * <p>Only for hosts documented to accept {@code stream_options}: a host that validates bodies strictly would
 * refuse the whole request. Adapters decide that; this class only edits the body. Stateless and thread-safe.
 */
public final class StreamUsage {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final byte[] INCLUDE_USAGE = ",\"stream_options\":{\"include_usage\":true}"
            .getBytes(StandardCharsets.US_ASCII);

    private StreamUsage() {
    }

    /**
     * Returns whether the attempt of {@code ctx} should ask for its stream's usage: someone needs the usage, the
     * client asked for a stream of an endpoint that streams, and it did not ask for the usage chunk itself.
     */
    public static boolean wanted(RequestContext ctx) {
        return ctx.needsUsage() && ctx.stream() && ctx.endpoint().streamable() && !ctx.sniffed().includeUsage();
    }

    /**
     * Returns {@code body} (an OpenAI request, relative to the client's body of {@code ctx}) with
     * {@code stream_options.include_usage} set.
     *
     * <p>Without {@code stream_options} in the client's body, the field is spliced in before the body's closing
     * brace: no copy, no parse. A body with {@code stream_options} of its own (e.g. {@code include_usage: false}),
     * or one an adapter replaced, is parsed and rewritten. A body that is not a JSON object is returned as it is:
     * the provider will say what is wrong with it.
     */
    public static UpstreamBody withIncludeUsage(RequestContext ctx, UpstreamBody body) {
        if (body instanceof UpstreamBody.Replace replace) {
            return new UpstreamBody.Replace(rewrite(replace.bytes()));
        }
        int end = ctx.sniffed().objectEnd();
        if (!ctx.sniffed().streamOptions() && end > 0) {
            UpstreamBody.Splice insert = new UpstreamBody.Splice(end, end, INCLUDE_USAGE);
            List<UpstreamBody.Splice> parts = new ArrayList<>(splices(body));
            parts.add(insert); // every other edit (the model value) lies inside the object, before its end
            return parts.size() == 1 ? insert : new UpstreamBody.Splices(parts);
        }
        byte[] sent = applied(ctx, body);
        byte[] rewritten = rewrite(sent);
        return rewritten == sent ? body : new UpstreamBody.Replace(rewritten);
    }

    /** Returns {@code bytes} with {@code stream_options.include_usage: true}, or {@code bytes} if not an object. */
    private static byte[] rewrite(byte[] bytes) {
        try {
            JsonNode root = JSON.readTree(bytes);
            if (root instanceof ObjectNode object) {
                JsonNode options = object.get("stream_options");
                ObjectNode edited = options instanceof ObjectNode o ? o : object.putObject("stream_options");
                edited.put("include_usage", true);
                return JSON.writeValueAsBytes(object);
            }
        } catch (IOException e) {
            // not JSON: sent as it is
        }
        return bytes;
    }

    /** Returns the bytes {@code body} stands for: the client's body with its splices applied. */
    private static byte[] applied(RequestContext ctx, UpstreamBody body) {
        byte[] client;
        try (InputStream in = ctx.clientBody().newInputStream()) {
            client = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // an in-memory body cannot fail to read
        }
        List<UpstreamBody.Splice> edits = splices(body);
        return UpstreamBody.apply(client, edits);
    }

    private static List<UpstreamBody.Splice> splices(UpstreamBody body) {
        if (body instanceof UpstreamBody.Splice one) {
            return List.of(one);
        }
        if (body instanceof UpstreamBody.Splices many) {
            return many.parts();
        }
        return List.of();
    }
}
