package dev.detour.config;

import java.math.BigDecimal;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A budget: a cap on spend (USD at list prices) and/or LLM tokens per UTC calendar day or month, kept per
 * client, per team or once for everything, for the requests its {@code match} selects.
 *
 * @param name          a name shown in errors, headers, logs and admin views; unique among budgets
 * @param scope         what the budget is kept per: each client, each team, or one for all
 * @param period        the calendar window it counts in: a UTC day or a UTC month
 * @param spend         the spend cap in USD, at most six decimals (micro-dollars), or empty
 * @param tokens        the cap on prompt plus completion tokens, or empty
 * @param fallbackRoute the route that serves requests once the budget is used up, instead of refusing them;
 *                      empty to refuse with 429
 * @param match         which requests it applies to (and counts)
 */
public record BudgetConfig(String name, Scope scope, Period period, Optional<BigDecimal> spend, OptionalLong tokens,
                           Optional<String> fallbackRoute, Match match) {

    public BudgetConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(scope, "scope");
        Objects.requireNonNull(period, "period");
        Objects.requireNonNull(spend, "spend");
        Objects.requireNonNull(tokens, "tokens");
        Objects.requireNonNull(fallbackRoute, "fallbackRoute");
        Objects.requireNonNull(match, "match");
        if (spend.isEmpty() && tokens.isEmpty()) {
            throw new IllegalArgumentException("budget '" + name + "': neither spend nor tokens");
        }
        if (spend.isPresent() && (spend.get().signum() <= 0 || spend.get().stripTrailingZeros().scale() > 6)) {
            throw new IllegalArgumentException("budget '" + name + "': spend " + spend.get()
                                               + " (expected: > 0, at most six decimals)");
        }
        if (tokens.isPresent() && tokens.getAsLong() < 1) {
            throw new IllegalArgumentException("budget '" + name + "': tokens " + tokens.getAsLong()
                                               + " (expected: >= 1)");
        }
    }

    /** Returns the spend cap in micro-dollars, or -1 when the budget caps only tokens. */
    public long spendMicros() {
        return spend.map(s -> s.movePointRight(6).longValueExact()).orElse(-1L);
    }

    /** What a budget is kept per. */
    public enum Scope {
        /** One budget per client. */
        CLIENT,
        /** One budget per team. */
        TEAM,
        /** One budget for every request it matches. */
        GLOBAL;

        /** Returns the YAML spelling. */
        public String yamlName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** The calendar window a budget counts in; windows start at 00:00 UTC. */
    public enum Period {
        /** A UTC calendar day. */
        DAY,
        /** A UTC calendar month. */
        MONTH;

        /** Returns the YAML spelling. */
        public String yamlName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }
}
