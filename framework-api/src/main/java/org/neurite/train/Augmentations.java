package org.neurite.train;

import static org.neurite.layer.ParamSpec.optional;
import static org.neurite.layer.ParamSpec.required;

import java.util.List;
import org.neurite.layer.ArgumentException;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.ParamSchema;
import org.neurite.layer.ParamType;
import org.neurite.tensor.Shape;

/**
 * The augmentations a train section's {@code augment = [...]} can list, with their argument
 * schemas. Each transforms one training sample of shape [C, H, W] into another of the same shape,
 * drawing its randomness from (seed, epoch, sample index) alone; torchvision's names and meanings:
 * <ul>
 *   <li>{@code random_crop(size, pad=4)}: zeros added on every side, then a {@code size} window
 *       (the input's height and width) cut at a random place (RandomCrop with padding);</li>
 *   <li>{@code flip(horizontal, p=0.5)}: mirrored left-right ({@code vertical}: upside down) with
 *       probability {@code p} (RandomHorizontalFlip, RandomVerticalFlip);</li>
 *   <li>{@code rotate(degrees)}: turned about the centre by an angle drawn from
 *       {@code [-degrees, degrees]}, bilinear, corners filled with 0 (RandomRotation);</li>
 *   <li>{@code jitter(brightness=0, contrast=0)}: pixel values scaled by a factor drawn from
 *       {@code [1 - brightness, 1 + brightness]}, then pulled toward or pushed from the mean grey
 *       by a factor from {@code [1 - contrast, 1 + contrast]}, clamped to [0, 1] (ColorJitter).</li>
 * </ul>
 * Evaluation, testing and prediction never augment.
 */
public final class Augmentations {
    private Augmentations() {}

    public static final List<String> NAMES = List.of("random_crop", "flip", "rotate", "jitter");

    /** What {@code flip}'s direction may be; written as a bare name ({@code flip(vertical)}). */
    public static final List<String> DIRECTIONS = List.of("horizontal", "vertical");

    /** The schema of augmentation {@code name}, or null if there is no such augmentation. */
    public static ParamSchema schema(String name) {
        return switch (name) {
            case "random_crop" -> ParamSchema.of(
                    required("size", ParamType.INTS, "height and width of the crop (one int for a square): the input's own")
                            .range(1, Double.POSITIVE_INFINITY),
                    optional("pad", ParamType.INT, 4, "zero pixels added on each side before cropping: the largest shift")
                            .range(1, 4096));
            case "flip" -> ParamSchema.of(
                    optional("direction", ParamType.STRING, "horizontal", "horizontal (left-right) or vertical (upside down)"),
                    optional("p", ParamType.FLOAT, 0.5, "probability that a sample is flipped").range(0, 1));
            case "rotate" -> ParamSchema.of(
                    required("degrees", ParamType.FLOAT, "largest angle either way; each sample turns by one drawn from [-degrees, degrees]")
                            .range(0, 180));
            case "jitter" -> ParamSchema.of(
                    optional("brightness", ParamType.FLOAT, 0.0, "values scale by a factor from [1 - brightness, 1 + brightness]")
                            .range(0, 1),
                    optional("contrast", ParamType.FLOAT, 0.0, "distance from the mean grey scales by a factor from [1 - contrast, 1 + contrast]")
                            .range(0, 1));
            default -> null;
        };
    }

    /**
     * Checks what the schema cannot, against the model's input {@code sample} [C, H, W]: a crop
     * the size of the input (so every sample keeps the shape the model takes), a known flip
     * direction, and a jitter that changes something.
     *
     * @param args arguments bound to {@link #schema(String) schema(name)}
     * @throws ArgumentException naming the argument at fault (position -1)
     */
    public static void check(String name, LayerArgs args, Shape sample) {
        switch (name) {
            case "random_crop" -> {
                int[] size = args.getInts("size");
                int h = sample.dim(1);
                int w = sample.dim(2);
                boolean fits = size.length == 1 ? size[0] == h && size[0] == w
                        : size.length == 2 && size[0] == h && size[1] == w;
                if (!fits) {
                    String wanted = h == w ? Integer.toString(h) : "[" + h + ", " + w + "]";
                    throw new ArgumentException("size", -1, "parameter 'size' must be " + wanted + ", the input's height and width "
                            + "(a crop keeps the shape the model takes), got " + text(size));
                }
            }
            case "flip" -> {
                String direction = args.getString("direction");
                if (!DIRECTIONS.contains(direction)) {
                    throw new ArgumentException("direction", -1, "parameter 'direction' must be horizontal or vertical, got " + direction);
                }
            }
            case "jitter" -> {
                if (args.getDouble("brightness") == 0 && args.getDouble("contrast") == 0) {
                    throw new ArgumentException(null, -1, "give brightness or contrast (or both) above 0, e.g. jitter(brightness=0.2)");
                }
            }
            default -> { }
        }
    }

    private static String text(int[] values) {
        if (values.length == 1) return Integer.toString(values[0]);
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < values.length; i++) b.append(i == 0 ? "" : ", ").append(values[i]);
        return b.append(']').toString();
    }
}
