package org.neurite.backend;

/**
 * A model and batch size that will not fit the backend's memory, refused before anything is
 * allocated; the message gives the estimate and what to change.
 */
public class OutOfMemoryException extends IllegalArgumentException {
    public OutOfMemoryException(String message) { super(message); }

    /** A refusal that adds context (which model, which batch) to a backend's own out-of-memory report. */
    public OutOfMemoryException(String message, Throwable cause) { super(message, cause); }
}
