package dev.detour.server.accesslog;

import static dev.detour.server.accesslog.LineBuffer.ascii;

/**
 * The two access-log line formats, written straight into a {@link LineBuffer}: key=value text and one JSON object.
 * Stateless. The bytes are those of the {@code StringBuilder} lines Detour wrote before it had its own writer
 * (guarded by golden lines in {@code LineFormatTest}); operators' parsers depend on them.
 */
final class LineFormat {

    private static final byte[] DASH = ascii("-");
    private static final byte[] NULL = ascii("null");
    private static final byte[] DOUBLE_ZERO = ascii("00");
    private static final byte[] ZERO = ascii("0");

    private static final byte[] T_REQUEST_ID = ascii("request_id=");
    private static final byte[] T_CLIENT = ascii(" client=");
    private static final byte[] T_METHOD = ascii(" method=");
    private static final byte[] T_PATH = ascii(" path=");
    private static final byte[] T_MODEL = ascii(" model=");
    private static final byte[] T_PROVIDER = ascii(" provider=");
    private static final byte[] T_UPSTREAM_MODEL = ascii(" upstream_model=");
    private static final byte[] T_KEY_ID = ascii(" key_id=");
    private static final byte[] T_POLICY = ascii(" policy=");
    private static final byte[] T_ATTEMPTS = ascii(" attempts=");
    private static final byte[] T_STATUS = ascii(" status=");
    private static final byte[] T_BYTES_IN = ascii(" bytes_in=");
    private static final byte[] T_BYTES_OUT = ascii(" bytes_out=");
    private static final byte[] T_LATENCY_MS = ascii(" latency_ms=");
    private static final byte[] T_UPSTREAM_MS = ascii(" upstream_ms=");
    private static final byte[] T_PROMPT_TOKENS = ascii(" prompt_tokens=");
    private static final byte[] T_COMPLETION_TOKENS = ascii(" completion_tokens=");
    private static final byte[] T_CACHED_TOKENS = ascii(" cached_tokens=");
    private static final byte[] T_COST_USD = ascii(" cost_usd=");
    private static final byte[] T_CACHE = ascii(" cache=");
    private static final byte[] T_OUTCOME = ascii(" outcome=");

    private static final byte[] J_REQUEST_ID = ascii("{\"request_id\":\"");
    private static final byte[] J_CLIENT = ascii("\",\"client\":\"");
    private static final byte[] J_METHOD = ascii("\",\"method\":\"");
    private static final byte[] J_PATH = ascii("\",\"path\":\"");
    private static final byte[] J_MODEL = ascii("\",\"model\":\"");
    private static final byte[] J_PROVIDER = ascii("\",\"provider\":\"");
    private static final byte[] J_UPSTREAM_MODEL = ascii("\",\"upstream_model\":\"");
    private static final byte[] J_KEY_ID = ascii("\",\"key_id\":\"");
    private static final byte[] J_POLICY = ascii("\",\"policy\":\"");
    private static final byte[] J_ATTEMPTS = ascii("\",\"attempts\":");
    private static final byte[] J_STATUS = ascii(",\"status\":");
    private static final byte[] J_BYTES_IN = ascii(",\"bytes_in\":");
    private static final byte[] J_BYTES_OUT = ascii(",\"bytes_out\":");
    private static final byte[] J_LATENCY_MS = ascii(",\"latency_ms\":");
    private static final byte[] J_UPSTREAM_MS = ascii(",\"upstream_ms\":");
    private static final byte[] J_PROMPT_TOKENS = ascii(",\"prompt_tokens\":");
    private static final byte[] J_COMPLETION_TOKENS = ascii(",\"completion_tokens\":");
    private static final byte[] J_CACHED_TOKENS = ascii(",\"cached_tokens\":");
    private static final byte[] J_COST_USD = ascii(",\"cost_usd\":");
    private static final byte[] J_CACHE = ascii(",\"cache\":\"");
    private static final byte[] J_OUTCOME = ascii("\",\"outcome\":\"");
    private static final byte[] J_END = ascii("\"}");

    private LineFormat() {
    }

    /** Appends {@code e} as key=value text, without a line separator. */
    static void text(AccessLog.Entry e, LineBuffer b) {
        value(b.put(T_REQUEST_ID), e.requestId);
        value(b.put(T_CLIENT), e.client);
        value(b.put(T_METHOD), e.method);
        value(b.put(T_PATH), e.path);
        value(b.put(T_MODEL), e.model);
        value(b.put(T_PROVIDER), e.provider);
        value(b.put(T_UPSTREAM_MODEL), e.upstreamModel);
        value(b.put(T_KEY_ID), e.keyId);
        value(b.put(T_POLICY), e.policy);
        b.put(T_ATTEMPTS).digits(e.attempts);
        b.put(T_STATUS).digits(e.status);
        b.put(T_BYTES_IN).digits(e.bytesIn);
        b.put(T_BYTES_OUT).digits(e.bytesOut);
        millis(b.put(T_LATENCY_MS), e.latencyNanos);
        b.put(T_UPSTREAM_MS);
        if (e.upstreamNanos < 0) {
            b.put(DASH);
        } else {
            millis(b, e.upstreamNanos);
        }
        countOr(b.put(T_PROMPT_TOKENS), e.promptTokens, DASH);
        countOr(b.put(T_COMPLETION_TOKENS), e.completionTokens, DASH);
        countOr(b.put(T_CACHED_TOKENS), e.cachedTokens, DASH);
        b.put(T_COST_USD);
        if (e.costMicros < 0) {
            b.put(DASH);
        } else {
            usd(b, e.costMicros);
        }
        // Detour's own labels, written as they are (a null label shows as null, as StringBuilder wrote it).
        b.put(T_CACHE).utf8(e.cache == null ? "null" : e.cache);
        b.put(T_OUTCOME).utf8(e.outcome == null ? "null" : e.outcome);
    }

    /** Appends {@code e} as one JSON object, without a line separator. */
    static void json(AccessLog.Entry e, LineBuffer b) {
        string(b.put(J_REQUEST_ID), e.requestId);
        string(b.put(J_CLIENT), e.client);
        string(b.put(J_METHOD), e.method);
        string(b.put(J_PATH), e.path);
        string(b.put(J_MODEL), e.model);
        string(b.put(J_PROVIDER), e.provider);
        string(b.put(J_UPSTREAM_MODEL), e.upstreamModel);
        string(b.put(J_KEY_ID), e.keyId);
        string(b.put(J_POLICY), e.policy);
        b.put(J_ATTEMPTS).digits(e.attempts);
        b.put(J_STATUS).digits(e.status);
        b.put(J_BYTES_IN).digits(e.bytesIn);
        b.put(J_BYTES_OUT).digits(e.bytesOut);
        millis(b.put(J_LATENCY_MS), e.latencyNanos);
        b.put(J_UPSTREAM_MS);
        if (e.upstreamNanos < 0) {
            b.put(NULL);
        } else {
            millis(b, e.upstreamNanos);
        }
        countOr(b.put(J_PROMPT_TOKENS), e.promptTokens, NULL);
        countOr(b.put(J_COMPLETION_TOKENS), e.completionTokens, NULL);
        countOr(b.put(J_CACHED_TOKENS), e.cachedTokens, NULL);
        b.put(J_COST_USD);
        if (e.costMicros < 0) {
            b.put(NULL);
        } else {
            usd(b, e.costMicros);
        }
        string(b.put(J_CACHE), e.cache);
        string(b.put(J_OUTCOME), e.outcome);
        b.put(J_END);
    }

    /**
     * Appends a client-influenced value (the model name, the path) so that it cannot forge a log line or a field:
     * values with spaces, quotes, backslashes, {@code =} or control characters are quoted and escaped.
     */
    private static void value(LineBuffer b, String v) {
        String text = v == null ? "-" : v;
        if (b.putIfBare(text)) {
            return;
        }
        b.put((byte) '"').jsonEscaped(text).put((byte) '"');
    }

    /** Appends the inside of a JSON string; its quotes are part of the field names around it. */
    private static void string(LineBuffer b, String v) {
        String text = v == null ? "-" : v;
        if (!b.putIfJsonSafe(text)) {
            b.jsonEscaped(text);
        }
    }

    private static void countOr(LineBuffer b, long count, byte[] none) {
        if (count < 0) {
            b.put(none);
        } else {
            b.digits(count);
        }
    }

    /** Appends micro-dollars as USD with six decimals, e.g. {@code 0.000425}: exact, and a plain JSON number. */
    private static void usd(LineBuffer b, long micros) {
        long frac = micros % 1_000_000;
        b.digits(micros / 1_000_000).put((byte) '.');
        for (int pad = 6 - LineBuffer.stringLength(frac); pad > 0; pad--) {
            b.put((byte) '0');
        }
        b.digits(frac);
    }

    /** Appends nanoseconds as milliseconds with three decimals, e.g. {@code 411.374}. */
    private static void millis(LineBuffer b, long nanos) {
        long micros = nanos / 1000;
        long frac = micros % 1000;
        b.digits(micros / 1000).put((byte) '.');
        if (frac < 10) {
            b.put(DOUBLE_ZERO);
        } else if (frac < 100) {
            b.put(ZERO);
        }
        b.digits(frac);
    }
}
