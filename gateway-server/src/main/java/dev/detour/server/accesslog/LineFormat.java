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

    /** key=value text: a missing value is {@code -}; Detour's own labels go out as they are. */
    private static final Style TEXT = new Style(false, DASH, ascii("request_id="), ascii(" client="),
            ascii(" method="), ascii(" path="), ascii(" model="), ascii(" provider="), ascii(" upstream_model="),
            ascii(" key_id="), ascii(" policy="), ascii(" attempts="), ascii(" status="), ascii(" bytes_in="),
            ascii(" bytes_out="), ascii(" latency_ms="), ascii(" upstream_ms="), ascii(" prompt_tokens="),
            ascii(" completion_tokens="), ascii(" cached_tokens="), ascii(" cost_usd="), ascii(" cache="),
            ascii(" outcome="), new byte[0]);
    /** One JSON object: a missing number is {@code null}; each name carries the quotes of the strings around it. */
    private static final Style JSON = new Style(true, NULL, ascii("{\"request_id\":\""), ascii("\",\"client\":\""),
            ascii("\",\"method\":\""), ascii("\",\"path\":\""), ascii("\",\"model\":\""), ascii("\",\"provider\":\""),
            ascii("\",\"upstream_model\":\""), ascii("\",\"key_id\":\""), ascii("\",\"policy\":\""),
            ascii("\",\"attempts\":"), ascii(",\"status\":"), ascii(",\"bytes_in\":"), ascii(",\"bytes_out\":"),
            ascii(",\"latency_ms\":"), ascii(",\"upstream_ms\":"), ascii(",\"prompt_tokens\":"),
            ascii(",\"completion_tokens\":"), ascii(",\"cached_tokens\":"), ascii(",\"cost_usd\":"),
            ascii(",\"cache\":\""), ascii("\",\"outcome\":\""), ascii("\"}"));

    private LineFormat() {
    }

    /** Appends {@code e} as key=value text, without a line separator. */
    static void text(AccessLog.Entry e, LineBuffer b) {
        write(e, b, TEXT);
    }

    /** Appends {@code e} as one JSON object, without a line separator. */
    static void json(AccessLog.Entry e, LineBuffer b) {
        write(e, b, JSON);
    }

    /** The two formats share their fields and order; they differ in names, missing values and escaping. */
    private static void write(AccessLog.Entry e, LineBuffer b, Style s) {
        s.value(b.put(s.requestId), e.requestId);
        s.value(b.put(s.client), e.client);
        s.value(b.put(s.method), e.method);
        s.value(b.put(s.path), e.path);
        s.value(b.put(s.model), e.model);
        s.value(b.put(s.provider), e.provider);
        s.value(b.put(s.upstreamModel), e.upstreamModel);
        s.value(b.put(s.keyId), e.keyId);
        s.value(b.put(s.policy), e.policy);
        b.put(s.attempts).digits(e.attempts);
        b.put(s.status).digits(e.status);
        b.put(s.bytesIn).digits(e.bytesIn);
        b.put(s.bytesOut).digits(e.bytesOut);
        millis(b.put(s.latencyMs), e.latencyNanos);
        b.put(s.upstreamMs);
        if (e.upstreamNanos < 0) {
            b.put(s.none);
        } else {
            millis(b, e.upstreamNanos);
        }
        countOr(b.put(s.promptTokens), e.promptTokens, s.none);
        countOr(b.put(s.completionTokens), e.completionTokens, s.none);
        countOr(b.put(s.cachedTokens), e.cachedTokens, s.none);
        b.put(s.costUsd);
        if (e.costMicros < 0) {
            b.put(s.none);
        } else {
            usd(b, e.costMicros);
        }
        s.label(b.put(s.cache), e.cache);
        s.label(b.put(s.outcome), e.outcome);
        b.put(s.end);
    }

    /** A format's field names (with the separators before them), its mark for a missing number, and its end. */
    private record Style(boolean json, byte[] none, byte[] requestId, byte[] client, byte[] method, byte[] path,
                         byte[] model, byte[] provider, byte[] upstreamModel, byte[] keyId, byte[] policy,
                         byte[] attempts, byte[] status, byte[] bytesIn, byte[] bytesOut, byte[] latencyMs,
                         byte[] upstreamMs, byte[] promptTokens, byte[] completionTokens, byte[] cachedTokens,
                         byte[] costUsd, byte[] cache, byte[] outcome, byte[] end) {

        /** Appends a value a client may influence. */
        void value(LineBuffer b, String v) {
            if (json) {
                string(b, v);
            } else {
                LineFormat.value(b, v);
            }
        }

        /** Appends one of Detour's own labels (a null label shows as null in text, as StringBuilder wrote it). */
        void label(LineBuffer b, String v) {
            if (json) {
                string(b, v);
            } else {
                b.utf8(v == null ? "null" : v);
            }
        }
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
