package dev.detour.server.accesslog;

import com.fasterxml.jackson.core.io.JsonStringEncoder;

/**
 * The access-log formatting Detour had before {@link LineFormat}: lines built in a {@code StringBuilder} and
 * encoded by Logback. Kept as the reference {@code LineFormatTest} compares every generated entry against.
 */
final class ReferenceLineFormat {

    private ReferenceLineFormat() {
    }

    static String toText(AccessLog.Entry e) {
        StringBuilder sb = new StringBuilder(192);
        sb.append("request_id=");
        value(sb, e.requestId);
        sb.append(" client=");
        value(sb, e.client);
        sb.append(" method=");
        value(sb, e.method);
        sb.append(" path=");
        value(sb, e.path);
        sb.append(" model=");
        value(sb, e.model);
        sb.append(" provider=");
        value(sb, e.provider);
        sb.append(" upstream_model=");
        value(sb, e.upstreamModel);
        sb.append(" key_id=");
        value(sb, e.keyId);
        sb.append(" policy=");
        value(sb, e.policy);
        sb.append(" attempts=").append(e.attempts)
          .append(" status=").append(e.status)
          .append(" bytes_in=").append(e.bytesIn)
          .append(" bytes_out=").append(e.bytesOut)
          .append(" latency_ms=").append(millis(e.latencyNanos))
          .append(" upstream_ms=").append(e.upstreamNanos < 0 ? "-" : millis(e.upstreamNanos))
          .append(" prompt_tokens=").append(e.promptTokens < 0 ? "-" : Long.toString(e.promptTokens))
          .append(" completion_tokens=").append(e.completionTokens < 0 ? "-" : Long.toString(e.completionTokens))
          .append(" cached_tokens=").append(e.cachedTokens < 0 ? "-" : Long.toString(e.cachedTokens))
          .append(" cost_usd=").append(e.costMicros < 0 ? "-" : usd(e.costMicros))
          .append(" cache=").append(e.cache)
          .append(" outcome=").append(e.outcome);
        return sb.toString();
    }

    /**
     * Appends a client-influenced value (the model name, the path) so that it cannot forge a log line
     * or a field: values with spaces, quotes, backslashes or control characters are quoted and escaped.
     */
    private static void value(StringBuilder sb, String v) {
        String text = v == null ? "-" : v;
        boolean plain = !text.isEmpty();
        for (int i = 0; i < text.length() && plain; i++) {
            char c = text.charAt(i);
            plain = c > ' ' && c != '"' && c != '\\' && c != '=' && c < 0x7f;
        }
        if (plain) {
            sb.append(text);
            return;
        }
        sb.append('"');
        JsonStringEncoder.getInstance().quoteAsString(text, sb);
        sb.append('"');
    }

    static String toJson(AccessLog.Entry e) {
        StringBuilder sb = new StringBuilder(256);
        sb.append('{');
        field(sb, "request_id", e.requestId).append(',');
        field(sb, "client", e.client).append(',');
        field(sb, "method", e.method).append(',');
        field(sb, "path", e.path).append(',');
        field(sb, "model", e.model).append(',');
        field(sb, "provider", e.provider).append(',');
        field(sb, "upstream_model", e.upstreamModel).append(',');
        field(sb, "key_id", e.keyId).append(',');
        field(sb, "policy", e.policy).append(',');
        sb.append("\"attempts\":").append(e.attempts).append(',');
        sb.append("\"status\":").append(e.status).append(',');
        sb.append("\"bytes_in\":").append(e.bytesIn).append(',');
        sb.append("\"bytes_out\":").append(e.bytesOut).append(',');
        sb.append("\"latency_ms\":").append(millis(e.latencyNanos)).append(',');
        sb.append("\"upstream_ms\":").append(e.upstreamNanos < 0 ? "null" : millis(e.upstreamNanos)).append(',');
        sb.append("\"prompt_tokens\":").append(e.promptTokens < 0 ? "null" : Long.toString(e.promptTokens)).append(',');
        sb.append("\"completion_tokens\":").append(e.completionTokens < 0 ? "null" : Long.toString(e.completionTokens))
          .append(',');
        sb.append("\"cached_tokens\":").append(e.cachedTokens < 0 ? "null" : Long.toString(e.cachedTokens)).append(',');
        sb.append("\"cost_usd\":").append(e.costMicros < 0 ? "null" : usd(e.costMicros)).append(',');
        field(sb, "cache", e.cache).append(',');
        field(sb, "outcome", e.outcome);
        return sb.append('}').toString();
    }

    private static StringBuilder field(StringBuilder sb, String name, String value) {
        sb.append('"').append(name).append("\":\"");
        JsonStringEncoder.getInstance().quoteAsString(value == null ? "-" : value, sb);
        return sb.append('"');
    }

    /** Returns micro-dollars as USD with six decimals, e.g. {@code 0.000425}: exact, and a plain JSON number. */
    private static String usd(long micros) {
        long frac = micros % 1_000_000;
        String digits = Long.toString(frac);
        return micros / 1_000_000 + "." + "000000".substring(digits.length()) + digits;
    }

    private static String millis(long nanos) {
        long micros = nanos / 1000;
        long ms = micros / 1000;
        long frac = micros % 1000;
        return ms + "." + (frac < 10 ? "00" : frac < 100 ? "0" : "") + frac;
    }
}
