package dev.detour.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.detour.api.UsageScanner;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class UsageChunkFilterTest {

    private static final String CHUNK = "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},"
                                        + "\"finish_reason\":null}],\"usage\":null}\n\n";
    private static final String USAGE = "data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,"
                                        + "\"completion_tokens\":3,\"total_tokens\":15}}\n\n";
    private static final String DONE = "data: [DONE]\n\n";
    /** The chunk as the upstream sends it when nobody asked for the usage. */
    private static final String PLAIN = CHUNK.replace(",\"usage\":null", "");

    private static String run(String stream, int piece, UsageScanner usage) throws Exception {
        UsageChunkFilter filter = new UsageChunkFilter(usage);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] bytes = stream.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < bytes.length; i += piece) {
            filter.translateStream(ByteBuffer.wrap(bytes, i, Math.min(piece, bytes.length - i)), out::write);
        }
        filter.endStream(out::write);
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void dropsTheUsageChunkAndReadsIt() throws Exception {
        for (int piece = 1; piece <= CHUNK.length() + USAGE.length() + 1; piece += 7) {
            UsageScanner usage = new UsageScanner();

            String out = run(CHUNK + USAGE + DONE, piece, usage);

            assertEquals(PLAIN + DONE, out, "pieces of " + piece);
            assertEquals(15, usage.totalTokens());
        }
    }

    @Test
    void cutsTheUsageNullThatTheAskAddedToEveryChunk() throws Exception {
        for (int piece = 1; piece <= CHUNK.length() + 1; piece += 5) {
            String out = run(CHUNK + USAGE + DONE, piece, new UsageScanner());

            assertEquals(PLAIN + DONE, out, "pieces of " + piece);
        }
    }

    @Test
    void cutsAUsageNullThatComesFirst() throws Exception {
        String chunk = "data: {\"usage\" : null,\n\"choices\":[{\"index\":0}]}\n\n";

        assertEquals("data: {\"choices\":[{\"index\":0}]}\n\n", run(chunk, 4, new UsageScanner()));
    }

    @Test
    void passesEveryOtherEventAsTheSameBytes() throws Exception {
        String stream = ": keep-alive\n\n" + PLAIN.replace("\n\n", "\r\n\r\n") + "data: {\"usage\":{\"note\":1},"
                        + "\"choices\":[{\"index\":0}]}\n\n" + DONE;

        String out = run(stream, 5, new UsageScanner());

        assertEquals(stream, out);
    }

    @Test
    void passesATrailingPartialEventOn() throws Exception {
        assertEquals(PLAIN + "data: {\"par", run(PLAIN + "data: {\"par", 3, new UsageScanner()));
    }

    @Test
    void cutsATrailingUsageNullWithSpacesAndCarriageReturns() throws Exception {
        String event = "id: 7\r\ndata: {\"choices\":[{\"index\":0}] , \"usage\" :  null }\r\n\r\n";

        assertEquals("id: 7\r\ndata: {\"choices\":[{\"index\":0}]  }\r\n\r\n", run(event, 3, new UsageScanner()));
    }

    @Test
    void leavesAUsageNullThatIsNotATopLevelMember() throws Exception {
        // Nested, inside a string, and spread over two data lines: no top-level member to cut.
        String stream = "data: {\"choices\":[{\"delta\":{\"a\":1,\"usage\":null}}]}\n\n"
                        + "data: {\"choices\":[{\"delta\":{\"content\":\"x,\\\"usage\\\":null}\"}}]}\n\n"
                        + "data: {\"meta\":{\"b\":2,\"usage\":null}}\n\n"
                        + "data: {\"choices\":[],\ndata: \"usage\":null}\n\n"
                        + "data: {\"choices\":[],\"x\":\"a\\\"usage\":null}\n\n";

        for (int piece = 1; piece <= 9; piece++) {
            assertEquals(stream, run(stream, piece, new UsageScanner()), "pieces of " + piece);
        }
    }

    @Test
    void cutsAUsageNullThatIsNotLastTheSlowWay() throws Exception {
        String chunk = "data: {\"choices\":[{\"index\":0}],\"usage\":null,\"obfuscation\":\"ab\"}\n\n";

        assertEquals("data: {\"choices\":[{\"index\":0}],\"obfuscation\":\"ab\"}\n\n", run(chunk, 6, new UsageScanner()));
    }
}
