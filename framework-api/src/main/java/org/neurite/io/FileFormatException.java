package org.neurite.io;

import java.io.IOException;

/** A data, weight or checkpoint file that is not what it claims to be; the message names the file. */
public class FileFormatException extends IOException {
    public FileFormatException(String message) { super(message); }
}
