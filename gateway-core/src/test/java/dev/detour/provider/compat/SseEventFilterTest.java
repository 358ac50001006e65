package dev.detour.provider.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.detour.api.UsageScanner;
import dev.detour.provider.ResponseTranslator;
import dev.detour.provider.StreamFailure;
import dev.detour.provider.UpstreamVerdict;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class SseEventFilterTest {

    private static final SseEventFilter.ErrorClassifier SERVER_ERROR =
            error -> UpstreamVerdict.of(UpstreamVerdict.Kind.SERVER_ERROR, "in_band");

    @Test
    void relaysEventsWithPayloadsUnchanged() throws Exception {
        String stream = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"é😀\"}}]}\n\ndata: [DONE]\n\n";

        String out = AdapterFixtures.feed(keep(), bytes(stream));

        assertEquals(stream, out);
    }

    @Test
    void skipsAzurePromptFilterChunkButKeepsUsageChunk() throws Exception {
        String stream = "data: {\"choices\":[],\"prompt_filter_results\":[]}\n\n"
                        + "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"},\"finish_reason\":null}]}\n\n"
                        + "data: {\"choices\":[],\"usage\":{\"total_tokens\":3}}\n\n"
                        + "data: [DONE]\n\n";

        String out = AdapterFixtures.feed(skip(), bytes(stream));

        assertEquals(List.of("data: {\"choices\":[{\"delta\":{\"content\":\"hi\"},\"finish_reason\":null}]}",
                             "data: {\"choices\":[],\"usage\":{\"total_tokens\":3}}", "data: [DONE]"),
                     AdapterFixtures.events(out));
    }

    @Test
    void readsTheUsageChunkDetourAskedForInsteadOfRelayingIt() throws Exception {
        String content = "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"},\"finish_reason\":\"stop\"}],"
                         + "\"usage\":null}\n\n";
        String stream = "data: {\"choices\":[],\"prompt_filter_results\":[]}\n\n" + content
                        + "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2,"
                        + "\"total_tokens\":11,\"prompt_tokens_details\":{\"cached_tokens\":4}}}\n\n"
                        + "data: [DONE]\n\n";
        UsageScanner usage = new UsageScanner();

        String out = AdapterFixtures.feed(SseEventFilter.newFilter(SseEventFilter.EmptyChunks.SKIP, SERVER_ERROR,
                                                                   usage), bytes(stream), 17, 90, 200);

        assertEquals(content.replace(",\"usage\":null", "") + "data: [DONE]\n\n", out,
                     "no usage chunk, and no \"usage\": null the client did not ask for");
        assertEquals(11, usage.totalTokens());
        assertEquals(4, usage.cachedTokens());
    }

    @Test
    void keepsUsageNullForAClientThatAskedForTheUsage() throws Exception {
        String stream = "data: {\"usage\":null,\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\ndata: [DONE]\n\n";

        assertEquals(stream, AdapterFixtures.feed(keep(), bytes(stream)));
    }

    @Test
    void cutsAUsageNullMemberWhereverItStands() throws Exception {
        String first = "data: {\"usage\": null , \"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n";
        String middle = "data: {\"id\":\"x\",\"usage\":null,\"choices\":[{\"delta\":{\"content\":\"b\"}}]}\n\n";
        String nested = "data: {\"choices\":[{\"delta\":{\"content\":\"c\"},\"usage\":null}]}\n\n";

        String out = AdapterFixtures.feed(SseEventFilter.newFilter(SseEventFilter.EmptyChunks.KEEP, SERVER_ERROR,
                                                                   new UsageScanner()),
                                          bytes(first + middle + nested + "data: [DONE]\n\n"));

        assertEquals("data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n"
                     + "data: {\"id\":\"x\",\"choices\":[{\"delta\":{\"content\":\"b\"}}]}\n\n"
                     + nested + "data: [DONE]\n\n", out, "only a top-level member is Detour's doing");
    }

    @Test
    void skipsAnnotationChunksWithoutDeltaOrFinishReason() throws Exception {
        String stream = "data: {\"choices\":[{\"content_filter_offsets\":{},\"finish_reason\":null,\"index\":0}]}\n\n"
                        + "data: {\"choices\":[{\"finish_reason\":\"stop\",\"index\":0}]}\n\n"
                        + "data: [DONE]\n\n";

        String out = AdapterFixtures.feed(skip(), bytes(stream));

        assertEquals(List.of("data: {\"choices\":[{\"finish_reason\":\"stop\",\"index\":0}]}", "data: [DONE]"),
                     AdapterFixtures.events(out));
    }

    @Test
    void keepsEmptyChunksWhenAskedTo() throws Exception {
        String stream = "data: {\"choices\":[]}\n\ndata: [DONE]\n\n";

        assertEquals(stream, AdapterFixtures.feed(keep(), bytes(stream)));
    }

    @Test
    void holdsCommentsBackUntilTheFirstEventThenForwardsThem() throws Exception {
        String stream = ": PROCESSING\n\n: PROCESSING\n\ndata: {\"choices\":[]}\n\n: PROCESSING\n\ndata: [DONE]\n\n";

        String out = AdapterFixtures.feed(keep(), bytes(stream));

        assertEquals("data: {\"choices\":[]}\n\n: PROCESSING\n\ndata: [DONE]\n\n", out);
    }

    @Test
    void writesNothingForCommentsAloneSoTheAttemptIsNotCommitted() throws Exception {
        SseEventFilter filter = keep();
        ByteArrayOutputStream out = new ByteArrayOutputStream();

        filter.translateStream(ByteBuffer.wrap(bytes(": OPENROUTER PROCESSING\n\n")), out::write);

        assertEquals(0, out.size());
    }

    @Test
    void turnsInBandErrorIntoStreamFailure() {
        String stream = ": PROCESSING\n\ndata: {\"error\":{\"code\":502,\"message\":\"Provider disconnected\"}}\n\n";

        StreamFailure f = assertThrows(StreamFailure.class, () -> AdapterFixtures.feed(keep(), bytes(stream)));

        assertEquals(UpstreamVerdict.Kind.SERVER_ERROR, f.verdict().kind());
        assertTrue(f.clientMessage().contains("Provider disconnected"), f.clientMessage());
    }

    @Test
    void treatsErrorEventTypeAsError() {
        String stream = "event: error\ndata: {\"message\":\"overloaded\"}\n\n";

        StreamFailure f = assertThrows(StreamFailure.class, () -> AdapterFixtures.feed(keep(), bytes(stream)));

        assertTrue(f.clientMessage().contains("overloaded"), f.clientMessage());
    }

    @Test
    void ignoresNullErrorField() throws Exception {
        String stream = "data: {\"error\":null,\"choices\":[{\"delta\":{}}]}\n\ndata: [DONE]\n\n";

        assertEquals(stream, AdapterFixtures.feed(keep(), bytes(stream)));
    }

    @Test
    void failsWhenStreamEndsWithoutDone() {
        String stream = "data: {\"choices\":[{\"delta\":{\"content\":\"cut\"}}]}\n\ndata: {\"choi";

        StreamFailure f = assertThrows(StreamFailure.class, () -> AdapterFixtures.feed(keep(), bytes(stream)));

        assertEquals("stream_truncated", f.verdict().detail());
    }

    @Test
    void joinsMultiLineDataAndReframesIt() throws Exception {
        String stream = "data: {\"choices\":\ndata: []}\nid: 7\n\ndata: [DONE]\n\n";

        String out = AdapterFixtures.feed(keep(), bytes(stream));

        assertEquals("data: {\"choices\":\ndata: []}\n\ndata: [DONE]\n\n", out);
    }

    @Test
    void acceptsCrLfAndBareCrLineEnds() throws Exception {
        String stream = "data: {\"a\":1}\r\n\r\ndata: {\"b\":2}\r\rdata: [DONE]\r\n\r\n";

        String out = AdapterFixtures.feed(keep(), bytes(stream));

        assertEquals("data: {\"a\":1}\n\ndata: {\"b\":2}\n\ndata: [DONE]\n\n", out);
    }

    @Test
    void passesUnparsablePayloadAsItIs() throws Exception {
        String stream = "data: not json\n\ndata: [DONE]\n\n";

        assertEquals(stream, AdapterFixtures.feed(skip(), bytes(stream)));
    }

    @Test
    void dropsEverythingAfterDone() throws Exception {
        String stream = "data: [DONE]\n\ndata: {\"late\":true}\n\n: comment\n\n";

        assertEquals("data: [DONE]\n\n", AdapterFixtures.feed(keep(), bytes(stream)));
    }

    @Test
    void givesSameOutputForEverySplitPoint() throws Exception {
        byte[] stream = AdapterFixtures.fixtureBytes("azure/chat-stream-usage-crlf.sse");
        String whole = AdapterFixtures.feed(skip(), stream);

        for (int cut = 0; cut <= stream.length; cut++) {
            assertEquals(whole, AdapterFixtures.feed(skip(), stream, cut), "cut at " + cut);
        }
    }

    @Test
    void givesSameOutputFedByteByByteOrInRandomPieces() throws Exception {
        byte[] stream = AdapterFixtures.fixtureBytes("azure/chat-stream.sse");
        String whole = AdapterFixtures.feed(skip(), stream);
        Random random = new Random(42);

        assertEquals(whole, feedBytewise(skip(), stream));
        for (int round = 0; round < 50; round++) {
            TreeSet<Integer> cuts = new TreeSet<>();
            for (int i = 0; i < 1 + random.nextInt(20); i++) {
                cuts.add(random.nextInt(stream.length + 1));
            }
            int[] sorted = cuts.stream().mapToInt(Integer::intValue).toArray();
            assertEquals(whole, AdapterFixtures.feed(skip(), stream, sorted), "cuts " + cuts);
        }
    }

    @Test
    void refusesEndlessLine() {
        SseEventFilter filter = keep();
        byte[] chunk = new byte[1024 * 1024];
        Arrays.fill(chunk, (byte) 'x');

        assertThrows(ResponseTranslator.TranslationException.class, () -> {
            for (int i = 0; i < 17; i++) {
                filter.translateStream(ByteBuffer.wrap(chunk), (b, o, l) -> { });
            }
        });
    }

    private static String feedBytewise(SseEventFilter filter, byte[] stream) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte b : stream) {
            filter.translateStream(ByteBuffer.wrap(new byte[] {b}), out::write);
        }
        filter.endStream(out::write);
        return out.toString(StandardCharsets.UTF_8);
    }

    private static SseEventFilter keep() {
        return SseEventFilter.newFilter(SseEventFilter.EmptyChunks.KEEP, SERVER_ERROR);
    }

    private static SseEventFilter skip() {
        return SseEventFilter.newFilter(SseEventFilter.EmptyChunks.SKIP, SERVER_ERROR);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
