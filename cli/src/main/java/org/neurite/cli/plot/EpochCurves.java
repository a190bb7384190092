package org.neurite.cli.plot;

import java.awt.geom.Ellipse2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.neurite.cli.viz.PngFiles;

/**
 * Loss and accuracy per epoch, train and test, as the PNGs a run folder keeps ({@code loss.png},
 * {@code accuracy.png}; accuracy only for classifiers). The x axis spans every planned epoch, so a
 * picture taken mid-run shows how far training has come. Train values are means over the epoch
 * while the weights moved; test values are measured after it.
 */
public final class EpochCurves {
    /** Picture size in pixels. */
    public static final int WIDTH = 900;
    public static final int HEIGHT = 540;

    /** One epoch's results; accuracies are NaN for regression models. */
    public record Point(int epoch, double trainLoss, double testLoss, double trainAccuracy, double testAccuracy) {}

    private EpochCurves() {}

    /**
     * Writes {@code loss.png} and, when the points carry accuracies, {@code accuracy.png} into
     * {@code dir}; returns the files written.
     *
     * @param lossName the loss as the train section names it, for the axis label
     * @param epochs the number of epochs planned (at least the last point's epoch)
     */
    public static List<Path> write(Path dir, String model, String lossName, List<Point> points, int epochs) throws IOException {
        List<Path> written = new ArrayList<>();
        Path loss = dir.resolve("loss.png");
        PngFiles.write(loss(model, lossName, points, epochs), loss);
        written.add(loss);
        if (!points.isEmpty() && !Double.isNaN(points.get(0).trainAccuracy())) {
            Path accuracy = dir.resolve("accuracy.png");
            PngFiles.write(accuracy(model, points, epochs), accuracy);
            written.add(accuracy);
        }
        return written;
    }

    public static BufferedImage loss(String model, String lossName, List<Point> points, int epochs) {
        JFreeChart chart = chart(points, epochs, Point::trainLoss, Point::testLoss, "loss (" + lossName.replace('_', ' ') + ")", 1);
        ChartLook.titles(chart, model + ": loss per epoch", "train: mean over the epoch's batches; test: after the epoch");
        return ChartLook.draw(chart, WIDTH, HEIGHT);
    }

    public static BufferedImage accuracy(String model, List<Point> points, int epochs) {
        JFreeChart chart = chart(points, epochs, Point::trainAccuracy, Point::testAccuracy, "accuracy (%)", 100);
        ChartLook.titles(chart, model + ": accuracy per epoch", "train: running accuracy over the epoch; test: after the epoch");
        return ChartLook.draw(chart, WIDTH, HEIGHT);
    }

    private static JFreeChart chart(List<Point> points, int epochs, ToDoubleFunction<Point> train, ToDoubleFunction<Point> test,
                                    String yLabel, double factor) {
        XYSeries trainSeries = new XYSeries("train");
        XYSeries testSeries = new XYSeries("test");
        for (Point p : points) {
            add(trainSeries, p.epoch(), train.applyAsDouble(p) * factor);
            add(testSeries, p.epoch(), test.applyAsDouble(p) * factor);
        }
        XYSeriesCollection data = new XYSeriesCollection();
        data.addSeries(trainSeries);
        data.addSeries(testSeries);

        NumberAxis x = new NumberAxis("epoch");
        x.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        int last = Math.max(epochs, points.isEmpty() ? 1 : points.get(points.size() - 1).epoch());
        x.setRange(0.7, Math.max(last, 2) + 0.3);
        NumberAxis y = new NumberAxis(yLabel);
        y.setAutoRangeIncludesZero(false);
        y.setAutoRangeMinimumSize(factor == 100 ? 1 : 1e-3);

        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        Ellipse2D dot = new Ellipse2D.Double(-4.5, -4.5, 9, 9);
        renderer.setSeriesPaint(0, ChartLook.TRAIN);
        renderer.setSeriesPaint(1, ChartLook.TEST);
        for (int s = 0; s < 2; s++) {
            renderer.setSeriesStroke(s, ChartLook.LINE);
            renderer.setSeriesShape(s, dot);
        }
        XYPlot plot = new XYPlot(data, x, y, renderer);
        ChartLook.plot(plot, true);
        return new JFreeChart(null, ChartLook.TITLE, plot, true);
    }

    private static void add(XYSeries series, int epoch, double value) {
        if (Double.isFinite(value)) series.add(epoch, value);
    }
}
