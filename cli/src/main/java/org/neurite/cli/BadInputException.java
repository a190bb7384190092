package org.neurite.cli;

/** A command-line argument or file that cannot be used; reported as one line with exit status 2. */
final class BadInputException extends RuntimeException {
    BadInputException(String message) { super(message); }
}
