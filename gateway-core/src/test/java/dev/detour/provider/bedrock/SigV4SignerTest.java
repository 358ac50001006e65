package dev.detour.provider.bedrock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.detour.filter.Headers;
import dev.detour.provider.UpstreamOrigin;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

/**
 * Checks the SDK-backed signer against fixed vectors computed independently with botocore's {@code SigV4Auth}
 * (service {@code bedrock}, region {@code us-east-1}, time 2026-11-22T12:30:45Z, the body below, the same headers
 * including {@code x-amz-content-sha256}, which the SDK signer adds), so a broken integration (wrong service,
 * path encoding, payload hash or header set) changes the signature and fails here.
 */
class SigV4SignerTest {

    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-22T12:30:45Z"), ZoneOffset.UTC);
    private static final byte[] BODY = "{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"Hi\"}]}]}"
            .getBytes(StandardCharsets.UTF_8);
    private static final UpstreamOrigin ORIGIN = new UpstreamOrigin(true, "bedrock-runtime.us-east-1.amazonaws.com",
                                                                     443, "");
    private static final String SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    @Test
    void signsLikeBotocoreWithModelIdColonEncodedTwiceInCanonicalUri() {
        Headers headers = Headers.of("content-type", "application/json", "accept", "application/json");
        BedrockCredentials credentials = new BedrockCredentials("AKIDEXAMPLE", SECRET, null);

        Headers signed = new SigV4Signer(CLOCK).sign("bedrock", "us-east-1", ORIGIN,
                "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse", headers, BODY, credentials);

        assertEquals("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-east-1/bedrock/aws4_request, "
                     + "SignedHeaders=accept;content-type;host;x-amz-content-sha256;x-amz-date, "
                     + "Signature=1935ea1e3493b9ae065df18f294af590f4e63d9eefef7ef964a168bed67fa486",
                     signed.get("authorization"));
        assertEquals("20261122T123045Z", signed.get("x-amz-date"));
        assertEquals("45e583fed2564dc00e823303d7609f8587af7f685b993cb0f998afc0d480b01d",
                     signed.get("x-amz-content-sha256"), "SHA-256 of the exact body bytes");
        assertNull(signed.get("x-amz-security-token"));
        assertNull(signed.get("host"), "the server writes host itself");
    }

    @Test
    void signsSessionTokenAndArnModelIdLikeBotocore() {
        Headers headers = Headers.of("content-type", "application/json",
                                     "accept", "application/vnd.amazon.eventstream");
        BedrockCredentials credentials = new BedrockCredentials("AKIDEXAMPLE", SECRET, "FQoGZXIvYXdzEXAMPLETOKEN");

        Headers signed = new SigV4Signer(CLOCK).sign("bedrock", "us-east-1", ORIGIN,
                "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile"
                + "%2Fus.anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream", headers, BODY, credentials);

        assertEquals("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-east-1/bedrock/aws4_request, "
                     + "SignedHeaders=accept;content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, "
                     + "Signature=70d8af1d950b789684916919dc5401a50ac2660b8179d0dc50bb7e001aa298c3",
                     signed.get("authorization"));
        assertEquals("FQoGZXIvYXdzEXAMPLETOKEN", signed.get("x-amz-security-token"));
    }

    @Test
    void keepsHeadersItWasGiven() {
        Headers headers = Headers.of("content-type", "application/json", "x-custom", "1");
        BedrockCredentials credentials = new BedrockCredentials("AKIDEXAMPLE", SECRET, null);

        Headers signed = new SigV4Signer(CLOCK).sign("bedrock", "eu-west-1", ORIGIN, "/model/m/converse", headers,
                                                     BODY, credentials);

        assertEquals("1", signed.get("x-custom"));
        assertEquals("application/json", signed.get("content-type"));
    }
}
