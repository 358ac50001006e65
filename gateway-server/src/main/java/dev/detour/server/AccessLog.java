package dev.detour.server;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import dev.detour.config.LoggingConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes one line per request to the {@code detour.access} logger, as key=value text or one JSON object.
 *
 * <p>Thread-safe. Nothing secret goes in: no keys, no bodies, only ids and names from config.
 */
public final class AccessLog {

    private static final Logger LOG = LoggerFactory.getLogger("detour.access");

    private final boolean enabled;
    private final boolean json;

    /** Creates an access log as {@code config} says. */
    public AccessLog(LoggingConfig config) {
        this.enabled = config.accessLog();
        this.json = config.format() == LoggingConfig.Format.JSON;
    }

    /** Returns whether lines are written at all. */
    public boolean enabled() {
        return enabled && LOG.isInfoEnabled();
    }

    /** Writes the line for one finished request. */
    public void log(Entry e) {
        if (!enabled()) {
            return;
        }
        LOG.info(json ? toJson(e) : toText(e));
    }

    static String toText(Entry e) {
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

    static String toJson(Entry e) {
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

    /** The facts of one request; filled in as they become known. One per request, not thread-safe. */
    public static final class Entry {
        public String requestId = "-";
        public String client = "-";
        public String policy = "-";
        public String method = "-";
        public String path = "-";
        public String model = "-";
        public String provider = "-";
        public String upstreamModel = "-";
        public String keyId = "-";
        public int attempts;
        public int status;
        public long bytesIn;
        public long bytesOut;
        public long latencyNanos;
        public long upstreamNanos = -1;
        /** Tokens the provider reported, or -1 when none was called or it reported no usage. */
        public long promptTokens = -1;
        public long completionTokens = -1;
        /** Prompt tokens read from the provider's cache, or -1 when not reported. */
        public long cachedTokens = -1;
        /** Cost at list price in micro-dollars, or -1 when there is no usage or the model has no price. */
        public long costMicros = -1;
        /** What the response cache did: {@code hit}, {@code miss}, {@code bypass}, {@code stale}, or {@code -}. */
        public String cache = "-";
        /** {@code ok}, or how the exchange ended otherwise: {@code client_closed}, {@code upstream_broken}. */
        public String outcome = "ok";
    }
}
