package dev.detour.provider.bedrock;

import dev.detour.filter.Headers;
import dev.detour.provider.UpstreamOrigin;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.identity.spi.AwsSessionCredentialsIdentity;

/**
 * Signs a POST with AWS Signature Version 4, through the AWS SDK's own signer.
 *
 * <p>The SDK computes the canonical request: each path segment is encoded a second time (a model id's
 * {@code %3A} is {@code %253A} in the string to sign, as every AWS service but S3 expects), the payload hash is
 * over the exact body bytes, and every header handed in is signed. {@code host} is signed with the value the
 * server will send ({@link UpstreamOrigin#hostHeader()}); {@code content-length} is left unsigned because the
 * server sets it.
 *
 * <p>Thread-safe: the SDK signer is stateless.
 */
final class SigV4Signer {

    private static final AwsV4HttpSigner SIGNER = AwsV4HttpSigner.create();

    private final Clock clock;

    SigV4Signer(Clock clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * Returns {@code headers} plus {@code x-amz-date}, {@code authorization} and, for temporary credentials,
     * {@code x-amz-security-token}, for a POST of {@code body} to {@code rawPath} (already percent-encoded, no
     * query) on {@code origin}.
     */
    Headers sign(String service, String region, UpstreamOrigin origin, String rawPath, Headers headers, byte[] body,
                 BedrockCredentials credentials) {
        SdkHttpRequest.Builder unsigned = SdkHttpRequest.builder()
                .method(SdkHttpMethod.POST)
                .protocol(origin.tls() ? "https" : "http")
                .host(origin.host())
                .port(origin.port())
                .encodedPath(rawPath)
                .putHeader("host", origin.hostHeader());
        for (int i = 0; i < headers.size(); i++) {
            unsigned.appendHeader(headers.name(i), headers.value(i));
        }
        AwsCredentialsIdentity identity = credentials.sessionToken() == null
                ? AwsCredentialsIdentity.create(credentials.accessKeyId(), credentials.secretAccessKey())
                : AwsSessionCredentialsIdentity.create(credentials.accessKeyId(), credentials.secretAccessKey(),
                                                       credentials.sessionToken());
        SignedRequest signed = SIGNER.sign(r -> r
                .identity(identity)
                .request(unsigned.build())
                .payload(ContentStreamProvider.fromByteArrayUnsafe(body))
                .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, service)
                .putProperty(AwsV4HttpSigner.REGION_NAME, region)
                .putProperty(AwsV4HttpSigner.SIGNING_CLOCK, clock));
        Headers.Builder out = Headers.builder();
        for (Map.Entry<String, List<String>> h : signed.request().headers().entrySet()) {
            if (h.getKey().equalsIgnoreCase("host")) {
                continue; // the server writes it from the origin, with the same value
            }
            for (String v : h.getValue()) {
                out.add(h.getKey(), v);
            }
        }
        return out.build();
    }
}
