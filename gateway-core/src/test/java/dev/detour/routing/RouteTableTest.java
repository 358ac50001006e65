package dev.detour.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.detour.testing.TestContexts;
import java.util.List;
import org.junit.jupiter.api.Test;

class RouteTableTest {

    @Test
    void resolvesRoutesByClientModelName() {
        RouteTable table = TestContexts.routes();

        Route mini = table.route("mini");

        assertEquals("gpt-4o-mini-2024-07-18", mini.targets().get(0).model());
        assertEquals("up", mini.targets().get(0).provider().name());
        assertEquals("https://api.example.com/v1", mini.targets().get(0).origin().toString());
        assertNull(table.route("MINI"), "model names are exact");
    }

    @Test
    void defaultsTargetModelToRouteModel() {
        assertEquals("gpt-4o", TestContexts.routes().route("gpt-4o").targets().get(0).model());
    }

    @Test
    void rendersModelListInOpenAiFormat() throws Exception {
        JsonNode list = new ObjectMapper().readTree(TestContexts.routes().modelListJson());

        assertEquals("list", list.get("object").asText());
        assertEquals(3, list.get("data").size());
        assertEquals("m", list.at("/data/0/id").asText());
        assertEquals("model", list.at("/data/0/object").asText());
        assertEquals(1_700_000_000L, list.at("/data/0/created").asLong());
        assertEquals("mock", list.at("/data/0/owned_by").asText());
    }

    @Test
    void sharesOneKeyPoolPerProvider() {
        RouteTable table = TestContexts.routes();

        assertEquals(table.route("mini").targets().get(0).keys(), table.route("gpt-4o").targets().get(0).keys());
        assertEquals(List.of("m", "mini", "gpt-4o"), table.modelNames());
        assertEquals("m, mini, gpt-4o", table.describeModels());
    }
}
