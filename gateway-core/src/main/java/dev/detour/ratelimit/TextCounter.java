package dev.detour.ratelimit;

import java.util.Objects;
import java.util.function.ToIntFunction;

/**
 * Adds up the text of a request body as {@link PromptTokenEstimator} reads it, string by string: the characters
 * within a budget are measured by the subclass (UTF-8 bytes, or tokens), those past it are only counted and
 * later extrapolated at the rate measured within it. Token ids ({@code prompt: [1, 2, 3]}) count one each.
 *
 * <p>Why one base class: the byte count's upper bound on the token count holds only if both see the same
 * characters within the budget and extrapolate the same way, so the split and the extrapolation live here,
 * once.
 *
 * <p>One per body read; not thread-safe.
 */
abstract class TextCounter {

    /** OpenAI's rule of thumb for English text: about 4 characters, here UTF-8 bytes, a token. */
    static final int BYTES_PER_TOKEN = 4;

    private final int budget;
    private long withinChars;
    private long extraChars;
    private long ids;

    TextCounter(int budget) {
        if (budget < 0) {
            throw new IllegalArgumentException("budget: " + budget + " (expected: >= 0)");
        }
        this.budget = budget;
    }

    /** Adds one string value, {@code length} characters of {@code text} from {@code offset}. */
    final void add(char[] text, int offset, int length) {
        long left = Math.max(0, budget - withinChars);
        int cut = length;
        if (length > left) {
            cut = (int) left;
            // Never split a surrogate pair: its first half alone would count as a character of its own.
            if (cut > 0 && Character.isHighSurrogate(text[offset + cut - 1])) {
                cut--;
            }
        }
        if (cut > 0) {
            measure(text, offset, cut);
        }
        withinChars += cut;
        extraChars += length - cut;
    }

    /** Adds {@code n} tokens given as ids rather than text. */
    final void addIds(long n) {
        ids += n;
    }

    /** Returns how many characters were measured. */
    final long withinChars() {
        return withinChars;
    }

    /** Returns how many characters came past the budget, counted but not measured. */
    final long extraChars() {
        return extraChars;
    }

    /** Returns how many token ids were added. */
    final long ids() {
        return ids;
    }

    /**
     * Returns {@code measured}, the measure of the characters within the budget, plus the extra characters at
     * the rate measured within it, or a quarter of a unit per character (OpenAI's 4 characters a token) when
     * nothing was measured. Monotonic in {@code measured}, the property the byte bound relies on.
     */
    final long extrapolate(long measured) {
        if (extraChars == 0) {
            return measured;
        }
        double perChar = withinChars > 0 ? (double) measured / withinChars : 0.25;
        return measured + (long) Math.ceil(extraChars * perChar);
    }

    /** Measures {@code length > 0} characters within the budget. */
    abstract void measure(char[] text, int offset, int length);

    /**
     * Counts UTF-8 bytes, as the tokenizer encodes the text (a lone surrogate as 3 bytes). A {@code cl100k_base}
     * token stands for at least one byte, so the bytes bound the tokens: {@link #boundTokens()} is never below
     * what {@link Tokens#tokens()} returns for the same text and budget.
     */
    static final class Bytes extends TextCounter {

        private long withinBytes;

        Bytes(int budget) {
            super(budget);
        }

        @Override
        void measure(char[] text, int offset, int length) {
            long bytes = 0;
            int end = offset + length;
            for (int i = offset; i < end; i++) {
                char c = text[i];
                if (c < 0x80) {
                    bytes++;
                } else if (c < 0x800) {
                    bytes += 2;
                } else if (Character.isHighSurrogate(c) && i + 1 < end && Character.isLowSurrogate(text[i + 1])) {
                    bytes += 4;
                    i++;
                } else {
                    bytes += 3; // the rest of the BMP, and a lone surrogate, which the tokenizer encodes alike
                }
            }
            withinBytes += bytes;
        }

        /** Returns the UTF-8 bytes of the characters within the budget. */
        long withinBytes() {
            return withinBytes;
        }

        /** Returns the most tokens the text can be: its bytes, extrapolated as the tokens would be. */
        long boundTokens() {
            return ids() + extrapolate(withinBytes);
        }

        /** Returns a quick guess of the text's tokens: its bytes (extrapolated past the budget) over 4. */
        long cheapTokens() {
            double bytes = withinChars() > 0
                    ? withinBytes + (double) extraChars() * withinBytes / withinChars()
                    : extraChars();
            long guess = ids() + (long) Math.ceil(bytes / BYTES_PER_TOKEN);
            return Math.min(guess, boundTokens());
        }
    }

    /** Counts tokens with a tokenizer; the exact estimate. */
    static final class Tokens extends TextCounter {

        private final ToIntFunction<String> tokenizer;
        private long withinTokens;

        Tokens(int budget, ToIntFunction<String> tokenizer) {
            super(budget);
            this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        }

        @Override
        void measure(char[] text, int offset, int length) {
            withinTokens += tokenizer.applyAsInt(wellFormed(text, offset, length));
        }

        /**
         * Returns the text with each lone surrogate (JSON allows {@code "\ud800"}) replaced by U+FFFD, which
         * encodes to the same 3 UTF-8 bytes the upper bound counted for it: jtokkit asserts on lone surrogates,
         * which would fail the request wherever assertions are enabled.
         */
        static String wellFormed(char[] text, int offset, int length) {
            char[] fixed = null;
            int end = offset + length;
            for (int i = offset; i < end; i++) {
                char c = text[i];
                if (!Character.isSurrogate(c)) {
                    continue;
                }
                if (Character.isHighSurrogate(c) && i + 1 < end && Character.isLowSurrogate(text[i + 1])) {
                    i++; // a pair: well formed
                    continue;
                }
                if (fixed == null) {
                    fixed = java.util.Arrays.copyOfRange(text, offset, end);
                }
                fixed[i - offset] = '\uFFFD';
            }
            return fixed == null ? new String(text, offset, length) : new String(fixed);
        }

        /** Returns the text's tokens: those of the characters within the budget, extrapolated past it. */
        long tokens() {
            return ids() + extrapolate(withinTokens);
        }
    }
}
