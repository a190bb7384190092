package org.neurite.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
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
 *
 * <p>Reading trusts nothing in the file: the header length is checked against the file and
 * {@link #MAX_HEADER_BYTES} before the header is read, every shape and byte range against the
 * data that is really there, and no two tensors may share bytes (else a small file could name
 * the same megabyte a thousand times). Data is converted through a fixed 64 KiB buffer, so
 * reading allocates the returned floats and little else: memory stays proportional to the file.
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
        FileErrors.requireFile(file);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw new FileFormatException(file + ": not a safetensors file (only " + size + " bytes)");
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, file, lenBuf, 0);
            long headerLen = lenBuf.flip().getLong();
            if (headerLen <= 1 || headerLen > MAX_HEADER_BYTES || headerLen > size - 8) {
                throw new FileFormatException(file + ": not a safetensors file (header length " + Long.toUnsignedString(headerLen)
                        + " does not fit a file of " + size + " bytes)");
            }
            ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLen);
            readFully(ch, file, headerBuf, 8);
            JsonNode header;
            try {
                header = JSON.readTree(headerBuf.array());
            } catch (JsonProcessingException e) {
                throw new FileFormatException(file + ": safetensors header is not valid JSON: " + e.getOriginalMessage());
            }
            if (header == null || !header.isObject()) throw new FileFormatException(file + ": safetensors header is not a JSON object");
            long dataStart = 8 + headerLen;
            long dataLen = size - dataStart;
            Map<String, String> metadata = new LinkedHashMap<>();
            List<Entry> entries = new ArrayList<>();
            Iterator<Map.Entry<String, JsonNode>> fields = header.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> e = fields.next();
                if (e.getKey().equals("__metadata__")) {
                    e.getValue().fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                    continue;
                }
                entries.add(entry(file, e.getKey(), e.getValue(), dataLen));
            }
            checkDisjoint(file, entries);
            List<NamedTensor> tensors = new ArrayList<>(entries.size());
            ByteBuffer chunk = ByteBuffer.allocate(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
            for (Entry e : entries) tensors.add(readTensor(ch, file, e, dataStart, chunk));
            return new Contents(tensors, metadata);
        }
    }

    /** Reads happen through a buffer of this size, whatever the tensor's size. */
    private static final int CHUNK = 1 << 16;

    /** One header entry, checked against the data section: bytes {@code [begin, end)} of it. */
    private record Entry(String name, String dtype, int width, int[] dims, int count, long begin, long end) {}

    private static Entry entry(Path file, String name, JsonNode entry, long dataLen) throws FileFormatException {
        String where = file + ": tensor '" + name + "'";
        JsonNode dtypeNode = entry.get("dtype");
        JsonNode shapeNode = entry.get("shape");
        JsonNode offsets = entry.get("data_offsets");
        if (dtypeNode == null || shapeNode == null || offsets == null || !shapeNode.isArray() || !offsets.isArray() || offsets.size() != 2)
            throw new FileFormatException(where + ": header entry needs dtype, shape and data_offsets");
        String dtype = dtypeNode.asText();
        int width = switch (dtype) {
            case "F64", "I64" -> 8;
            case "F32", "I32" -> 4;
            case "F16", "BF16" -> 2;
            case "U8", "I8", "BOOL" -> 1;
            default -> throw new FileFormatException(where + ": unsupported dtype " + dtype);
        };
        int[] dims = new int[shapeNode.size()];
        long count = 1;
        for (int i = 0; i < dims.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.canConvertToLong() || !d.isIntegralNumber() || d.asLong() < 0 || d.asLong() > Integer.MAX_VALUE)
                throw new FileFormatException(where + ": invalid shape " + shapeNode);
            dims[i] = (int) d.asLong();
            count *= dims[i];
            // Java arrays stop just short of 2^31 elements.
            if (count > Integer.MAX_VALUE - 8) throw new FileFormatException(where + ": too many elements " + shapeNode);
        }
        JsonNode b = offsets.get(0);
        JsonNode e = offsets.get(1);
        long begin = b.isIntegralNumber() && b.canConvertToLong() ? b.asLong() : -1;
        long end = e.isIntegralNumber() && e.canConvertToLong() ? e.asLong() : -1;
        if (begin < 0 || end < begin || end > dataLen || end - begin != count * width)
            throw new FileFormatException(where + ": data_offsets " + offsets + " do not match shape " + shapeNode
                    + " and dtype " + dtype + " in " + dataLen + " data bytes");
        return new Entry(name, dtype, width, dims, (int) count, begin, end);
    }

    /** No two tensors may cover the same bytes, so the floats read never outnumber the bytes there. */
    private static void checkDisjoint(Path file, List<Entry> entries) throws FileFormatException {
        List<Entry> byStart = new ArrayList<>(entries);
        byStart.removeIf(x -> x.begin() == x.end());
        byStart.sort(java.util.Comparator.comparingLong(Entry::begin));
        for (int i = 1; i < byStart.size(); i++) {
            Entry before = byStart.get(i - 1);
            Entry next = byStart.get(i);
            if (next.begin() < before.end()) {
                throw new FileFormatException(file + ": tensors '" + before.name() + "' and '" + next.name()
                        + "' overlap (data bytes " + before.begin() + ".." + before.end() + " and " + next.begin() + ".." + next.end() + ")");
            }
        }
    }

    private static NamedTensor readTensor(FileChannel ch, Path file, Entry e, long dataStart, ByteBuffer chunk) throws IOException {
        float[] data = new float[e.count()];
        long position = dataStart + e.begin();
        int done = 0;
        while (done < data.length) {
            int values = Math.min(data.length - done, chunk.capacity() / e.width());
            chunk.clear().limit(values * e.width());
            readFully(ch, file, chunk, position);
            position += (long) values * e.width();
            chunk.flip();
            for (int i = 0; i < values; i++) data[done + i] = value(chunk, e.dtype());
            done += values;
        }
        return new NamedTensor(e.name(), Shape.of(e.dims()), data);
    }

    private static float value(ByteBuffer raw, String dtype) {
        return switch (dtype) {
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

    private static void readFully(FileChannel ch, Path file, ByteBuffer buf, long position) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            if (n < 0) throw new FileFormatException(file + ": unexpected end of file at byte " + pos + " (it was cut short while being read)");
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
