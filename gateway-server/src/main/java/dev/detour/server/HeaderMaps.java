package dev.detour.server;

import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;

/**
 * Header maps for the messages Detour writes itself.
 *
 * <p>Netty checks every header name and value it is given for characters that would break the message
 * (a CR or LF in a value, a space in a name). The messages Detour writes carry only names and values that
 * are already safe: its own constants, headers Netty decoded from a peer (split at line ends, so they hold
 * none), and config values refused at load time when they hold line breaks or NUL. Checking them again per
 * request showed up in profiles ({@code HttpUtil.isValidTokenChar}), so these maps skip it. Maps for what a
 * peer sends keep Netty's validation.
 */
public final class HeaderMaps {

    private static final HttpHeadersFactory UNVALIDATED =
            DefaultHttpHeadersFactory.headersFactory().withValidation(false);

    private HeaderMaps() {
    }

    /** Returns a new, empty map that does not validate names and values. */
    public static HttpHeaders unvalidated() {
        return UNVALIDATED.newHeaders();
    }
}
