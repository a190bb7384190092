package com.example.app;

import java.nio.file.Path;
import java.util.Arrays;
import org.neurite.data.Dataset;
import org.neurite.embedded.Model;
import org.neurite.embedded.Neurite;
import org.neurite.engine.Evaluation;
import org.neurite.engine.TrainingCallback;
import org.neurite.engine.TrainingRun;

/** Trains LeNet-5 for a few steps and predicts, as a program outside the Neurite build does (docs/java-api.md). */
public final class TrainDigits {
    public static void main(String[] args) throws Exception {
        try (Model model = Neurite.load(Path.of(args[0]))) {
            var data = model.data();
            Dataset train = data.train().head(Integer.parseInt(args[1]));
            model.epochs(2).fit(train, new TrainingCallback() {
                @Override public void epochEnd(TrainingRun.EpochEnd e) {
                    System.out.println("epoch " + e.epoch() + " loss: " + e.train().loss());
                }
            });
            Evaluation test = model.evaluate(data.test().head(500));
            System.out.println("test accuracy: " + test.accuracy());
            float[] images = Arrays.copyOf(data.test().features(), 8 * model.inputSize());
            int[] labels = new int[8];
            for (int i = 0; i < 8; i++) labels[i] = data.test().label(i);
            System.out.println("predicted: " + Arrays.toString(model.classify(images, 8)));
            System.out.println("labels: " + Arrays.toString(labels));
        }
    }
}
