/**
 * The access log: one line per request, as key=value text or JSON. {@link dev.detour.server.accesslog.AccessLog}
 * (one per config version) takes each finished request's {@link dev.detour.server.accesslog.AccessLog.Entry} on
 * its event loop and hands it to {@link dev.detour.server.accesslog.AccessLogWriter} (one per server), whose thread
 * formats queued entries ({@code LineFormat}) and writes them to stdout in batches; or, with the Logback sink, logs
 * the line to {@code detour.access}. Operations are described in {@code docs/operations.md} ("Access log").
 */
package dev.detour.server.accesslog;
