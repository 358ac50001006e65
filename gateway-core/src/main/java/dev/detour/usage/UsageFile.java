package dev.detour.usage;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The usage file: the day and month windows of every account as one small JSON document, replaced whole on
 * each write.
 *
 * <pre>{@code
 * {"format":1,"written_at":"2026-11-22T10:00:02Z","day":"2026-11-22","month":"2026-11",
 *  "accounts":[{"kind":"team","group":"","name":"research",
 *               "day":{"requests":3,"prompt_tokens":120,"completion_tokens":40,"cached_tokens":0,"cost_micros":700},
 *               "month":{...}}]}
 * }</pre>
 *
 * <p>Crash safety: a write goes to {@code usage.json.tmp}, is forced to disk, then renamed over
 * {@code usage.json} atomically, and the directory is forced too; so the file is always either the previous
 * complete snapshot or the new one, never a mix. A left-over {@code .tmp} (a crash mid-write) is ignored and
 * overwritten.
 *
 * <p>Not thread-safe: {@link UsagePersistence} serialises its writes.
 */
final class UsageFile {

    /** The file's name in the data directory. */
    static final String NAME = "usage.json";
    private static final int FORMAT = 1;
    private static final JsonFactory JSON = new JsonFactory();
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final Path file;
    private final Path temp;

    UsageFile(Path dataDir) {
        this.file = dataDir.resolve(NAME);
        this.temp = dataDir.resolve(NAME + ".tmp");
    }

    /** Returns the file's path. */
    Path path() {
        return file;
    }

    /** Returns the saved snapshot, or empty when there is no file yet. */
    Optional<UsageSnapshot> read() throws UsageFileException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UsageFileException("cannot read the usage file " + file + " (" + e + "); fix its permissions, "
                                         + "or point usage.data-dir elsewhere", e);
        }
        try {
            return Optional.of(parse(MAPPER.readTree(bytes)));
        } catch (JsonProcessingException e) {
            throw corrupt("it is not valid JSON (" + e.getOriginalMessage() + ")", e);
        } catch (IOException e) {
            throw corrupt(e.getMessage(), e);
        }
    }

    /** Replaces the file with {@code snapshot}'s day and month windows, atomically and durably. */
    void write(UsageSnapshot snapshot) throws IOException {
        byte[] bytes = render(snapshot);
        try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                                               StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(true);
        }
        try {
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            // Same directory, so this only happens on file systems without rename; a plain replace is the best left.
            Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
        }
        forceDirectory();
    }

    /** Makes the rename itself durable; file systems that cannot open a directory for this do without. */
    private void forceDirectory() {
        try (FileChannel dir = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException e) {
            // Not supported here (e.g. Windows): the rename is still atomic, only its durability is the OS's.
        }
    }

    static byte[] render(UsageSnapshot snapshot) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256 + snapshot.accounts().size() * 200);
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeNumberField("format", FORMAT);
            g.writeStringField("written_at", snapshot.takenAt().toString());
            g.writeStringField("day", snapshot.day().toString());
            g.writeStringField("month", snapshot.month().toString());
            g.writeArrayFieldStart("accounts");
            for (UsageSnapshot.AccountUsage a : snapshot.accounts()) {
                if (a.day().requests() == 0 && a.month().requests() == 0) {
                    continue; // only this process's lifetime counts, which a restart forgets anyway
                }
                g.writeStartObject();
                g.writeStringField("kind", a.kind().jsonName());
                g.writeStringField("group", a.group());
                g.writeStringField("name", a.name());
                counts(g, "day", a.day());
                counts(g, "month", a.month());
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        }
        return out.toByteArray();
    }

    private static void counts(JsonGenerator g, String field, UsageCounts c) throws IOException {
        g.writeObjectFieldStart(field);
        g.writeNumberField("requests", c.requests());
        g.writeNumberField("prompt_tokens", c.promptTokens());
        g.writeNumberField("completion_tokens", c.completionTokens());
        g.writeNumberField("cached_tokens", c.cachedTokens());
        g.writeNumberField("cost_micros", c.costMicros());
        g.writeEndObject();
    }

    private UsageSnapshot parse(JsonNode root) throws UsageFileException {
        if (!root.isObject()) {
            throw corrupt("expected a JSON object", null);
        }
        JsonNode format = root.get("format");
        if (format == null || !format.isInt() || format.intValue() != FORMAT) {
            throw corrupt("'format' is " + format + " (expected: " + FORMAT + "; a file from a newer Detour?)", null);
        }
        Instant written = parseTime(root, "written_at", Instant::parse);
        LocalDate day = parseTime(root, "day", LocalDate::parse);
        YearMonth month = parseTime(root, "month", YearMonth::parse);
        JsonNode accounts = root.get("accounts");
        if (accounts == null || !accounts.isArray()) {
            throw corrupt("'accounts' is missing or not a list", null);
        }
        List<UsageSnapshot.AccountUsage> list = new ArrayList<>(accounts.size());
        for (int i = 0; i < accounts.size(); i++) {
            JsonNode a = accounts.get(i);
            String at = "accounts[" + i + "]";
            UsageKind kind = UsageKind.ofJsonName(a.path("kind").asText(""));
            if (kind == null) {
                throw corrupt(at + ".kind is " + a.get("kind") + " (expected: client, team, route, key or budget)",
                              null);
            }
            list.add(new UsageSnapshot.AccountUsage(kind, text(a, at, "group"), text(a, at, "name"),
                                                    counts(a, at, "day"), counts(a, at, "month"), UsageCounts.ZERO));
        }
        return new UsageSnapshot(written, day, month, list);
    }

    private String text(JsonNode node, String at, String field) throws UsageFileException {
        JsonNode value = node.get(field);
        if (value == null || !value.isTextual()) {
            throw corrupt(at + "." + field + " is missing or not a string", null);
        }
        return value.textValue();
    }

    private UsageCounts counts(JsonNode node, String at, String field) throws UsageFileException {
        JsonNode c = node.get(field);
        if (c == null || !c.isObject()) {
            throw corrupt(at + "." + field + " is missing or not an object", null);
        }
        String[] names = {"requests", "prompt_tokens", "completion_tokens", "cached_tokens", "cost_micros"};
        long[] values = new long[names.length];
        for (int i = 0; i < names.length; i++) {
            JsonNode v = c.get(names[i]);
            if (v == null || !v.canConvertToLong() || !v.isIntegralNumber() || v.longValue() < 0) {
                throw corrupt(at + "." + field + "." + names[i] + " is " + v + " (expected: a whole number >= 0)",
                              null);
            }
            values[i] = v.longValue();
        }
        return new UsageCounts(values[0], values[1], values[2], values[3], values[4]);
    }

    private <T> T parseTime(JsonNode root, String field, Parser<T> parser) throws UsageFileException {
        JsonNode value = root.get(field);
        if (value == null || !value.isTextual()) {
            throw corrupt("'" + field + "' is missing or not a string", null);
        }
        try {
            return Objects.requireNonNull(parser.parse(value.textValue()));
        } catch (DateTimeParseException e) {
            throw corrupt("'" + field + "' is '" + value.textValue() + "', not a date", e);
        }
    }

    private UsageFileException corrupt(String problem, Throwable cause) {
        return new UsageFileException("the usage file " + file + " is damaged: " + problem + ". Detour does not "
                                      + "start on it, because starting from zero would reopen every exhausted budget. "
                                      + "Restore it from a backup, or move it aside to start with no recorded usage",
                                      cause);
    }

    @FunctionalInterface
    private interface Parser<T> {
        T parse(String text);
    }
}
