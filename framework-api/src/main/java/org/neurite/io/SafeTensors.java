package org.neurite.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.neurite.tensor.Shape;

/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header mapping tensor
 * names to {@code {dtype, shape, data_offsets}} (plus optional string {@code __metadata__}), then
 * the raw little-endian data. Files written here are F32 and are written atomically; files read
 * may be F32, F64, F16, BF16, I64, I32 or U8 (converted to float). PyTorch's
 * {@code safetensors.torch.save_file(model.state_dict(), ...)} output loads as is.
 */
public final class SafeTensors {
    /** Headers beyond this are refused before anything is allocated. */
    public static final long MAX_HEADER_BYTES = 64L << 20;

    private static final ObjectMapper JSON = new ObjectMapper();

    private SafeTensors() {}

    /** The tensors of a file, in file order, and its string metadata. */
    public record Contents(List<NamedTensor> tensors, Map<String, String> metadata) {
        public NamedTensor get(String name) {
            for (NamedTensor t : tensors) if (t.name().equals(name)) return t;
            return null;
        }
    }

    public static void write(Path file, List<NamedTensor> tensors, Map<String, String> metadata) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (NamedTensor t : tensors) {
            ObjectNode entry = header.putObject(t.name());
            entry.put("dtype", "F32");
            var shape = entry.putArray("shape");
            for (int d : t.shape().dims()) shape.add(d);
            long bytes = 4L * t.data().length;
            entry.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] json = JSON.writeValueAsBytes(header);
        // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
        int padded = (json.length + 7) / 8 * 8;
        byte[] headerBytes = new byte[padded];
        System.arraycopy(json, 0, headerBytes, 0, json.length);
        for (int i = json.length; i < padded; i++) headerBytes[i] = ' ';
        AtomicFiles.write(file, out -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
            out.write(len.array());
            out.write(headerBytes);
            ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
            for (NamedTensor t : tensors) {
                for (float v : t.data()) {
                    if (buf.remaining() < 4) {
                        out.write(buf.array(), 0, buf.position());
                        buf.clear();
                    }
                    buf.putFloat(v);
                }
            }
            out.write(buf.array(), 0, buf.position());
        });
    }

    /**
     * Reads a whole file.
     *
     * @throws FileFormatException with a message naming the file and what is wrong
     */
    public static Contents read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw new FileFormatException(file + ": not a safetensors file (only " + size + " bytes)");
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0);
            long headerLen = lenBuf.flip().getLong();
            if (headerLen <= 1 || headerLen > MAX_HEADER_BYTES || headerLen > size - 8) {
                throw new FileFormatException(file + ": not a safetensors file (header length " + Long.toUnsignedString(headerLen)
                        + " does not fit a file of " + size + " bytes)");
            }
            ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLen);
            readFully(ch, headerBuf, 8);
            JsonNode header;
            try {
                header = JSON.readTree(new String(headerBuf.array(), StandardCharsets.UTF_8));
            } catch (JsonProcessingException e) {
                throw new FileFormatException(file + ": safetensors header is not valid JSON: " + e.getOriginalMessage());
            }
            if (header == null || !header.isObject()) throw new FileFormatException(file + ": safetensors header is not a JSON object");
            long dataStart = 8 + headerLen;
            long dataLen = size - dataStart;
            Map<String, String> metadata = new LinkedHashMap<>();
            List<NamedTensor> tensors = new ArrayList<>();
            Iterator<Map.Entry<String, JsonNode>> fields = header.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> e = fields.next();
                if (e.getKey().equals("__metadata__")) {
                    e.getValue().fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                    continue;
                }
                tensors.add(readTensor(ch, file, e.getKey(), e.getValue(), dataStart, dataLen));
            }
            return new Contents(tensors, metadata);
        }
    }

    private static NamedTensor readTensor(FileChannel ch, Path file, String name, JsonNode entry, long dataStart, long dataLen)
            throws IOException {
        String where = file + ": tensor '" + name + "'";
        JsonNode dtypeNode = entry.get("dtype");
        JsonNode shapeNode = entry.get("shape");
        JsonNode offsets = entry.get("data_offsets");
        if (dtypeNode == null || shapeNode == null || offsets == null || !shapeNode.isArray() || !offsets.isArray() || offsets.size() != 2)
            throw new FileFormatException(where + ": header entry needs dtype, shape and data_offsets");
        int width = switch (dtypeNode.asText()) {
            case "F64", "I64" -> 8;
            case "F32", "I32" -> 4;
            case "F16", "BF16" -> 2;
            case "U8", "I8", "BOOL" -> 1;
            default -> throw new FileFormatException(where + ": unsupported dtype " + dtypeNode.asText());
        };
        int[] dims = new int[shapeNode.size()];
        long count = 1;
        for (int i = 0; i < dims.length; i++) {
            long d = shapeNode.get(i).asLong(-1);
            if (d < 0 || d > Integer.MAX_VALUE) throw new FileFormatException(where + ": invalid shape " + shapeNode);
            dims[i] = (int) d;
            count *= d;
            if (count > Integer.MAX_VALUE) throw new FileFormatException(where + ": too many elements " + shapeNode);
        }
        long begin = offsets.get(0).asLong(-1);
        long end = offsets.get(1).asLong(-1);
        if (begin < 0 || end < begin || end > dataLen || end - begin != count * width)
            throw new FileFormatException(where + ": data_offsets " + offsets + " do not match shape " + shapeNode
                    + " and dtype " + dtypeNode.asText() + " in " + dataLen + " data bytes");
        ByteBuffer raw = ByteBuffer.allocate((int) (end - begin)).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, raw, dataStart + begin);
        raw.flip();
        float[] data = new float[(int) count];
        String dtype = dtypeNode.asText();
        for (int i = 0; i < data.length; i++) {
            data[i] = switch (dtype) {
                case "F32" -> raw.getFloat();
                case "F64" -> (float) raw.getDouble();
                case "I64" -> raw.getLong();
                case "I32" -> raw.getInt();
                case "F16" -> halfToFloat(raw.getShort());
                case "BF16" -> Float.intBitsToFloat((raw.getShort() & 0xFFFF) << 16);
                case "U8", "BOOL" -> raw.get() & 0xFF;
                default -> raw.get();
            };
        }
        return new NamedTensor(name, Shape.of(dims), data);
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            if (n < 0) throw new FileFormatException("unexpected end of file");
            pos += n;
        }
    }

    /** IEEE 754 binary16 to float (Float.float16ToFloat arrived only in Java 20). */
    static float halfToFloat(short h) {
        int bits = h & 0xFFFF;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1F;
        int mant = bits & 0x3FF;
        if (exp == 0x1F) return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        if (exp == 0) {
            float v = mant * 0x1.0p-24f;
            return sign == 0 ? v : -v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }
}
