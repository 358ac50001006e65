package dev.detour.provider.bedrock;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.detour.provider.ResponseTranslator.TranslationException;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;

class EventStreamDecoderTest {

    /** The "empty" test vector of awslabs/aws-eventstream-java: no headers, no payload. */
    private static final byte[] EMPTY_VECTOR = {
        0, 0, 0, 16, 0, 0, 0, 0, 5, -62, 72, -21, 125, -104, -56, -1
    };

    /** The "appdata" test vector of awslabs/aws-eventstream-java: payload {@code {'foo':'bar'}}. */
    private static final byte[] APPDATA_VECTOR = {
        0, 0, 0, 0x1d, 0, 0, 0, 0, (byte) 0xfd, 0x52, (byte) 0x8c, 0x5a,
        0x7b, 0x27, 0x66, 0x6f, 0x6f, 0x27, 0x3a, 0x27, 0x62, 0x61, 0x72, 0x27, 0x7d,
        (byte) 0xc3, 0x65, 0x39, 0x36
    };

    @Test
    void decodesPublishedEmptyVector() throws Exception {
        EventStreamDecoder decoder = new EventStreamDecoder();

        decoder.append(ByteBuffer.wrap(EMPTY_VECTOR));
        EventStreamMessage m = decoder.next();

        assertEquals(Map.of(), m.headers());
        assertEquals(0, m.payload().length);
        assertNull(decoder.next());
        assertFalse(decoder.hasPartialMessage());
    }

    @Test
    void decodesPublishedPayloadVector() throws Exception {
        EventStreamDecoder decoder = new EventStreamDecoder();

        decoder.append(ByteBuffer.wrap(APPDATA_VECTOR));
        EventStreamMessage m = decoder.next();

        assertEquals("{'foo':'bar'}", new String(m.payload(), StandardCharsets.UTF_8));
    }

    @Test
    void encoderInTestsMatchesPublishedVector() {
        byte[] encoded = EventStreamFrames.frame(new byte[0], "{'foo':'bar'}".getBytes(StandardCharsets.UTF_8));

        assertArrayEquals(APPDATA_VECTOR, encoded, "the test encoder must agree with AWS's vector");
    }

    @Test
    void keepsStringHeadersAndSkipsEveryOtherType() throws Exception {
        ByteArrayOutputStream h = new ByteArrayOutputStream();
        header(h, "t", 0, new byte[0]);
        header(h, "f", 1, new byte[0]);
        header(h, "b", 2, new byte[] {7});
        header(h, "s", 3, new byte[] {0, 7});
        header(h, "i", 4, new byte[] {0, 0, 0, 7});
        header(h, "l", 5, new byte[8]);
        header(h, "bytes", 6, new byte[] {0, 3, 1, 2, 3});
        header(h, ":event-type", 7, withLength("messageStart"));
        header(h, "ts", 8, new byte[8]);
        header(h, "uuid", 9, new byte[16]);
        header(h, ":message-type", 7, withLength("event"));
        EventStreamDecoder decoder = new EventStreamDecoder();

        byte[] frame = EventStreamFrames.frame(h.toByteArray(), "{}".getBytes(StandardCharsets.UTF_8));
        decoder.append(ByteBuffer.wrap(frame));
        EventStreamMessage m = decoder.next();

        assertEquals(Map.of(":event-type", "messageStart", ":message-type", "event"), m.headers());
        assertEquals("{}", new String(m.payload(), StandardCharsets.UTF_8));
    }

    @Test
    void decodesSameMessagesWhateverTheSplit() throws Exception {
        byte[] stream = EventStreamFrames.concat(
                EventStreamFrames.event("messageStart", "{\"role\":\"assistant\"}"),
                EventStreamFrames.event("contentBlockDelta",
                                        "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"héllo\"}}"),
                APPDATA_VECTOR,
                EMPTY_VECTOR);
        List<String> whole = decodeAll(stream, stream.length);

        for (int size = 1; size < stream.length; size++) {
            assertEquals(whole, decodeAll(stream, size), "chunks of " + size + " bytes");
        }
        for (int cut = 1; cut < stream.length; cut++) {
            assertEquals(whole, decodeSplitAt(stream, cut), "split at byte " + cut);
        }
        assertEquals(4, whole.size());
    }

    @Test
    void growsForLargeMessages() throws Exception {
        char[] big = new char[200_000];
        Arrays.fill(big, 'x');
        String json = "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"" + new String(big) + "\"}}";
        byte[] stream = EventStreamFrames.concat(EventStreamFrames.event("contentBlockDelta", json),
                                                 EventStreamFrames.event("messageStop", "{}"));

        List<String> messages = decodeAll(stream, 4096);

        assertEquals(2, messages.size());
        assertTrue(messages.get(0).endsWith(json), "the large payload intact");
    }

    @Test
    void rejectsPreludeWithBadCrc() {
        byte[] bad = APPDATA_VECTOR.clone();
        bad[8] ^= 1;
        EventStreamDecoder decoder = new EventStreamDecoder();
        decoder.append(ByteBuffer.wrap(bad));

        TranslationException e = assertThrows(TranslationException.class, decoder::next);

        assertTrue(e.getMessage().contains("prelude CRC"), e.getMessage());
    }

    @Test
    void rejectsMessageWithBadCrc() {
        byte[] bad = APPDATA_VECTOR.clone();
        bad[14] ^= 1; // a payload byte
        EventStreamDecoder decoder = new EventStreamDecoder();
        decoder.append(ByteBuffer.wrap(bad));

        TranslationException e = assertThrows(TranslationException.class, decoder::next);

        assertTrue(e.getMessage().contains("message CRC"), e.getMessage());
    }

    @Test
    void rejectsHeadersLongerThanTheMessage() {
        byte[] prelude = ByteBuffer.allocate(12).putInt(16).putInt(100).array();
        CRC32 crc = new CRC32();
        crc.update(prelude, 0, 8);
        ByteBuffer.wrap(prelude).putInt(8, (int) crc.getValue());
        EventStreamDecoder decoder = new EventStreamDecoder();
        decoder.append(ByteBuffer.wrap(prelude));

        TranslationException e = assertThrows(TranslationException.class, decoder::next);

        assertTrue(e.getMessage().contains("impossible lengths"), e.getMessage());
    }

    @Test
    void reportsUnfinishedMessage() throws Exception {
        EventStreamDecoder decoder = new EventStreamDecoder();

        decoder.append(ByteBuffer.wrap(APPDATA_VECTOR, 0, 20));

        assertNull(decoder.next());
        assertTrue(decoder.hasPartialMessage());
    }

    private static List<String> decodeAll(byte[] stream, int chunk) throws TranslationException {
        EventStreamDecoder decoder = new EventStreamDecoder();
        List<String> out = new ArrayList<>();
        for (int i = 0; i < stream.length; i += chunk) {
            decoder.append(ByteBuffer.wrap(stream, i, Math.min(chunk, stream.length - i)));
            drain(decoder, out);
        }
        assertFalse(decoder.hasPartialMessage());
        return out;
    }

    private static List<String> decodeSplitAt(byte[] stream, int cut) throws TranslationException {
        EventStreamDecoder decoder = new EventStreamDecoder();
        List<String> out = new ArrayList<>();
        decoder.append(ByteBuffer.wrap(stream, 0, cut));
        drain(decoder, out);
        decoder.append(ByteBuffer.wrap(stream, cut, stream.length - cut));
        drain(decoder, out);
        return out;
    }

    private static void drain(EventStreamDecoder decoder, List<String> out) throws TranslationException {
        EventStreamMessage m;
        while ((m = decoder.next()) != null) {
            out.add(new TreeMap<>(m.headers()) + " " + new String(m.payload(), StandardCharsets.UTF_8));
        }
    }

    private static void header(ByteArrayOutputStream h, String name, int type, byte[] value) {
        h.write(name.length());
        h.writeBytes(name.getBytes(StandardCharsets.US_ASCII));
        h.write(type);
        h.writeBytes(value);
    }

    private static byte[] withLength(String s) {
        byte[] v = s.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(2 + v.length).putShort((short) v.length).put(v).array();
    }
}
