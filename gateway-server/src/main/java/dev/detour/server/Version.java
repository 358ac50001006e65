package dev.detour.server;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * The version Detour was built as, read from a resource Maven filters at build time.
 */
public final class Version {

    private static final String VERSION = load();

    private Version() {
    }

    /** Returns the version, e.g. {@code 0.1.0-SNAPSHOT}, or {@code unknown}. */
    public static String current() {
        return VERSION;
    }

    private static String load() {
        try (InputStream in = Version.class.getResourceAsStream("/detour-version.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties p = new Properties();
            p.load(in);
            String v = p.getProperty("version", "unknown");
            return v.startsWith("${") ? "unknown" : v;
        } catch (IOException e) {
            return "unknown";
        }
    }
}
