package dev.detour.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class EnvSubstitutionTest {

    private static final Map<String, String> ENV = Map.of("KEY", "sk-1", "EMPTY", "", "REF", "${KEY}");

    @Test
    void replacesSetVariable() {
        assertEquals(new EnvSubstitution.Result("sk-1", List.of()), EnvSubstitution.apply("${KEY}", ENV));
    }

    @Test
    void usesDefaultWhenUnsetOrEmpty() {
        assertEquals("fallback", EnvSubstitution.apply("${MISSING:-fallback}", ENV).value());
        assertEquals("fallback", EnvSubstitution.apply("${EMPTY:-fallback}", ENV).value());
        assertEquals("sk-1", EnvSubstitution.apply("${KEY:-fallback}", ENV).value());
        assertEquals("", EnvSubstitution.apply("${MISSING:-}", ENV).value());
        assertEquals("http://h:1/v1", EnvSubstitution.apply("${MISSING:-http://h:1/v1}", ENV).value());
    }

    @Test
    void keepsEmptyValueWithoutDefault() {
        assertEquals(new EnvSubstitution.Result("", List.of()), EnvSubstitution.apply("${EMPTY}", ENV));
    }

    @Test
    void replacesSeveralReferencesInsideText() {
        assertEquals("Bearer sk-1/sk-1!", EnvSubstitution.apply("Bearer ${KEY}/${KEY}!", ENV).value());
    }

    @Test
    void reportsEachUnsetVariable() {
        EnvSubstitution.Result result = EnvSubstitution.apply("${A}-${KEY}-${B}", ENV);

        assertEquals(List.of("environment variable A is not set", "environment variable B is not set"),
                     result.errors());
    }

    @Test
    void turnsDoubledDollarBraceIntoLiteral() {
        assertEquals("${KEY} costs $5 $$", EnvSubstitution.apply("$${KEY} costs $5 $$", ENV).value());
        assertEquals(new EnvSubstitution.Result("${MISSING}", List.of()), EnvSubstitution.apply("$${MISSING}", ENV),
                     "an escaped reference is not looked up");
    }

    @Test
    void doesNotExpandReferencesInsideValues() {
        assertEquals("${KEY}", EnvSubstitution.apply("${REF}", ENV).value());
    }

    @Test
    void reportsMalformedReferences() {
        assertEquals(List.of("unterminated '${' at character 3 (expected '}' to close it; write '$${' for a literal "
                             + "'${')"),
                     EnvSubstitution.apply("a ${KEY", ENV).errors());
        assertEquals(List.of("invalid environment variable reference '${}' (expected ${NAME} or ${NAME:-default}; "
                             + "write '$${' for a literal '${')"),
                     EnvSubstitution.apply("${}", ENV).errors());
        assertEquals(1, EnvSubstitution.apply("${1ABC}", ENV).errors().size());
        assertEquals(1, EnvSubstitution.apply("${A B}", ENV).errors().size());
    }

    @Test
    void leavesTextWithoutReferencesAlone() {
        assertEquals(new EnvSubstitution.Result("plain $ text", List.of()),
                     EnvSubstitution.apply("plain $ text", ENV));
    }
}
