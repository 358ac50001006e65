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
}
