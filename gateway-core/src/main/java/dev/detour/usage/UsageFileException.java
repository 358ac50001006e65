package dev.detour.usage;

import java.io.IOException;

/**
 * The usage file or its directory cannot be read or written; the message names the file and what to do.
 */
public final class UsageFileException extends IOException {

    private static final long serialVersionUID = 1L;

    /** Creates an exception with a message naming the file, the problem and the remedy. */
    public UsageFileException(String message, Throwable cause) {
        super(message, cause);
    }
}
