package dev.detour.server.admin;

import dev.detour.filter.GatewayResponse;
import java.util.concurrent.CompletionStage;

/**
 * One admin endpoint: answers an authorised {@link AdminRequest}.
 *
 * <p>Called on the event loop of the caller's connection: a view must not block. Views that only read
 * snapshots answer with a completed stage; one that must wait (a reload) completes its stage later from
 * another thread, and the server writes the answer back on the connection's loop.
 */
@FunctionalInterface
public interface AdminView {

    /** Returns the answer to {@code request}. */
    CompletionStage<GatewayResponse.Full> serve(AdminRequest request);
}
