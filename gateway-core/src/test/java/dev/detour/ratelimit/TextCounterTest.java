package dev.detour.ratelimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class TextCounterTest {

    @Test
    void countsTheUtf8BytesOfEachCharacterWidth() {
        TextCounter.Bytes bytes = new TextCounter.Bytes(1000);

        add(bytes, "plain");
        add(bytes, "héllo wörld");
        add(bytes, "日本語");
        add(bytes, "👍🏽");

        assertEquals(5 + 11 + 3 + 4, bytes.withinChars());
        assertEquals(utf8("plain") + utf8("héllo wörld") + utf8("日本語") + utf8("👍🏽"), bytes.withinBytes());
        assertEquals(5 + 13 + 9 + 8, bytes.withinBytes());
    }

    @Test
    void countsALoneSurrogateAsTheTokenizerEncodesIt() {
        TextCounter.Bytes bytes = new TextCounter.Bytes(1000);

        add(bytes, "a\uD83D");
        add(bytes, "\uDC4Db");

        assertEquals(8, bytes.withinBytes(), "each lone half is 3 bytes to jtokkit, as any other BMP character");
    }

    @Test
    void replacesOnlyLoneSurrogatesBeforeTokenizing() {
        char[] text = "x\uD83D\uDC4D y\uD800 z\uDC00".toCharArray();

        String fixed = TextCounter.Tokens.wellFormed(text, 0, text.length);

        assertEquals("x\uD83D\uDC4D y\uFFFD z\uFFFD", fixed, "the pair stays; each lone half becomes U+FFFD");
        assertEquals("plain", TextCounter.Tokens.wellFormed("plain".toCharArray(), 0, 5));
    }

    @Test
    void readsOnlyTheGivenSliceOfTheBuffer() {
        TextCounter.Bytes bytes = new TextCounter.Bytes(1000);
        char[] buffer = "xx日本yy".toCharArray();

        bytes.add(buffer, 2, 2);

        assertEquals(2, bytes.withinChars());
        assertEquals(6, bytes.withinBytes());
    }

    @Test
    void measuresUpToTheBudgetAndCountsTheRest() {
        TextCounter.Bytes bytes = new TextCounter.Bytes(10);

        add(bytes, "abcdef");
        add(bytes, "ghijkl");
        add(bytes, "mn");

        assertEquals(10, bytes.withinChars());
        assertEquals(4, bytes.extraChars());
        assertEquals(10, bytes.withinBytes());
        assertEquals(14, bytes.boundTokens(), "extrapolated at 1 byte a character");
        assertEquals(4, bytes.cheapTokens(), "14 bytes at 4 a token, rounded up");
    }

    @Test
    void neverSplitsASurrogatePairAtTheBudget() {
        TextCounter.Bytes bytes = new TextCounter.Bytes(4);

        add(bytes, "abc👍");

        assertEquals(3, bytes.withinChars(), "the pair would straddle the budget: it goes past it whole");
        assertEquals(2, bytes.extraChars());
        assertEquals(3 + 2, bytes.boundTokens());
    }

    @Test
    void tokenIdsCountOneEachInEveryFigure() {
        TextCounter.Bytes bytes = new TextCounter.Bytes(100);

        bytes.addIds(5);
        add(bytes, "abcd");

        assertEquals(5, bytes.ids());
        assertEquals(5 + 4, bytes.boundTokens());
        assertEquals(5 + 1, bytes.cheapTokens());
    }

    @Test
    void withoutABudgetExtrapolatesAtFourCharactersAToken() {
        TextCounter.Bytes bytes = new TextCounter.Bytes(0);
        TextCounter.Tokens tokens = new TextCounter.Tokens(0, text -> {
            throw new AssertionError("nothing is within a budget of 0");
        });

        add(bytes, "0123456789");
        add(tokens, "0123456789");

        assertEquals(3, bytes.boundTokens());
        assertEquals(3, bytes.cheapTokens());
        assertEquals(3, tokens.tokens());
    }

    @Test
    void tokensAreCountedWithinTheBudgetAndExtrapolatedPastIt() {
        TextCounter.Tokens tokens = new TextCounter.Tokens(8, String::length);

        add(tokens, "abcd");
        add(tokens, "efghijkl");

        assertEquals(8 + 4, tokens.tokens(), "8 counted, then 4 characters at the measured 1 a character");
    }

    @Test
    void refusesANegativeBudget() {
        assertThrows(IllegalArgumentException.class, () -> new TextCounter.Bytes(-1));
    }

    private static void add(TextCounter counter, String text) {
        counter.add(text.toCharArray(), 0, text.length());
    }

    private static long utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8).length;
    }
}
