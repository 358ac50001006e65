package dev.detour.provider.anthropic;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Reads the golden files under {@code fixtures/anthropic/} and compares JSON and SSE semantically. */
final class Fixtures {

    static final ObjectMapper JSON = new ObjectMapper();
    private static final String ROOT = "/fixtures/anthropic/";

    private Fixtures() {
    }

    /** Returns the bytes of {@code path}, relative to the fixtures root. */
    static byte[] bytes(String path) {
        try (InputStream in = Fixtures.class.getResourceAsStream(ROOT + path)) {
            if (in == null) {
                throw new IllegalArgumentException("no fixture " + path);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Returns the text of {@code path}. */
    static String text(String path) {
        return new String(bytes(path), StandardCharsets.UTF_8);
    }

    /** Returns {@code path} parsed as JSON. */
    static JsonNode json(String path) {
        return tree(bytes(path));
    }

    /** Returns {@code bytes} parsed as JSON. */
    static JsonNode tree(byte[] bytes) {
        try {
            return JSON.readTree(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Returns the names of the files in {@code dir} ending with {@code suffix}, without the suffix, sorted. */
    static Stream<String> names(String dir, String suffix) {
        URL url = Fixtures.class.getResource(ROOT + dir);
        try (Stream<Path> files = Files.list(Path.of(url.toURI()))) {
            return files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(suffix))
                    .map(n -> n.substring(0, n.length() - suffix.length()))
                    .sorted()
                    .toList()
                    .stream();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Asserts that two SSE bodies hold the same events: data payloads compared as JSON, others as text. */
    static void assertSameEvents(String expected, String actual, String what) {
        List<String> want = events(expected);
        List<String> got = events(actual);
        assertEquals(want.size(), got.size(), () -> what + ": event count differs.\nexpected:\n" + expected
                                                     + "\nactual:\n" + actual);
        for (int i = 0; i < want.size(); i++) {
            String w = want.get(i);
            String g = got.get(i);
            if (w.startsWith("data: {") && g.startsWith("data: {")) {
                assertEquals(tree(w.substring(6).getBytes(StandardCharsets.UTF_8)),
                             tree(g.substring(6).getBytes(StandardCharsets.UTF_8)),
                             what + ": event " + i + " differs: " + g);
            } else {
                assertEquals(w, g, what + ": event " + i);
            }
        }
        assertEquals(true, actual.endsWith("\n\n"), what + ": the last event is not terminated");
    }

    /** Splits an SSE body into its events (the text between blank lines). */
    static List<String> events(String sse) {
        List<String> events = new ArrayList<>();
        for (String e : sse.split("\n\n")) {
            if (!e.isEmpty()) {
                events.add(e);
            }
        }
        return events;
    }
}
