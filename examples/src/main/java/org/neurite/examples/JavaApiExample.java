package org.neurite.examples;

import java.nio.file.Path;
import java.util.Arrays;
import org.neurite.embedded.Model;
import org.neurite.embedded.Neurite;
import org.neurite.engine.Evaluation;
import org.neurite.engine.TrainingCallback;
import org.neurite.engine.TrainingRun;

/**
 * Neurite from plain Java, line for line what {@code docs/java-api.md} shows: load LeNet-5 from
 * its script, train it on 2,000 Fashion-MNIST images (the full set when installed, else the
 * bundled subset) with a validation split, early stopping and the best epoch kept, evaluate it on
 * the test split (accuracy, top-5, per-class F1) and classify a batch of eight test images. Run
 * with {@code java --add-modules jdk.incubator.vector -cp ... org.neurite.examples.JavaApiExample [MODEL.nn]}.
 */
public final class JavaApiExample {
    private JavaApiExample() {}

    public static void main(String[] args) throws Exception {
        Outcome o = run(Path.of(args.length > 0 ? args[0] : "examples/lenet5.nn"));
        System.out.println("classes " + Arrays.toString(o.classes()) + ", labels " + Arrays.toString(o.labels()));
    }

    /** What {@link #run} did: the run's result, the test evaluation, and the batch's classes with their labels. */
    public record Outcome(TrainingRun.Result fit, Evaluation test, int[] classes, int[] labels) {}

    public static Outcome run(Path script) throws Exception {
        try (Model model = Neurite.load(script)) {                                 // layers and the CPU backend from the class path
            var data = model.data();                                               // the train section's data: Fashion-MNIST
            model.epochs(8).validation(0.1).earlyStopping("val_loss", 2).keepBest("val_accuracy");
            TrainingRun.Result fit = model.fit(data.train().head(2_000), new TrainingCallback() {
                @Override public void epochEnd(TrainingRun.EpochEnd e) {
                    System.out.printf("epoch %d: val accuracy %.2f%%%n", e.epoch(), 100 * e.validation().accuracy());
                }
            });
            Evaluation test = model.evaluate(data.test());                        // accuracy, top-5, per-class precision/recall/F1
            System.out.printf("kept epoch %d: test accuracy %.2f%%, top-5 %.2f%%, F1 of %s %.3f%n", fit.kept().epoch(),
                    100 * test.accuracy(), 100 * test.top5(), data.test().classNames().get(0), test.f1(0));
            float[] images = Arrays.copyOf(data.test().features(), 8 * model.inputSize());
            int[] classes = model.classify(images, 8);                            // a batch of eight test images

            int[] labels = new int[8];
            for (int i = 0; i < 8; i++) labels[i] = data.test().label(i);
            return new Outcome(fit, test, classes, labels);
        }
    }
}
