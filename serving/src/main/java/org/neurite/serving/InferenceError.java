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
}
