package dev.detour.server;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.WireMockServer;
import dev.detour.server.testing.TestGateway;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTPS upstreams: certificates and host names are verified; a private CA is trusted only when
 * {@code upstream.ca-file} names it.
 */
class UpstreamTlsIT {

    private static final String CHAT = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    @TempDir
    static Path dir;

    private static WireMockServer upstream;
    private static Path caFile;

    @BeforeAll
    static void startHttpsUpstream() throws Exception {
        Path keystore = dir.resolve("upstream.p12");
        caFile = dir.resolve("upstream-ca.pem");
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        run(keytool, "-genkeypair", "-alias", "upstream", "-keyalg", "EC", "-groupname", "secp256r1",
            "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "2",
            "-storetype", "PKCS12", "-keystore", keystore.toString(), "-storepass", "changeit");
        run(keytool, "-exportcert", "-rfc", "-alias", "upstream", "-keystore", keystore.toString(),
            "-storepass", "changeit", "-file", caFile.toString());
        upstream = new WireMockServer(wireMockConfig().httpDisabled(true).dynamicHttpsPort()
                .keystorePath(keystore.toString()).keystorePassword("changeit").keyManagerPassword("changeit")
                .keystoreType("PKCS12"));
        upstream.start();
        upstream.stubFor(post(urlEqualTo("/v1/chat/completions")).willReturn(aResponse()
                .withHeader("content-type", "application/json")
                .withBody("{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"m\","
                          + "\"choices\":[]}")));
    }

    @BeforeEach
    void forgetEarlierRequests() {
        upstream.resetRequests();
    }

    @AfterAll
    static void stop() {
        upstream.stop();
    }

    private static String config(String host, String upstreamSection) {
        return upstreamSection + """
                providers:
                  secure:
                    type: openai
                    base-url: https://%s:%d/v1
                    keys:
                      - id: k1
                        value: sk-test-1
                routes:
                  - model: m
                    targets:
                      - provider: secure
                """.formatted(host, upstream.httpsPort());
    }

    @Test
    void refusesUpstreamWhoseCertificateIsNotTrusted() throws Exception {
        try (TestGateway gateway = TestGateway.start(config("localhost", ""))) {
            HttpResponse<String> r = gateway.postJson("/v1/chat/completions", CHAT);

            assertEquals(502, r.statusCode(), r.body());
            assertTrue(r.body().contains("TLS handshake"), r.body());
            assertEquals(0, upstream.getAllServeEvents().size(), "nothing reached the upstream");
        }
    }

    @Test
    void servesThroughUpstreamSignedByConfiguredCa() throws Exception {
        try (TestGateway gateway = TestGateway.start(config("localhost", "upstream:\n  ca-file: " + caFile + "\n"))) {
            HttpResponse<String> r = gateway.postJson("/v1/chat/completions", CHAT);

            assertEquals(200, r.statusCode(), r.body());
            assertEquals("chatcmpl-1", new ObjectMapper().readTree(r.body()).get("id").asText());
        }
    }

    @Test
    void refusesUpstreamWhoseNameDoesNotMatchItsCertificate() throws Exception {
        // The certificate names localhost and 127.0.0.1, not the loopback alias 127.0.0.2.
        try (TestGateway gateway = TestGateway.start(config("127.0.0.2", "upstream:\n  ca-file: " + caFile + "\n"))) {
            HttpResponse<String> r = gateway.postJson("/v1/chat/completions", CHAT);

            assertEquals(502, r.statusCode(), r.body());
            assertTrue(r.body().contains("TLS handshake"), r.body());
        }
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "keytool finished");
        assertEquals(0, p.exitValue(), output);
    }
}
