package dev.detour.catalog;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads the catalog's CSV format: {@code #} comment lines (one of them {@code # as-of: YYYY-MM-DD}), a header
 * line, then one model per line with exactly eight comma-separated fields and no quoting (ids never hold
 * commas). Every problem is an {@link IllegalArgumentException} naming the file and line.
 */
final class CatalogCsv {

    static final String HEADER = "family,id,context_window,max_output_tokens,input_usd_per_mtok,output_usd_per_mtok,"
                                 + "capabilities,aliases";

    private static final String AS_OF = "# as-of:";
    private static final Pattern PRICE = Pattern.compile("\\d+(?:\\.\\d+)?");
    private static final Pattern INTEGER = Pattern.compile("\\d{1,10}");

    private CatalogCsv() {
    }

    /** Returns the models and the as-of date ({@code null} when the file names none) of {@code source}. */
    static Parsed parse(Reader reader, String source) {
        List<ModelInfo> models = new ArrayList<>();
        LocalDate asOf = null;
        boolean header = false;
        int lineNo = 0;
        try (BufferedReader in = new BufferedReader(reader)) {
            String line;
            while ((line = in.readLine()) != null) {
                lineNo++;
                String where = source + ":" + lineNo + ": ";
                if (line.isBlank()) {
                    continue;
                }
                if (line.startsWith("#")) {
                    if (line.startsWith(AS_OF)) {
                        asOf = date(line.substring(AS_OF.length()).trim(), where);
                    }
                    continue;
                }
                if (!header) {
                    if (!line.equals(HEADER)) {
                        throw new IllegalArgumentException(where + "header '" + line + "' (expected: '" + HEADER
                                                           + "')");
                    }
                    header = true;
                    continue;
                }
                models.add(row(line, where));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(source + ": " + e.getMessage(), e);
        }
        if (!header) {
            throw new IllegalArgumentException(source + ": no header line (expected: '" + HEADER + "')");
        }
        return new Parsed(models, asOf);
    }

    private static ModelInfo row(String line, String where) {
        String[] f = line.split(",", -1);
        if (f.length != 8) {
            throw new IllegalArgumentException(where + f.length + " fields (expected: 8, " + HEADER + ")");
        }
        for (int i = 0; i < f.length; i++) {
            if (!f[i].equals(f[i].trim()) || f[i].indexOf('"') >= 0) {
                throw new IllegalArgumentException(where + "field " + (i + 1) + " '" + f[i]
                                                   + "' (expected: no surrounding spaces, no quotes)");
            }
        }
        try {
            return new ModelInfo(f[0], f[1], integer(f[2], "context_window", where),
                                 integer(f[3], "max_output_tokens", where), price(f[4], "input_usd_per_mtok", where),
                                 price(f[5], "output_usd_per_mtok", where), capabilities(f[6], where), list(f[7]));
        } catch (IllegalArgumentException e) {
            if (e.getMessage() != null && e.getMessage().startsWith(where)) {
                throw e;
            }
            throw new IllegalArgumentException(where + e.getMessage(), e);
        }
    }

    private static int integer(String value, String field, String where) {
        if (!INTEGER.matcher(value).matches()) {
            throw new IllegalArgumentException(where + field + ": '" + value + "' (expected: a whole number)");
        }
        long n = Long.parseLong(value);
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(where + field + ": " + value + " (expected: <= " + Integer.MAX_VALUE
                                               + ")");
        }
        return (int) n;
    }

    private static BigDecimal price(String value, String field, String where) {
        if (!PRICE.matcher(value).matches()) {
            throw new IllegalArgumentException(where + field + ": '" + value + "' (expected: a decimal like 2.50)");
        }
        return new BigDecimal(value);
    }

    private static Set<Capability> capabilities(String value, String where) {
        Set<Capability> set = EnumSet.noneOf(Capability.class);
        for (String name : list(value)) {
            Capability c = Capability.of(name).filter(x -> x.yamlName().equals(name)).orElseThrow(
                    () -> new IllegalArgumentException(where + "capability '" + name + "' (expected: one of "
                                                       + "tools, vision, embeddings, streaming, reasoning)"));
            if (!set.add(c)) {
                throw new IllegalArgumentException(where + "capability '" + name + "' listed twice");
            }
        }
        return set;
    }

    private static List<String> list(String value) {
        return value.isEmpty() ? List.of() : List.of(value.split("\\|", -1));
    }

    private static LocalDate date(String value, String where) {
        try {
            return LocalDate.parse(value);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(where + "as-of '" + value + "' (expected: YYYY-MM-DD)", e);
        }
    }

    /** What a file holds. */
    record Parsed(List<ModelInfo> models, LocalDate asOf) {
    }
}
