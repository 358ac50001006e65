package dev.detour.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SignalActionsTest {

    private final List<String> done = new ArrayList<>();
    private final SignalActions actions = new SignalActions();

    private void attach() {
        actions.attach(() -> done.add("stop"), () -> done.add("reload"));
    }

    @Test
    void actsOnEachSignalOnceAttached() {
        attach();

        actions.reload();
        actions.reload();
        actions.stop();

        assertEquals(List.of("reload", "reload", "stop"), done);
    }

    @Test
    void reloadsOnceTheServerRunsWhenSighupCameDuringStartUp() {
        actions.reload();
        actions.reload();
        assertEquals(List.of(), done, "nothing to reload before the server runs");

        attach();

        assertEquals(List.of("reload"), done);
    }

    @Test
    void stopsOnceTheServerRunsWhenAStopCameDuringStartUpEvenAfterASighup() {
        actions.reload();
        actions.stop();

        attach();

        assertEquals(List.of("stop"), done);
    }

    @Test
    void actsOnNothingAtAttachWhenNoSignalCame() {
        attach();

        assertEquals(List.of(), done);
    }
}
