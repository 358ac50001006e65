package dev.detour.server.accesslog;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The formats operators parse stay what they were, byte for byte: golden lines written by the formatter Detour had
 * before its own writer, and generated entries compared against that formatter ({@link ReferenceLineFormat}).
 */
class LineFormatTest {

    /** A routed chat completion, every field set. */
    private static AccessLog.Entry served() {
        AccessLog.Entry e = new AccessLog.Entry();
        e.requestId = "req_0864a49203a74b4064a106cc";
        e.client = "web-app";
        e.method = "POST";
        e.path = "/v1/chat/completions";
        e.model = "gpt-4o-mini";
        e.provider = "anthropic";
        e.upstreamModel = "claude-haiku-4-5";
        e.keyId = "main";
        e.policy = "pro-tier";
        e.attempts = 2;
        e.status = 200;
        e.bytesIn = 76;
        e.bytesOut = 345;
        e.latencyNanos = 411_374_512;
        e.upstreamNanos = 3_699_001;
        e.promptTokens = 25;
        e.completionTokens = 9;
        e.cachedTokens = 0;
        e.costMicros = 70;
        e.cache = "hit";
        return e;
    }

    /** Values a client controls, and numbers at their limits. */
    private static AccessLog.Entry hostile() {
        AccessLog.Entry e = new AccessLog.Entry();
        e.requestId = "req_2";
        e.client = null;
        e.method = "GET";
        e.path = "/v1/a=b c\"d\\e";
        e.model = "mod\u00e8le \ud83d\ude00 \u6a21\u578b";
        e.provider = "tab\there";
        e.upstreamModel = "nl\nret\r\u0001\u001f\u007f";
        e.keyId = "";
        e.policy = "\ud800lone";
        e.attempts = -3;
        e.status = 0;
        e.bytesIn = Long.MAX_VALUE;
        e.bytesOut = Long.MIN_VALUE;
        e.latencyNanos = 999;
        e.upstreamNanos = 0;
        e.promptTokens = 0;
        e.completionTokens = Long.MAX_VALUE;
        e.cachedTokens = 7;
        e.costMicros = 0;
        e.cache = "stale";
        e.outcome = "client_closed";
        return e;
    }

    /** Odd values no request produces today, written the way the old formatter wrote them all the same. */
    private static AccessLog.Entry odd() {
        AccessLog.Entry e = new AccessLog.Entry();
        e.requestId = "r";
        e.model = "\u00e9";
        e.path = "/\u0080\u00ff";
        e.latencyNanos = -1_234_567;
        e.upstreamNanos = 1_000_000_000_000L;
        e.costMicros = 123_456_789_012L;
        e.promptTokens = 1;
        e.cache = null;
        e.outcome = "x y";
        return e;
    }

    @Test
    void writesGoldenTextLines() {
        assertBytes("request_id=req_0864a49203a74b4064a106cc client=web-app method=POST path=/v1/chat/completions "
                    + "model=gpt-4o-mini provider=anthropic upstream_model=claude-haiku-4-5 key_id=main "
                    + "policy=pro-tier attempts=2 status=200 bytes_in=76 bytes_out=345 latency_ms=411.374 "
                    + "upstream_ms=3.699 prompt_tokens=25 completion_tokens=9 cached_tokens=0 cost_usd=0.000070 "
                    + "cache=hit outcome=ok", text(served()));
        assertBytes("request_id=- client=- method=- path=- model=- provider=- upstream_model=- key_id=- policy=- "
                    + "attempts=0 status=0 bytes_in=0 bytes_out=0 latency_ms=0.000 upstream_ms=- prompt_tokens=- "
                    + "completion_tokens=- cached_tokens=- cost_usd=- cache=- outcome=ok",
                    text(new AccessLog.Entry()));
        assertBytes("request_id=req_2 client=- method=GET path=\"/v1/a=b c\\\"d\\\\e\" "
                    + "model=\"mod\u00e8le \ud83d\ude00 \u6a21\u578b\" provider=\"tab\\there\" "
                    + "upstream_model=\"nl\\nret\\r\\u0001\\u001F\u007f\" key_id=\"\" policy=\"\ud800lone\" "
                    + "attempts=-3 status=0 bytes_in=9223372036854775807 bytes_out=-9223372036854775808 "
                    + "latency_ms=0.000 upstream_ms=0.000 prompt_tokens=0 completion_tokens=9223372036854775807 "
                    + "cached_tokens=7 cost_usd=0.000000 cache=stale outcome=client_closed", text(hostile()));
        assertBytes("request_id=r client=- method=- path=\"/\u0080\u00ff\" model=\"\u00e9\" provider=- "
                    + "upstream_model=- key_id=- policy=- attempts=0 status=0 bytes_in=0 bytes_out=0 "
                    + "latency_ms=-1.00-234 upstream_ms=1000000.000 prompt_tokens=1 completion_tokens=- "
                    + "cached_tokens=- cost_usd=123456.789012 cache=null outcome=x y", text(odd()));
    }

    @Test
    void writesGoldenJsonLines() {
        assertBytes("{\"request_id\":\"req_0864a49203a74b4064a106cc\",\"client\":\"web-app\",\"method\":\"POST\","
                    + "\"path\":\"/v1/chat/completions\",\"model\":\"gpt-4o-mini\",\"provider\":\"anthropic\","
                    + "\"upstream_model\":\"claude-haiku-4-5\",\"key_id\":\"main\",\"policy\":\"pro-tier\","
                    + "\"attempts\":2,\"status\":200,\"bytes_in\":76,\"bytes_out\":345,\"latency_ms\":411.374,"
                    + "\"upstream_ms\":3.699,\"prompt_tokens\":25,\"completion_tokens\":9,\"cached_tokens\":0,"
                    + "\"cost_usd\":0.000070,\"cache\":\"hit\",\"outcome\":\"ok\"}", json(served()));
        assertBytes("{\"request_id\":\"-\",\"client\":\"-\",\"method\":\"-\",\"path\":\"-\",\"model\":\"-\","
                    + "\"provider\":\"-\",\"upstream_model\":\"-\",\"key_id\":\"-\",\"policy\":\"-\",\"attempts\":0,"
                    + "\"status\":0,\"bytes_in\":0,\"bytes_out\":0,\"latency_ms\":0.000,\"upstream_ms\":null,"
                    + "\"prompt_tokens\":null,\"completion_tokens\":null,\"cached_tokens\":null,\"cost_usd\":null,"
                    + "\"cache\":\"-\",\"outcome\":\"ok\"}", json(new AccessLog.Entry()));
        assertBytes("{\"request_id\":\"req_2\",\"client\":\"-\",\"method\":\"GET\",\"path\":\"/v1/a=b c\\\"d\\\\e\","
                    + "\"model\":\"mod\u00e8le \ud83d\ude00 \u6a21\u578b\",\"provider\":\"tab\\there\","
                    + "\"upstream_model\":\"nl\\nret\\r\\u0001\\u001F\u007f\",\"key_id\":\"\","
                    + "\"policy\":\"\ud800lone\",\"attempts\":-3,\"status\":0,\"bytes_in\":9223372036854775807,"
                    + "\"bytes_out\":-9223372036854775808,\"latency_ms\":0.000,\"upstream_ms\":0.000,"
                    + "\"prompt_tokens\":0,\"completion_tokens\":9223372036854775807,\"cached_tokens\":7,"
                    + "\"cost_usd\":0.000000,\"cache\":\"stale\",\"outcome\":\"client_closed\"}", json(hostile()));
        assertBytes("{\"request_id\":\"r\",\"client\":\"-\",\"method\":\"-\",\"path\":\"/\u0080\u00ff\","
                    + "\"model\":\"\u00e9\",\"provider\":\"-\",\"upstream_model\":\"-\",\"key_id\":\"-\","
                    + "\"policy\":\"-\",\"attempts\":0,\"status\":0,\"bytes_in\":0,\"bytes_out\":0,"
                    + "\"latency_ms\":-1.00-234,\"upstream_ms\":1000000.000,\"prompt_tokens\":1,"
                    + "\"completion_tokens\":null,\"cached_tokens\":null,\"cost_usd\":123456.789012,\"cache\":\"-\","
                    + "\"outcome\":\"x y\"}", json(odd()));
    }

    @Test
    void writesWhatTheOldFormatterWroteForGeneratedEntries() {
        Random random = new Random(20261122);
        for (int i = 0; i < 20_000; i++) {
            AccessLog.Entry e = generated(random);

            assertArrayEquals(utf8(ReferenceLineFormat.toText(e)), text(e), () -> "text of " + describe(e));
            assertArrayEquals(utf8(ReferenceLineFormat.toJson(e)), json(e), () -> "JSON of " + describe(e));
        }
    }

    @Test
    void givesLogbackTheSameLineAsAString() {
        AccessLog.Entry e = hostile();

        e.json = false;
        assertArrayEquals(utf8(ReferenceLineFormat.toText(e)), utf8(AccessLog.format(e)));
        e.json = true;
        assertArrayEquals(utf8(ReferenceLineFormat.toJson(e)), utf8(AccessLog.format(e)));
    }

    @Test
    void growsForLongValuesAndShrinksBackOnceCleared() {
        AccessLog.Entry e = served();
        e.model = "m\u00e9".repeat(200_000);
        LineBuffer buffer = new LineBuffer(64);

        LineFormat.json(e, buffer);

        assertArrayEquals(utf8(ReferenceLineFormat.toJson(e)), bytes(buffer));
        buffer.clear();
        LineFormat.text(served(), buffer);
        assertArrayEquals(utf8(ReferenceLineFormat.toText(served())), bytes(buffer));
    }

    static byte[] text(AccessLog.Entry e) {
        LineBuffer buffer = new LineBuffer(16);
        LineFormat.text(e, buffer);
        return bytes(buffer);
    }

    static byte[] json(AccessLog.Entry e) {
        LineBuffer buffer = new LineBuffer(16);
        LineFormat.json(e, buffer);
        return bytes(buffer);
    }

    private static byte[] bytes(LineBuffer buffer) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            buffer.writeTo(out, 0, buffer.size());
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return out.toByteArray();
    }

    /** The old lines went through Logback's encoder: {@link String#getBytes} in the platform charset, UTF-8. */
    private static byte[] utf8(String line) {
        return line.getBytes(StandardCharsets.UTF_8);
    }

    /** Compares bytes, first as text for a readable difference (a lone surrogate reads back as {@code ?}). */
    private static void assertBytes(String expected, byte[] actual) {
        assertEquals(new String(utf8(expected), StandardCharsets.UTF_8), new String(actual, StandardCharsets.UTF_8));
        assertArrayEquals(utf8(expected), actual, expected);
    }

    private static AccessLog.Entry generated(Random r) {
        AccessLog.Entry e = new AccessLog.Entry();
        e.requestId = string(r);
        e.client = string(r);
        e.method = string(r);
        e.path = string(r);
        e.model = string(r);
        e.provider = string(r);
        e.upstreamModel = string(r);
        e.keyId = string(r);
        e.policy = string(r);
        e.attempts = (int) number(r);
        e.status = (int) number(r);
        e.bytesIn = number(r);
        e.bytesOut = number(r);
        e.latencyNanos = number(r);
        e.upstreamNanos = number(r);
        e.promptTokens = number(r);
        e.completionTokens = number(r);
        e.cachedTokens = number(r);
        // Never negative but -1 (none): the old formatter could not write other negative costs.
        e.costMicros = r.nextInt(4) == 0 ? -1 : Math.abs(number(r) % 1_000_000_000_000_000L);
        e.cache = r.nextInt(8) == 0 ? null : string(r);
        e.outcome = r.nextInt(8) == 0 ? null : string(r);
        return e;
    }

    /** Mostly plain ASCII, as real values are; sometimes anything a Java string can hold. */
    private static String string(Random r) {
        switch (r.nextInt(10)) {
            case 0:
                return null;
            case 1:
                return "";
            default:
                break;
        }
        boolean wild = r.nextInt(3) == 0;
        int length = r.nextInt(r.nextInt(10) == 0 ? 300 : 24);
        StringBuilder sb = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            if (!wild) {
                sb.append((char) (0x21 + r.nextInt(0x5e)));
                continue;
            }
            switch (r.nextInt(6)) {
                case 0 -> sb.append((char) r.nextInt(0x20));
                case 1 -> sb.append(" \"\\=\u007f".charAt(r.nextInt(5)));
                case 2 -> sb.append((char) (0x80 + r.nextInt(0x780)));
                case 3 -> sb.append((char) (0xd800 + r.nextInt(0x800)));
                case 4 -> sb.appendCodePoint(0x10000 + r.nextInt(0xfffff));
                default -> sb.append((char) r.nextInt(0x10000));
            }
        }
        return sb.toString();
    }

    private static long number(Random r) {
        return switch (r.nextInt(6)) {
            case 0 -> -1;
            case 1 -> r.nextInt(1000);
            case 2 -> r.nextInt();
            case 3 -> r.nextLong();
            case 4 -> r.nextBoolean() ? Long.MAX_VALUE : Long.MIN_VALUE;
            default -> r.nextInt(2_000_000_000);
        };
    }

    private static String describe(AccessLog.Entry e) {
        return "entry with model " + e.model + ", path " + e.path + ", latency " + e.latencyNanos;
    }
}
