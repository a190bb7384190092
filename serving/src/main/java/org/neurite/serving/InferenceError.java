package org.neurite.serving;

/**
 * A request the server refuses, with the HTTP status and the sentence that says what was wrong;
 * the server answers it as {@code {"error": message}} (the Open Inference Protocol's error body),
 * never with a stack trace.
 */
final class InferenceError extends RuntimeException {
    private final int status;

    InferenceError(int status, String message) {
        super(message, null, false, false);
        this.status = status;
    }

    int status() { return status; }

    static InferenceError badRequest(String message) { return new InferenceError(400, message); }

    static InferenceError notFound(String message) { return new InferenceError(404, message); }

    /** The most characters of a client's string that a message repeats: enough to recognise it. */
    static final int ECHO_LIMIT = 100;

    /**
     * {@code text}, from a client, as a message repeats it: cut after {@link #ECHO_LIMIT}
     * characters with an ellipsis, so that a megabyte-long name does not come back as a
     * megabyte-long error.
     */
    static String echo(String text) {
        if (text.length() <= ECHO_LIMIT) return text;
        int end = Character.isHighSurrogate(text.charAt(ECHO_LIMIT - 1)) ? ECHO_LIMIT - 1 : ECHO_LIMIT;
        return text.substring(0, end) + "…";
    }
}
