package dev.detour.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

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

        UsageScanner s = scanInPieces(body, 5);

        assertEquals(2006, s.promptTokens(), "prompt_tokens_details is not prompt_tokens");
        assertEquals(300, s.completionTokens());
        assertEquals(1920, s.cachedTokens());
    }

    @Test
    void reportsNoCachedTokensWhenAbsent() {
        assertEquals(-1, scanInPieces("{\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}", 7)
                .cachedTokens());
    }

    @Test
    void findsUsageAfterLongTextBetweenQuotesWhateverTheSplits() {
        StringBuilder sse = new StringBuilder();
        for (int i = 0; i < 50; i++) {
            sse.append("data: {\"id\":\"c\",\"choices\":[{\"delta\":{\"content\":\"lorem ipsum dolor sit amet, ")
               .append("\\\"quoted\\\" tokens\"}}],\"usage\":null}\n\n");
        }
        sse.append("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":31,\"completion_tokens\":250,")
           .append("\"total_tokens\":281,\"prompt_tokens_details\":{\"cached_tokens\":16}}}\n\ndata: [DONE]\n\n");
        byte[] bytes = sse.toString().getBytes(StandardCharsets.UTF_8);

        for (int piece : new int[] {1, 2, 3, 7, 64, 4096}) {
            UsageScanner fromArrays = new UsageScanner();
            UsageScanner fromBuffers = new UsageScanner();
            for (int i = 0; i < bytes.length; i += piece) {
                int n = Math.min(piece, bytes.length - i);
                fromArrays.scan(bytes, i, n);
                ByteBuffer direct = ByteBuffer.allocateDirect(n).put(bytes, i, n).flip();
                fromBuffers.scan(direct);
            }

            for (UsageScanner s : new UsageScanner[] {fromArrays, fromBuffers}) {
                assertEquals(31, s.promptTokens(), "pieces of " + piece);
                assertEquals(250, s.completionTokens(), "pieces of " + piece);
                assertEquals(281, s.totalTokens(), "pieces of " + piece);
                assertEquals(16, s.cachedTokens(), "pieces of " + piece);
            }
        }
    }
}
