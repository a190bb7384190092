package org.neurite.serving;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * The load measurement's client: one kept-alive HTTP/1.1 connection, a POST with Content-Length,
 * a response read by its Content-Length. It spends a fraction of {@link java.net.http.HttpClient}'s
 * CPU per request, which matters when clients and server share two cores and the figure sought is
 * the server's own cost. Protocol tests use {@link V2Client}.
 */
final class KeepAliveClient implements AutoCloseable {
    private final Socket socket;
    private final OutputStream out;
    private final InputStream in;

    KeepAliveClient(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setTcpNoDelay(true);
        out = socket.getOutputStream();
        in = new BufferedInputStream(socket.getInputStream(), 1 << 16);
    }

    /** POSTs {@code body} as JSON; returns the status and body. */
    V2Client.Reply post(String path, byte[] body) throws IOException {
        return post(path, body, -1);
    }

    /**
     * POSTs {@code body}; with {@code jsonLength >= 0} as the binary-data extension (that many
     * bytes of JSON header, then raw tensors). Returns the status and body (as ISO-8859-1 text, so
     * binary outputs survive).
     */
    V2Client.Reply post(String path, byte[] body, int jsonLength) throws IOException {
        String head = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                + (jsonLength < 0 ? "application/json" : "application/octet-stream\r\nInference-Header-Content-Length: " + jsonLength)
                + "\r\nContent-Length: " + body.length + "\r\n\r\n";
        out.write(head.getBytes(StandardCharsets.US_ASCII));
        out.write(body);
        out.flush();
        String status = line();
        int code = Integer.parseInt(status.substring(9, 12));
        int length = -1;
        for (String h; !(h = line()).isEmpty(); ) {
            String lower = h.toLowerCase(Locale.ROOT);
            if (lower.startsWith("content-length:")) length = Integer.parseInt(h.substring(15).strip());
        }
        if (length < 0) throw new IOException("response without Content-Length: " + status);
        byte[] b = in.readNBytes(length);
        return new V2Client.Reply(code, new String(b, jsonLength < 0 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1), null);
    }

    private String line() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream(64);
        for (int c; (c = in.read()) != '\n'; ) {
            if (c < 0) throw new IOException("connection closed");
            if (c != '\r') b.write(c);
        }
        return b.toString(StandardCharsets.US_ASCII);
    }

    @Override public void close() throws IOException { socket.close(); }
}
