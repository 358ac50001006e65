package dev.detour.provider.compat;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class KeyScannerTest {

    private static final KeyScanner SEED = KeyScanner.of(List.of("seed", "logprobs"));

    @Test
    void findsTopLevelKey() {
        assertTrue(SEED.matches(in("{\"model\":\"m\",\"seed\":1}")));
    }

    @Test
    void findsKeyWithWhitespaceBeforeColon() {
        assertTrue(SEED.matches(in("{ \"logprobs\" \n\t : true }")));
    }

    @Test
    void ignoresTheNameAsAStringValue() {
        assertFalse(SEED.matches(in("{\"model\":\"seed\",\"messages\":[{\"role\":\"user\",\"content\":\"seed\"}]}")));
    }

    @Test
    void ignoresTheNameQuotedInsideAString() {
        assertFalse(SEED.matches(in("{\"content\":\"say \\\"seed\\\": 3\"}")));
    }

    @Test
    void ignoresLongerAndShorterKeys() {
        assertFalse(SEED.matches(in("{\"seeds\":1,\"see\":2,\"random_seed\":3}")));
    }

    @Test
    void findsKeyAtAnyDepth() {
        assertTrue(SEED.matches(in("{\"tools\":[{\"parameters\":{\"properties\":{\"seed\":{}}}}]}")));
    }

    @Test
    void findsKeySplitAcrossReadChunks() {
        String padding = "x".repeat(8192 - 20);
        String json = "{\"content\":\"" + padding + "\",\"seed\":1}";

        assertTrue(SEED.matches(in(json)));
    }

    @Test
    void answersFalseForEmptyBody() {
        assertFalse(SEED.matches(in("")));
    }

    private static InputStream in(String s) {
        return new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8));
    }
}
