package org.neurite.backend.opencl;

import org.neurite.backend.Slice;

/**
 * A {@link Slice} on the device: the buffer of a {@link ClTensor} and the element range
 * {@code [offset, offset + length)} in it. Given to {@link ClKernel} as an argument it stands for
 * two kernel arguments, the buffer and its int offset, the order every slice-taking kernel declares
 * them in.
 */
record ClSlice(ClTensor buffer, int offset, int length) {

    /** The device form of a slice of a {@link ClTensor} (null stays null). */
    static ClSlice of(Slice s) {
        return s == null ? null : new ClSlice(ClTensor.of(s.tensor()), s.offset(), s.length());
    }
}
