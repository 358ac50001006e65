package dev.detour.server.admin;

import dev.detour.error.ErrorKind;
import dev.detour.filter.GatewayResponse;
import dev.detour.server.GatewayServer;
import dev.detour.server.reload.ReloadResult;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Serves {@code POST /admin/reload}: reloads the config file now, on the reload thread, and answers when done.
 *
 * <ul>
 *   <li>200 {@code {"outcome":"applied","version":{...},"restart_needed":[...]}} when the new config runs;</li>
 *   <li>200 {@code {"outcome":"unchanged",...}} when the file's text is the running version's;</li>
 *   <li>422 {@code invalid_config}, OpenAI-shaped, with {@code problems} ({@code file:line:col path: message})
 *       and the {@code version} that keeps running, when the file cannot be read or is invalid;</li>
 *   <li>409 {@code not_reloadable} when the gateway was not started from a file.</li>
 * </ul>
 */
final class ReloadAction implements AdminView {

    private final GatewayServer server;

    ReloadAction(GatewayServer server) {
        this.server = server;
    }

    @Override
    public CompletionStage<GatewayResponse.Full> serve(AdminRequest request) {
        if (server.source().isEmpty()) {
            return CompletableFuture.completedFuture(AdminJson.error(ErrorKind.CONFLICT, "This gateway was started "
                    + "from a config in memory, not from a file: there is nothing to reload.", "not_reloadable",
                    gen -> { }));
        }
        return server.reload("admin").thenApply(ReloadAction::answer);
    }

    private static GatewayResponse.Full answer(ReloadResult r) {
        if (r.outcome() == ReloadResult.Outcome.REFUSED) {
            return AdminJson.error(ErrorKind.UNPROCESSABLE, "The config file was refused (" + r.problems().size()
                    + (r.problems().size() == 1 ? " problem" : " problems") + "); version " + r.version().number()
                    + " keeps running. Fix the problems listed in 'problems' and reload again.", "invalid_config",
                    gen -> {
                        gen.writeStringField("outcome", "refused");
                        gen.writeArrayFieldStart("problems");
                        for (String p : r.problems()) {
                            gen.writeString(p);
                        }
                        gen.writeEndArray();
                        gen.writeFieldName("version");
                        ConfigView.version(gen, r.version());
                    });
        }
        return AdminJson.response(200, AdminJson.render(gen -> {
            gen.writeStartObject();
            gen.writeStringField("outcome", r.outcome().name().toLowerCase());
            gen.writeFieldName("version");
            ConfigView.version(gen, r.version());
            gen.writeFieldName("restart_needed");
            ConfigView.restartNeeded(gen, r.restartNeeded());
            gen.writeEndObject();
        }));
    }
}
