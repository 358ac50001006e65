package dev.detour.provider.compat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.detour.api.InvalidRequestException;

/**
 * The request fields one host refuses, and how to make a chat request acceptable to it. Stateless and
 * thread-safe.
 */
interface BodyQuirks {

    /** Returns the scanner for the keys that may need a rewrite; a body without any of them passes through. */
    KeyScanner triggers();

    /**
     * Rewrites {@code body} in place for the host of provider {@code provider}.
     *
     * @return whether anything changed
     * @throws InvalidRequestException if the request asks for something the host cannot do and that cannot be
     *                                 dropped without changing the answer's shape
     */
    boolean apply(ObjectNode body, String provider) throws InvalidRequestException;

    /** Removes {@code field} from {@code node}; returns whether it was there. */
    static boolean drop(ObjectNode node, String field) {
        return node.remove(field) != null;
    }

    /**
     * Renames {@code from} to {@code to}; when both are present the host's own {@code to} wins and {@code from}
     * is dropped. Returns whether anything changed.
     */
    static boolean rename(ObjectNode node, String from, String to) {
        if (!node.has(from)) {
            return false;
        }
        JsonNode value = node.remove(from);
        if (!node.has(to)) {
            node.set(to, value);
        }
        return true;
    }
}
