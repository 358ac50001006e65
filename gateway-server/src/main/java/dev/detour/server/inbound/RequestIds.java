package dev.detour.server.inbound;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Request ids: the client's {@code x-request-id} when it is sane, otherwise a new random one.
 */
final class RequestIds {

    private static final int MAX_LENGTH = 200;
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private RequestIds() {
    }

    /** Returns whether a client-sent id is short and printable enough to log and echo. */
    static boolean isAcceptable(String id) {
        int n = id.length();
        if (n == 0 || n > MAX_LENGTH) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            char c = id.charAt(i);
            if (c <= ' ' || c > '~') {
                return false;
            }
        }
        return true;
    }

    /** Returns a new id: {@code req_} and 24 random hex digits. */
    static String newId() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        char[] id = new char[28];
        id[0] = 'r';
        id[1] = 'e';
        id[2] = 'q';
        id[3] = '_';
        long a = random.nextLong();
        long b = random.nextLong();
        for (int i = 0; i < 16; i++) {
            id[4 + i] = HEX[(int) (a >>> (60 - 4 * i)) & 0xF];
        }
        for (int i = 0; i < 8; i++) {
            id[20 + i] = HEX[(int) (b >>> (60 - 4 * i)) & 0xF];
        }
        return new String(id);
    }
}
