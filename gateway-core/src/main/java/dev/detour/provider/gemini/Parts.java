package dev.detour.provider.gemini;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.detour.api.InvalidRequestException;
import java.util.Locale;

/**
 * Maps the content parts of an OpenAI user message to Gemini parts: text, images (a {@code data:} URL inline, an
 * http(s) URL by reference), input audio and inline files. Thread-safe, stateless.
 */
final class Parts {

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final String UNSUPPORTED_VALUE = "unsupported_value";

    private Parts() {
    }

    /** Returns the Gemini parts of a user message's {@code content} (a string or an array of parts). */
    static ArrayNode user(JsonNode content, String param) throws InvalidRequestException {
        ArrayNode parts = NODES.arrayNode();
        if (content == null || content.isNull()) {
            return parts;
        }
        if (content.isTextual()) {
            GenerateRequests.addText(parts, content.asText());
            return parts;
        }
        if (!content.isArray()) {
            throw new InvalidRequestException(param + " must be a string or an array of parts.", param,
                                              "invalid_type");
        }
        for (int k = 0; k < content.size(); k++) {
            JsonNode part = content.get(k);
            String partParam = param + "[" + k + "]";
            String type = GenerateRequests.text(part, "type");
            if (type == null) {
                throw new InvalidRequestException(partParam + ".type is missing.", partParam + ".type",
                                                  "invalid_value");
            }
            switch (type) {
                case "text":
                    GenerateRequests.addText(parts, part.path("text").asText());
                    break;
                case "image_url":
                    parts.add(image(part.get("image_url"), partParam + ".image_url.url"));
                    break;
                case "input_audio":
                    parts.add(audio(part.path("input_audio"), partParam + ".input_audio"));
                    break;
                case "file":
                    parts.add(file(part.path("file"), partParam + ".file"));
                    break;
                default:
                    throw new InvalidRequestException(partParam + ": part type '" + type + "' is not supported by "
                                                      + "this model's provider (Gemini).", partParam + ".type",
                                                      UNSUPPORTED_VALUE);
            }
        }
        return parts;
    }

    private static ObjectNode image(JsonNode imageUrl, String param) throws InvalidRequestException {
        JsonNode url = imageUrl == null ? null : imageUrl.isTextual() ? imageUrl : imageUrl.get("url");
        if (url == null || !url.isTextual()) {
            throw new InvalidRequestException(param + " is missing.", param, "invalid_value");
        }
        String value = url.asText();
        if (value.regionMatches(true, 0, "data:", 0, 5)) {
            return inline(value, param);
        }
        String lower = value.toLowerCase(Locale.ROOT);
        if (!lower.startsWith("https://") && !lower.startsWith("http://")) {
            throw new InvalidRequestException(param + " must be an http(s) URL or a data: URL.", param,
                                              "invalid_value");
        }
        ObjectNode part = NODES.objectNode();
        ObjectNode fileData = part.putObject("fileData");
        if (isFilesApi(lower)) {
            // Gemini knows the type of a file it stores.
            fileData.put("fileUri", value);
            return part;
        }
        String mimeType = imageType(lower);
        if (mimeType == null) {
            throw new InvalidRequestException(param + ": Gemini needs the image type of a linked image, and this URL "
                                              + "does not end in .png, .jpg, .jpeg, .webp, .heic or .heif. Send the "
                                              + "image inline as a data: URL instead.", param, UNSUPPORTED_VALUE);
        }
        fileData.put("mimeType", mimeType);
        fileData.put("fileUri", value);
        return part;
    }

    private static ObjectNode audio(JsonNode audio, String param) throws InvalidRequestException {
        String data = GenerateRequests.text(audio, "data");
        String format = GenerateRequests.text(audio, "format");
        if (data == null || format == null) {
            throw new InvalidRequestException(param + " needs 'data' and 'format'.", param, "invalid_value");
        }
        String mimeType;
        switch (format.toLowerCase(Locale.ROOT)) {
            case "wav":
                mimeType = "audio/wav";
                break;
            case "mp3":
                mimeType = "audio/mp3";
                break;
            default:
                throw new InvalidRequestException(param + ".format '" + format + "' is not one of wav, mp3.",
                                                  param + ".format", UNSUPPORTED_VALUE);
        }
        return inlineData(mimeType, data);
    }

    private static ObjectNode file(JsonNode file, String param) throws InvalidRequestException {
        String data = GenerateRequests.text(file, "file_data");
        if (data == null) {
            throw new InvalidRequestException(param + ": only inline files ('file_data') are supported by this "
                                              + "model's provider (Gemini), not OpenAI file ids.", param,
                                              UNSUPPORTED_VALUE);
        }
        if (data.regionMatches(true, 0, "data:", 0, 5)) {
            return inline(data, param + ".file_data");
        }
        String filename = GenerateRequests.text(file, "filename");
        if (filename != null && filename.toLowerCase(Locale.ROOT).endsWith(".pdf")) {
            return inlineData("application/pdf", data);
        }
        throw new InvalidRequestException(param + ".file_data must be a data: URL naming its type (or a .pdf "
                                          + "'filename' must be given).", param + ".file_data", UNSUPPORTED_VALUE);
    }

    /** Maps {@code data:<mime>;base64,<data>} to an {@code inlineData} part. */
    private static ObjectNode inline(String dataUrl, String param) throws InvalidRequestException {
        int comma = dataUrl.indexOf(',');
        String header = comma < 0 ? "" : dataUrl.substring(5, comma);
        if (comma < 0 || !header.toLowerCase(Locale.ROOT).endsWith(";base64")) {
            throw new InvalidRequestException(param + " must be a base64 data: URL (data:<type>;base64,<data>).",
                                              param, "invalid_value");
        }
        int semicolon = header.indexOf(';');
        String mimeType = header.substring(0, semicolon).trim();
        if (mimeType.isEmpty()) {
            throw new InvalidRequestException(param + ": the data: URL names no media type.", param,
                                              "invalid_value");
        }
        return inlineData(mimeType.toLowerCase(Locale.ROOT), dataUrl.substring(comma + 1));
    }

    private static ObjectNode inlineData(String mimeType, String data) {
        ObjectNode part = NODES.objectNode();
        ObjectNode inline = part.putObject("inlineData");
        inline.put("mimeType", mimeType);
        inline.put("data", data);
        return part;
    }

    private static boolean isFilesApi(String lowerUrl) {
        return lowerUrl.startsWith("https://generativelanguage.googleapis.com/") && lowerUrl.contains("/files/");
    }

    /** Returns the image type named by the URL path's extension, or {@code null}. */
    private static String imageType(String lowerUrl) {
        String path = lowerUrl;
        int cut = indexOfAny(path, '?', '#');
        if (cut >= 0) {
            path = path.substring(0, cut);
        }
        int dot = path.lastIndexOf('.');
        if (dot < 0 || path.indexOf('/', dot) >= 0) {
            return null;
        }
        switch (path.substring(dot + 1)) {
            case "png":
                return "image/png";
            case "jpg":
            case "jpeg":
                return "image/jpeg";
            case "webp":
                return "image/webp";
            case "heic":
                return "image/heic";
            case "heif":
                return "image/heif";
            default:
                return null;
        }
    }

    private static int indexOfAny(String s, char a, char b) {
        int i = s.indexOf(a);
        int j = s.indexOf(b);
        return i < 0 ? j : j < 0 ? i : Math.min(i, j);
    }
}
