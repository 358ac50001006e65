package dev.detour.server.upstream;

import dev.detour.provider.UpstreamOrigin;
import io.netty.channel.Channel;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Idle keep-alive connections of one event loop, per upstream origin.
 *
 * <p>Concurrency: one instance per event loop, touched only by that loop's thread, so it needs no
 * locks and no volatile fields. Only the idle count it keeps for metrics is shared by every loop's pool.
 */
final class ConnectionPool {

    private final int maxIdlePerOrigin;
    private final Map<UpstreamOrigin, ArrayDeque<Channel>> idle = new HashMap<>();
    /** Idle connections of every loop's pool together, for metrics. */
    private final AtomicInteger allIdle;

    ConnectionPool(int maxIdlePerOrigin, AtomicInteger allIdle) {
        this.maxIdlePerOrigin = maxIdlePerOrigin;
        this.allIdle = allIdle;
    }

    /** Returns an open idle connection to {@code origin}, most recently used first, or {@code null}. */
    Channel poll(UpstreamOrigin origin) {
        ArrayDeque<Channel> channels = idle.get(origin);
        if (channels == null) {
            return null;
        }
        Channel ch;
        while ((ch = channels.pollFirst()) != null) {
            allIdle.decrementAndGet();
            if (ch.isActive()) {
                return ch;
            }
        }
        return null;
    }

    /** Keeps {@code ch} for reuse, or closes it when the origin already has enough idle connections. */
    void offer(UpstreamOrigin origin, Channel ch) {
        ArrayDeque<Channel> channels = idle.computeIfAbsent(origin, o -> new ArrayDeque<>());
        if (channels.size() >= maxIdlePerOrigin || !ch.isActive()) {
            ch.close();
            return;
        }
        channels.addFirst(ch);
        allIdle.incrementAndGet();
    }

    /** Forgets {@code ch}, which closed. */
    void remove(UpstreamOrigin origin, Channel ch) {
        ArrayDeque<Channel> channels = idle.get(origin);
        if (channels != null && channels.remove(ch)) {
            allIdle.decrementAndGet();
        }
    }

    /** Returns how many idle connections this loop's pool keeps, over all origins. */
    int idleCount() {
        int n = 0;
        for (ArrayDeque<Channel> channels : idle.values()) {
            n += channels.size();
        }
        return n;
    }
}
