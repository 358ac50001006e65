package dev.detour.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class RequestSnifferTest {

    private static SniffedRequest sniff(String body) throws InvalidRequestException {
        return RequestSniffer.sniff(new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8)));
    }

    private static String span(String body, SniffedRequest s) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        return new String(Arrays.copyOfRange(bytes, s.modelValueStart(), s.modelValueEnd()), StandardCharsets.UTF_8);
    }

    @Test
    void readsModelStreamAndUser() throws Exception {
        String body = "{\"model\":\"gpt-4o\",\"stream\":true,\"user\":\"u1\",\"messages\":[{\"a\":[1,{\"b\":null}]}]}";

        SniffedRequest s = sniff(body);

        assertEquals("gpt-4o", s.model());
        assertTrue(s.stream());
        assertEquals("u1", s.user());
        assertEquals("\"gpt-4o\"", span(body, s));
    }

    @Test
    void locatesModelValueInBytesAfterMultiByteCharacters() throws Exception {
        String body = "{ \"messages\" : [{\"content\":\"héllo wörld 🎉\"}] ,\n  \"model\" :  \"m\\u00e9\" , \"n\":1}";

        SniffedRequest s = sniff(body);

        assertEquals("mé", s.model());
        assertEquals("\"m\\u00e9\"", span(body, s));
    }

    @Test
    void readsStreamOptionsAndWhereTheObjectEnds() throws Exception {
        String asked = "{\"model\":\"m\",\"stream\":true,\"stream_options\":{\"x\":[1],\"include_usage\":true}} ";
        String plain = "{\"model\":\"m\",\"stream\":true}";

        SniffedRequest a = sniff(asked);
        SniffedRequest p = sniff(plain);

        assertTrue(a.streamOptions());
        assertTrue(a.includeUsage());
        assertFalse(p.streamOptions());
        assertFalse(p.includeUsage());
        assertEquals(plain.length() - 1, p.objectEnd());
        assertEquals('}', asked.charAt(a.objectEnd()));
    }

    @Test
    void defaultsStreamToFalseAndUserToNull() throws Exception {
        SniffedRequest s = sniff("{\"model\":\"m\",\"stream\":null}");

        assertFalse(s.stream());
        assertNull(s.user());
    }

    @Test
    void rejectsMalformedJsonWithPosition() {
        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> sniff("{\"model\":\"m\",}"));

        assertEquals("invalid_json", e.code());
        assertTrue(e.getMessage().contains("line 1"), e.getMessage());
    }

    @Test
    void rejectsTrailingData() {
        assertEquals("invalid_json",
                     assertThrows(InvalidRequestException.class, () -> sniff("{\"model\":\"m\"} {}")).code());
    }

    @Test
    void rejectsTruncatedBody() {
        assertEquals("invalid_json",
                     assertThrows(InvalidRequestException.class, () -> sniff("{\"model\":\"m\",\"x\":[1,2")).code());
    }

    @Test
    void rejectsNonObjectAndEmptyBodies() {
        assertEquals("invalid_json", assertThrows(InvalidRequestException.class, () -> sniff("[]")).code());
        assertEquals("invalid_json", assertThrows(InvalidRequestException.class, () -> sniff("")).code());
        assertEquals("invalid_json", assertThrows(InvalidRequestException.class, () -> sniff("   ")).code());
    }

    @Test
    void rejectsMissingOrBlankModel() {
        InvalidRequestException missing = assertThrows(InvalidRequestException.class, () -> sniff("{\"n\":1}"));
        InvalidRequestException blank = assertThrows(InvalidRequestException.class, () -> sniff("{\"model\":\" \"}"));

        assertEquals("missing_model", missing.code());
        assertEquals("model", missing.param());
        assertEquals("missing_model", blank.code());
    }

    @Test
    void rejectsFieldsOfWrongType() {
        assertEquals("model", assertThrows(InvalidRequestException.class, () -> sniff("{\"model\":[\"a\"]}")).param());
        assertEquals("stream",
                     assertThrows(InvalidRequestException.class, () -> sniff("{\"model\":\"m\",\"stream\":1}")).param());
        assertEquals("user",
                     assertThrows(InvalidRequestException.class, () -> sniff("{\"model\":\"m\",\"user\":{}}")).param());
    }

    @Test
    void rejectsDeeplyNestedBodies() {
        String deep = "{\"model\":\"m\",\"x\":" + "[".repeat(5000) + "]".repeat(5000) + "}";

        assertEquals("invalid_json", assertThrows(InvalidRequestException.class, () -> sniff(deep)).code());
    }
}
