package org.neurite.cli.plot;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.text.DecimalFormat;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.neurite.cli.viz.Colormap;

/**
 * ‖dL/dh_t‖ per time step of each recurrent layer ({@code nn train --grad-norms}), on a log scale
 * because vanishing gradients shrink geometrically with the distance from the loss. One line per
 * recorded epoch (at most {@value #MAX_LINES} evenly spread ones, first and last included), coloured
 * from dark (early) to light (late) so the change over training reads at a glance; several layers
 * differ by dash pattern.
 */
public final class GradientNormChart {
    public static final int WIDTH = 900;
    public static final int HEIGHT = 540;
    public static final int MAX_LINES = 6;

    private static final float[][] DASHES = {null, {10f, 6f}, {3f, 5f}, {12f, 4f, 3f, 4f}};

    private GradientNormChart() {}

    /**
     * @param byEpoch per epoch, per recurrent node, the mean norm at each time step; not empty
     */
    public static BufferedImage render(String model, SortedMap<Integer, Map<String, double[]>> byEpoch) {
        if (byEpoch.isEmpty()) throw new IllegalArgumentException("no gradient norms were recorded");
        List<Integer> epochs = spread(new ArrayList<>(byEpoch.keySet()));
        XYSeriesCollection data = new XYSeriesCollection();
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
        List<String> nodes = new ArrayList<>(byEpoch.get(epochs.get(epochs.size() - 1)).keySet());
        int series = 0;
        for (int e = 0; e < epochs.size(); e++) {
            Map<String, double[]> perNode = byEpoch.get(epochs.get(e));
            Color colour = epochs.size() == 1 ? ChartLook.TRAIN
                    : new Color(Colormap.VIRIDIS.rgb(0.85 * e / (epochs.size() - 1)));
            for (int k = 0; k < nodes.size(); k++) {
                double[] norms = perNode.get(nodes.get(k));
                if (norms == null) continue;
                String name = (nodes.size() > 1 ? nodes.get(k) + ", " : "") + "epoch " + epochs.get(e);
                XYSeries s = new XYSeries(name);
                for (int t = 0; t < norms.length; t++) if (norms[t] > 0 && Double.isFinite(norms[t])) s.add(t, norms[t]);
                data.addSeries(s);
                renderer.setSeriesPaint(series, colour);
                float[] dash = DASHES[k % DASHES.length];
                renderer.setSeriesStroke(series, dash == null ? ChartLook.LINE
                        : new BasicStroke(2.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 10f, dash, 0f));
                series++;
            }
        }
        NumberAxis x = new NumberAxis("time step t");
        x.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        x.setAutoRangeIncludesZero(true);
        x.setLowerMargin(0);    // the lines start at t = 0 and end at the last step
        x.setUpperMargin(0);
        LogAxis y = new LogAxis("‖dL/dh_t‖ (log scale)");
        y.setSmallestValue(1e-30);
        y.setTickUnit(new org.jfree.chart.axis.NumberTickUnit(1));    // one tick per decade (the unit is in log space)
        y.setMinorTickMarksVisible(true);
        y.setNumberFormatOverride(new DecimalFormat("0E0"));
        XYPlot plot = new XYPlot(data, x, y, renderer);
        ChartLook.plot(plot, true);
        JFreeChart chart = new JFreeChart(null, ChartLook.TITLE, plot, true);
        ChartLook.titles(chart, model + ": gradient norm per time step",
                "mean over each epoch's training steps; small at early t means the gradient vanished on its way back");
        return ChartLook.draw(chart, WIDTH, HEIGHT);
    }

    /** All of {@code epochs} when few, else {@link #MAX_LINES} evenly spaced ones with the first and last. */
    static List<Integer> spread(List<Integer> epochs) {
        if (epochs.size() <= MAX_LINES) return epochs;
        List<Integer> picked = new ArrayList<>();
        for (int i = 0; i < MAX_LINES; i++) {
            int at = (int) Math.round((double) i * (epochs.size() - 1) / (MAX_LINES - 1));
            if (picked.isEmpty() || !picked.get(picked.size() - 1).equals(epochs.get(at))) picked.add(epochs.get(at));
        }
        return picked;
    }
}
