package org.neurite.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.neurite.io.FileFormatException;
import org.neurite.io.NamedTensor;
import org.neurite.io.SafeTensors;
import org.neurite.tensor.Shape;

/**
 * Data prepared elsewhere (numpy, PyTorch) as safetensors: {@code x} [N, ...sample] and
 * {@code y} [N] or [N, ...target]. Class labels may be stored as integers or floats.
 */
final class TensorFiles {
    private TensorFiles() {}

    static Dataset load(Path file, String task, String split) throws IOException {
        SafeTensors.Contents contents = SafeTensors.read(file);
        NamedTensor x = contents.get("x");
        NamedTensor y = contents.get("y");
        if (x == null || y == null) throw new FileFormatException(file + ": needs tensors named x and y, found "
                + contents.tensors().stream().map(NamedTensor::name).toList());
        if (x.shape().rank() < 2 || y.shape().rank() < 1 || x.shape().dim(0) != y.shape().dim(0)) {
            throw new FileFormatException(file + ": x " + x.shape() + " and y " + y.shape() + " must both start with the sample count N"
                    + " (x at least [N, features])");
        }
        boolean wholeNumbers = true;
        float max = 0;
        for (float v : y.data()) {
            if (!(v >= 0) || v != Math.rint(v) || v > 1 << 24) wholeNumbers = false;
            max = Math.max(max, v);
        }
        boolean classification = task.equals("classification") || task.equals("auto") && wholeNumbers;
        if (classification && !wholeNumbers) {
            throw new FileFormatException(file + ": task = classification, but y holds values that are not class indices (whole numbers >= 0)");
        }
        int classes = classification ? (int) max + 1 : 0;
        return new Dataset(file.getFileName().toString(), x.shape().dropFirst(), x.data(), y.shape().dropFirst(), y.data(), classes,
                List.of(), false, y.shape().dim(0) + " " + split + " samples from " + file);
    }
}
