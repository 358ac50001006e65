package dev.detour.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.detour.catalog.ModelInfo;
import dev.detour.catalog.Price;
import dev.detour.config.BudgetConfig.Period;
import dev.detour.filter.Caller;
import dev.detour.filter.RequestContext;
import dev.detour.filter.RequestExecutor;
import dev.detour.testing.FakeClock;
import dev.detour.testing.TestContexts;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class UsageRecorderTest {

    private static final Caller ALICE = new Caller("alice", "research", "pro", Map.of(), Set.of());
    /** $2.50 per million prompt tokens, $10 per million completion tokens. */
    private static final Price GPT_4O = Price.of(ModelInfo.of("openai", "gpt-4o", 128_000, 16_384, "2.50", "10",
                                                              Set.of()));

    private final FakeClock clock = new FakeClock();
    private final UsageLedger ledger = new UsageLedger(clock);
    private final UsageRecorder recorder = new UsageRecorder(ledger);

    private static RequestContext served(Price price, String answer) {
        RequestContext ctx = TestContexts.newContext(RequestExecutor.DIRECT, "{\"model\":\"gpt-4o\",\"messages\":[]}");
        ctx.caller(ALICE);
        ctx.recordAttempt("up", "gpt-4o-2024-08-06", "k1", price);
        byte[] bytes = answer.getBytes(StandardCharsets.UTF_8);
        ctx.usage().scan(bytes, 0, bytes.length);
        return ctx;
    }

    private UsageCounts today(UsageKind kind, String group, String name) {
        return ledger.account(kind, group, name).counts(Period.DAY, ledger.now());
    }

    @Test
    void countsTheRequestForItsClientTeamRouteAndKey() {
        RequestContext ctx = served(GPT_4O, "{\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":500,"
                + "\"total_tokens\":1500,\"prompt_tokens_details\":{\"cached_tokens\":256}}}");

        RequestUsage usage = recorder.record(ctx);

        assertEquals(new RequestUsage(1000, 500, 256, 7_500), usage);
        UsageCounts expected = new UsageCounts(1, 1000, 500, 256, 7_500);
        assertEquals(expected, today(UsageKind.CLIENT, "", "alice"));
        assertEquals(expected, today(UsageKind.TEAM, "", "research"));
        assertEquals(expected, today(UsageKind.ROUTE, "", "gpt-4o"));
        assertEquals(expected, today(UsageKind.KEY, "up", "k1"));
        assertEquals(1, ledger.changes());
    }

    @Test
    void chargesTheAccountsFiltersAskFor() {
        RequestContext ctx = served(GPT_4O, "{\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":0}}");
        UsageAccount budget = ledger.account(UsageKind.BUDGET, "team-monthly", "research");
        ctx.attr(UsageRecorder.ALSO_CHARGE, new UsageAccount[] {budget, null});

        recorder.record(ctx);

        assertEquals(new UsageCounts(1, 4, 0, 0, 10), budget.counts(Period.MONTH, ledger.now()));
    }

    @Test
    void countsTokensAtCostZeroWhenTheModelHasNoPrice() {
        RequestContext ctx = served(Price.UNKNOWN, "{\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":5}}");

        RequestUsage usage = recorder.record(ctx);

        assertEquals(new RequestUsage(10, 5, -1, -1), usage, "the access log shows no cost, not a cost of 0");
        assertEquals(new UsageCounts(1, 10, 5, 0, 0), today(UsageKind.TEAM, "", "research"));
    }

    @Test
    void countsARequestWithoutUsageAsARequestOnly() {
        RequestContext ctx = served(GPT_4O, "{\"error\":{\"message\":\"boom\"}}");

        assertSame(RequestUsage.NONE, recorder.record(ctx));

        assertEquals(new UsageCounts(1, 0, 0, 0, 0), today(UsageKind.CLIENT, "", "alice"));
    }

    @Test
    void countsAnEmbeddingsTotalAsPromptTokens() {
        RequestContext ctx = served(GPT_4O, "{\"usage\":{\"prompt_tokens\":8,\"total_tokens\":8}}");

        assertEquals(new RequestUsage(8, 0, -1, 20), recorder.record(ctx));

        RequestContext totalOnly = served(GPT_4O, "{\"usage\":{\"total_tokens\":40}}");
        assertEquals(new RequestUsage(40, 0, -1, 100), recorder.record(totalOnly));
    }

    @Test
    void countsNothingForARequestThatReachedNoProvider() {
        RequestContext refused = TestContexts.newContext(RequestExecutor.DIRECT);
        refused.caller(ALICE);

        assertSame(RequestUsage.NONE, recorder.record(refused));

        assertEquals(0, ledger.snapshot().accounts().size());
        assertEquals(0, ledger.changes());
    }

    @Test
    void namesAnUnpricedModelOnceWhateverTheTraffic() {
        for (int i = 0; i < 5; i++) {
            recorder.record(served(Price.UNKNOWN, "{\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}"));
        }

        assertEquals(1, recorder.unpricedModels());
    }
}
