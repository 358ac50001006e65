package dev.detour.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class UsageScannerTest {

    private static UsageScanner scanInPieces(String text, int piece) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        UsageScanner scanner = new UsageScanner();
        for (int i = 0; i < bytes.length; i += piece) {
            scanner.scan(ByteBuffer.wrap(bytes, i, Math.min(piece, bytes.length - i)));
        }
        return scanner;
    }

    @Test
    void readsUsageOfAJsonAnswer() {
        String body = "{\"id\":\"x\",\"choices\":[],\"usage\":{\"prompt_tokens\": 85, \"completion_tokens\":18,"
                      + "\"total_tokens\":103}}";

        UsageScanner s = scanInPieces(body, 1000);

        assertEquals(85, s.promptTokens());
        assertEquals(18, s.completionTokens());
        assertEquals(103, s.totalTokens());
    }

    @Test
    void readsTheSameWhateverTheSplits() {
        String body = "data: {\"usage\":null}\n\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":12,"
                      + "\"completion_tokens\":7,\"total_tokens\":19}}\n\ndata: [DONE]\n\n";

        for (int piece = 1; piece <= 9; piece++) {
            UsageScanner s = scanInPieces(body, piece);

            assertEquals(19, s.totalTokens(), "pieces of " + piece);
            assertEquals(12, s.promptTokens());
        }
    }

    @Test
    void ignoresFieldNamesInsideStrings() {
        String body = "{\"content\":\"say \\\"total_tokens\\\": 999\",\"usage\":null}";

        UsageScanner s = scanInPieces(body, 3);

        assertFalse(s.found());
        assertEquals(-1, s.totalTokens());
    }

    @Test
    void addsPromptAndCompletionWhenNoTotalIsSent() {
        UsageScanner s = scanInPieces("{\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":3}}", 4);

        assertEquals(8, s.totalTokens());
    }

    @Test
    void readsCachedPromptTokens() {
        String body = "{\"usage\":{\"prompt_tokens\":2006,\"completion_tokens\":300,\"total_tokens\":2306,"
                      + "\"prompt_tokens_details\":{\"cached_tokens\":1920,\"audio_tokens\":0},"
                      + "\"completion_tokens_details\":{\"reasoning_tokens\":0}}}";

        for (int piece = 1; piece <= 11; piece++) {
            UsageScanner s = scanInPieces(body, piece);

            assertEquals(1920, s.cachedTokens(), "pieces of " + piece);
            assertEquals(2006, s.promptTokens(), "prompt_tokens_details is not prompt_tokens");
            assertEquals(2306, s.totalTokens());
        }
    }

    @Test
    void saysCachedTokensAreUnknownWhenTheAnswerHasNoDetails() {
        UsageScanner s = scanInPieces("{\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":3}}", 4);

        assertEquals(-1, s.cachedTokens());
    }

    @Test
    void takesTheUsageATranslatorRecords() {
        UsageScanner s = new UsageScanner();

        s.record(120, 30, -1, 100);

        assertTrue(s.found());
        assertEquals(150, s.totalTokens(), "no total reported: prompt plus completion");
        assertEquals(100, s.cachedTokens());
    }

    @Test
    void readsNumbersAfterLongTextWithoutQuotesInIt() {
        String text = "x".repeat(10_000);
        String body = "{\"choices\":[{\"message\":{\"content\":\"" + text + "\"}}],\"usage\":{\"prompt_tokens\":"
                      + "7,\"completion_tokens\":2500,\"total_tokens\":2507}}";

        UsageScanner s = scanInPieces(body, 333);

        assertEquals(2507, s.totalTokens());
        assertEquals(2500, s.completionTokens());
    }

    @Test
    void readsTheSameFromEverySplitOfAStreamInArraysAndDirectBuffers() {
        String stream = "data: {\"choices\":[{\"delta\":{\"content\":\"\\\"prompt_tokens\\\": 1, \\\"c\"}}],"
                        + "\"usage\":null,\"cached\":\"completion\",\"p\":\"\",\"t\":\"total\"}\n\n"
                        + "data: {\"choices\":[],\"usage\":{\"prompt_tokens\" : 2006,\"completion_tokens\":\n300,"
                        + "\"total_tokens\":2306,\"prompt_tokens_details\":{\"cached_tokens\":1920}}}\n\ndata: [DONE]\n\n";
        byte[] bytes = stream.getBytes(StandardCharsets.UTF_8);

        for (int cut = 0; cut <= bytes.length; cut++) {
            for (boolean direct : new boolean[] {false, true}) {
                UsageScanner s = new UsageScanner();
                s.scan(buffer(bytes, 0, cut, direct));
                s.scan(buffer(bytes, cut, bytes.length, direct));

                String where = "cut at " + cut + (direct ? ", direct" : ", heap");
                assertEquals(2006, s.promptTokens(), where);
                assertEquals(300, s.completionTokens(), where);
                assertEquals(2306, s.totalTokens(), where);
                assertEquals(1920, s.cachedTokens(), where);
            }
        }
        for (int piece = 1; piece <= 40; piece++) {
            assertEquals(1920, scanInPieces(stream, piece).cachedTokens(), "pieces of " + piece);
        }
    }

    private static ByteBuffer buffer(byte[] bytes, int from, int to, boolean direct) {
        if (!direct) {
            return ByteBuffer.wrap(bytes, from, to - from); // position() > 0, as a slice of a larger array
        }
        ByteBuffer b = ByteBuffer.allocateDirect(to - from);
        b.put(bytes, from, to - from).flip();
        return b;
    }
}
