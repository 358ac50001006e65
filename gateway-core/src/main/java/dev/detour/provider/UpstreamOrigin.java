package dev.detour.provider;

import java.net.URI;
import java.util.Locale;
import java.util.Objects;

/**
 * Where an upstream lives: scheme, host and port, plus the base path of its API.
 *
 * @param tls      whether to speak HTTPS
 * @param host     host name or address
 * @param port     TCP port
 * @param basePath path prefix without a trailing slash, e.g. {@code /v1}; may be empty
 */
public record UpstreamOrigin(boolean tls, String host, int port, String basePath) {

    public UpstreamOrigin {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(basePath, "basePath");
    }

    /**
     * Returns the origin of {@code baseUrl}.
     *
     * @throws IllegalArgumentException if it is not an absolute http or https URL with a host
     */
    public static UpstreamOrigin of(URI baseUrl) {
        String scheme = baseUrl.getScheme() == null ? "" : baseUrl.getScheme().toLowerCase(Locale.ROOT);
        boolean tls;
        if ("https".equals(scheme)) {
            tls = true;
        } else if ("http".equals(scheme)) {
            tls = false;
        } else {
            throw new IllegalArgumentException("base-url: " + baseUrl + " (expected: an http or https URL)");
        }
        if (baseUrl.getHost() == null) {
            throw new IllegalArgumentException("base-url: " + baseUrl + " (expected: a host)");
        }
        int port = baseUrl.getPort() >= 0 ? baseUrl.getPort() : tls ? 443 : 80;
        String path = baseUrl.getRawPath() == null ? "" : baseUrl.getRawPath();
        while (path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        return new UpstreamOrigin(tls, baseUrl.getHost(), port, path);
    }

    /** Returns the {@code Host} header value: the host, with the port unless it is the scheme's default. */
    public String hostHeader() {
        boolean defaultPort = tls ? port == 443 : port == 80;
        String h = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
        return defaultPort ? h : h + ':' + port;
    }

    @Override
    public String toString() {
        return (tls ? "https://" : "http://") + hostHeader() + basePath;
    }
}
