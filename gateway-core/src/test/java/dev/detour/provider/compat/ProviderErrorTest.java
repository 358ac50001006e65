package dev.detour.provider.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ProviderErrorTest {

    @Test
    void readsOpenAiEnvelopeAsStandard() {
        ProviderError e = parse(AdapterFixtures.fixture("compat/groq-429-tpm.json"));

        assertTrue(e.standard());
        assertEquals("tokens", e.type());
        assertEquals("rate_limit_exceeded", e.code());
        assertTrue(e.message().startsWith("Rate limit reached"));
    }

    @Test
    void readsNumericCodeAsTextAndIsNotStandard() {
        ProviderError e = parse(AdapterFixtures.fixture("compat/openrouter-402.json"));

        assertEquals("402", e.code());
        assertFalse(e.standard(), "SDKs expect a string code");
        assertTrue(e.message().startsWith("Insufficient credits"));
    }

    @Test
    void readsMistralsFlatShape() {
        ProviderError e = parse(AdapterFixtures.fixture("compat/mistral-429.json"));

        assertEquals("Rate limit exceeded", e.message());
        assertEquals("rate_limited", e.type());
        assertEquals("1300", e.code());
        assertFalse(e.standard());
    }

    @Test
    void rendersStructuredMessageAsJsonText() {
        ProviderError e = parse(AdapterFixtures.fixture("compat/mistral-422.json"));

        assertTrue(e.message().contains("extra_forbidden"), e.message());
        assertTrue(e.message().contains("frequency_penalty_x"), e.message());
    }

    @Test
    void readsXaiStringError() {
        ProviderError e = parse(AdapterFixtures.fixture("compat/xai-429-credits.json"));

        assertTrue(e.mentions("USED ALL AVAILABLE CREDITS"));
        assertNull(e.code());
    }

    @Test
    void readsFastApiDetail() {
        ProviderError e = parse("{\"detail\":\"Not authenticated\"}");

        assertEquals("Not authenticated", e.message());
    }

    @Test
    void findsNothingInHtmlOrEmptyBodies() {
        byte[] html = "<html>502 Bad Gateway</html>".getBytes(StandardCharsets.UTF_8);

        assertEquals(Optional.empty(), ProviderError.parse(html));
        assertEquals(Optional.empty(), ProviderError.parse(new byte[0]));
        assertEquals(Optional.empty(), ProviderError.parse("{\"ok\":true}".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void rewritesIntoOpenAiEnvelope() {
        ProviderError e = parse(AdapterFixtures.fixture("compat/openrouter-402.json"));

        String envelope = new String(e.toEnvelope("insufficient_quota"), StandardCharsets.UTF_8);

        assertEquals(AdapterFixtures.tree("{\"error\":{\"message\":\"Insufficient credits. Add more using "
                                          + "https://openrouter.ai/settings/credits\",\"type\":\"insufficient_quota\","
                                          + "\"param\":null,\"code\":\"402\"}}"),
                     AdapterFixtures.tree(envelope));
    }

    private static ProviderError parse(String json) {
        return ProviderError.parse(json.getBytes(StandardCharsets.UTF_8)).orElseThrow();
    }
}
