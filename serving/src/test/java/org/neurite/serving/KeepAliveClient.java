package org.neurite.serving;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The load measurement's client: one kept-alive HTTP/1.1 connection that sends requests built
 * once beforehand ({@link #request}) and reads each response by its Content-Length into a reused
 * buffer, with no per-request strings or parsing beyond the status line and headers. It spends a
 * fraction of {@link java.net.http.HttpClient}'s CPU per request, which matters when clients and
 * server share two cores and the figure sought is the server's own cost. Protocol tests use
 * {@link V2Client}.
 */
final class KeepAliveClient implements AutoCloseable {
    private static final byte[] CONTENT_LENGTH = "content-length:".getBytes(StandardCharsets.US_ASCII);

    private final Socket socket;
    private final OutputStream out;
    private final InputStream in;
    /** Bytes read from the socket: the response being parsed, and possibly the start of none after it. */
    private byte[] buffer = new byte[1 << 16];
    private int filled;
    private int bodyStart;
    private int bodyLength;

    KeepAliveClient(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setTcpNoDelay(true);
        out = socket.getOutputStream();
        in = socket.getInputStream();
    }

    /**
     * A whole POST (head and body) to send with {@link #exchange}; with {@code jsonLength >= 0} as
     * the binary-data extension (that many bytes of JSON header, then raw tensors).
     */
    static byte[] request(String path, byte[] body, int jsonLength) {
        byte[] head = ("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                + (jsonLength < 0 ? "application/json" : "application/octet-stream\r\n" + V2Codec.HEADER_LENGTH + ": " + jsonLength)
                + "\r\nContent-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] request = Arrays.copyOf(head, head.length + body.length);
        System.arraycopy(body, 0, request, head.length, body.length);
        return request;
    }

    /** Sends one {@link #request} and reads its response; returns the status. The body is {@link #body} until the next exchange. */
    int exchange(byte[] request) throws IOException {
        out.write(request);
        out.flush();
        filled = 0;
        int headEnd;
        while ((headEnd = headEnd()) < 0) fill();
        int status = (buffer[9] - '0') * 100 + (buffer[10] - '0') * 10 + (buffer[11] - '0');
        bodyLength = contentLength(headEnd);
        bodyStart = headEnd;
        if (bodyStart + bodyLength > buffer.length) buffer = Arrays.copyOf(buffer, bodyStart + bodyLength);
        while (filled < bodyStart + bodyLength) fill();
        return status;
    }

    /** The last response's body. */
    byte[] body() { return Arrays.copyOfRange(buffer, bodyStart, bodyStart + bodyLength); }

    /** Whether the last response's body is exactly {@code expected}. */
    boolean bodyEquals(byte[] expected) {
        return Arrays.equals(buffer, bodyStart, bodyStart + bodyLength, expected, 0, expected.length);
    }

    private void fill() throws IOException {
        if (filled == buffer.length) buffer = Arrays.copyOf(buffer, 2 * buffer.length);
        int n = in.read(buffer, filled, buffer.length - filled);
        if (n < 0) throw new IOException("connection closed after " + filled + " bytes of a response");
        filled += n;
    }

    /** Where the body starts (after the blank line), or -1 while the head is incomplete. */
    private int headEnd() {
        for (int i = 3; i < filled; i++) {
            if (buffer[i] == '\n' && buffer[i - 1] == '\r' && buffer[i - 2] == '\n' && buffer[i - 3] == '\r') return i + 1;
        }
        return -1;
    }

    private int contentLength(int headEnd) throws IOException {
        for (int line = 0; line < headEnd; ) {
            int end = line;
            while (buffer[end] != '\n') end++;
            if (end - line > CONTENT_LENGTH.length && startsWithIgnoringCase(line, CONTENT_LENGTH)) {
                return Integer.parseInt(new String(buffer, line + CONTENT_LENGTH.length, end - line - CONTENT_LENGTH.length,
                        StandardCharsets.US_ASCII).strip());
            }
            line = end + 1;
        }
        throw new IOException("response without Content-Length: " + new String(buffer, 0, headEnd, StandardCharsets.US_ASCII));
    }

    private boolean startsWithIgnoringCase(int at, byte[] lowerPrefix) {
        for (int i = 0; i < lowerPrefix.length; i++) if (Character.toLowerCase(buffer[at + i]) != lowerPrefix[i]) return false;
        return true;
    }

    @Override public void close() throws IOException { socket.close(); }
}
