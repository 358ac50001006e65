package dev.detour.provider.bedrock;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * A small encoder of the AWS event stream framing, for building ConverseStream bodies in tests: prelude, prelude
 * CRC, headers, payload, message CRC.
 */
final class EventStreamFrames {

    private EventStreamFrames() {
    }

    /** Returns an {@code event} message of {@code eventType} carrying {@code json}, as Bedrock sends them. */
    static byte[] event(String eventType, String json) {
        return message(Map.of(":message-type", "event", ":event-type", eventType, ":content-type", "application/json"),
                       json.getBytes(StandardCharsets.UTF_8));
    }

    /** Returns an {@code exception} message of {@code exceptionType} carrying {@code json}. */
    static byte[] exception(String exceptionType, String json) {
        return message(Map.of(":message-type", "exception", ":exception-type", exceptionType,
                              ":content-type", "application/json"), json.getBytes(StandardCharsets.UTF_8));
    }

    /** Returns a message with string-valued {@code headers}. */
    static byte[] message(Map<String, String> headers, byte[] payload) {
        ByteArrayOutputStream h = new ByteArrayOutputStream();
        headers.forEach((name, value) -> {
            byte[] n = name.getBytes(StandardCharsets.UTF_8);
            byte[] v = value.getBytes(StandardCharsets.UTF_8);
            h.write(n.length);
            h.writeBytes(n);
            h.write(7);
            h.write(v.length >> 8);
            h.write(v.length & 0xFF);
            h.writeBytes(v);
        });
        return frame(h.toByteArray(), payload);
    }

    /** Returns a message with raw, already encoded {@code headers}. */
    static byte[] frame(byte[] headers, byte[] payload) {
        int total = 16 + headers.length + payload.length;
        ByteBuffer b = ByteBuffer.allocate(total);
        b.putInt(total);
        b.putInt(headers.length);
        b.putInt(crc(b.array(), 0, 8));
        b.put(headers);
        b.put(payload);
        b.putInt(crc(b.array(), 0, total - 4));
        return b.array();
    }

    /** Returns the concatenation of {@code frames}. */
    static byte[] concat(byte[]... frames) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] f : frames) {
            out.writeBytes(f);
        }
        return out.toByteArray();
    }

    private static int crc(byte[] bytes, int offset, int length) {
        CRC32 crc = new CRC32();
        crc.update(bytes, offset, length);
        return (int) crc.getValue();
    }
}
