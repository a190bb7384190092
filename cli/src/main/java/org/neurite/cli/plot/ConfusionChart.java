package org.neurite.cli.plot;

import java.awt.Color;
import java.awt.Paint;
import java.awt.image.BufferedImage;
import java.util.List;
import java.util.Locale;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.annotations.XYTextAnnotation;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.SymbolAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.PaintScale;
import org.jfree.chart.renderer.xy.XYBlockRenderer;
import org.jfree.chart.title.PaintScaleLegend;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.RectangleInsets;
import org.jfree.data.xy.DefaultXYZDataset;
import org.neurite.cli.viz.Colormap;

/**
 * A classifier's confusion matrix as a heat map: rows are true classes (top to bottom), columns
 * predicted classes. A cell's colour is the share of its true class predicted so (white 0 to dark
 * blue 1), so rare and common classes read alike; its number is the count. With more than
 * {@value #MAX_NUMBERED} classes the counts are left out (they would not fit), and a matrix over
 * {@value #MAX_CLASSES} classes is not drawn at all.
 */
public final class ConfusionChart {
    public static final int MAX_CLASSES = 40;
    public static final int MAX_NUMBERED = 16;

    private ConfusionChart() {}

    /** Width and height in pixels for {@code classes} classes: at least 720 x 680, more cells get more room. */
    public static int width(int classes) { return Math.max(720, 260 + 52 * classes); }

    public static int height(int classes) { return Math.max(680, 240 + 52 * classes); }

    /**
     * @param counts {@code counts[true][predicted]}, square
     * @param names a display name per class, or an empty list for "0", "1", ...
     */
    public static BufferedImage render(String model, int[][] counts, List<String> names) {
        int n = counts.length;
        if (n < 2 || n > MAX_CLASSES) throw new IllegalArgumentException("a confusion matrix needs 2 to " + MAX_CLASSES + " classes, got " + n);
        String[] labels = new String[n];
        for (int i = 0; i < n; i++) labels[i] = i < names.size() ? names.get(i) : Integer.toString(i);

        double[] xs = new double[n * n];
        double[] ys = new double[n * n];
        double[] zs = new double[n * n];
        long total = 0;
        long correct = 0;
        XYPlot plot = new XYPlot();
        for (int t = 0; t < n; t++) {
            long rowSum = 0;
            for (int p = 0; p < n; p++) rowSum += counts[t][p];
            total += rowSum;
            correct += counts[t][t];
            for (int p = 0; p < n; p++) {
                int at = t * n + p;
                xs[at] = p;
                ys[at] = t;
                zs[at] = rowSum == 0 ? 0 : (double) counts[t][p] / rowSum;
                if (n <= MAX_NUMBERED) {
                    XYTextAnnotation number = new XYTextAnnotation(Integer.toString(counts[t][p]), p, t);
                    number.setFont(ChartLook.CELL);
                    number.setPaint(Colormap.BLUES.isLight(zs[at]) ? ChartLook.TEXT : Color.WHITE);
                    plot.addAnnotation(number);
                }
            }
        }
        DefaultXYZDataset data = new DefaultXYZDataset();
        data.addSeries("share of the true class", new double[][] {xs, ys, zs});

        SymbolAxis x = new SymbolAxis("predicted class", labels);
        x.setVerticalTickLabels(true);
        x.setGridBandsVisible(false);
        x.setRange(-0.5, n - 0.5);
        SymbolAxis y = new SymbolAxis("true class", labels);
        y.setGridBandsVisible(false);
        y.setInverted(true);    // class 0 at the top, as matrices are written
        y.setRange(-0.5, n - 0.5);
        XYBlockRenderer renderer = new XYBlockRenderer();
        renderer.setPaintScale(new SharePaintScale());
        plot.setDataset(data);
        plot.setDomainAxis(x);
        plot.setRangeAxis(y);
        plot.setRenderer(renderer);
        ChartLook.plot(plot, false);

        JFreeChart chart = new JFreeChart(null, ChartLook.TITLE, plot, false);
        ChartLook.titles(chart, model + ": confusion matrix (test split)", String.format(Locale.ROOT,
                "accuracy %.2f%% of %,d; colour: share of the true class, numbers: counts", 100.0 * correct / Math.max(1, total), total));
        NumberAxis scaleAxis = new NumberAxis("share of the true class");
        ChartLook.axis(scaleAxis);
        scaleAxis.setRange(0, 1);
        scaleAxis.setTickUnit(new org.jfree.chart.axis.NumberTickUnit(0.1, new java.text.DecimalFormat("0.0")));
        PaintScaleLegend legend = new PaintScaleLegend(new SharePaintScale(), scaleAxis);
        legend.setPosition(RectangleEdge.RIGHT);
        legend.setStripWidth(16);
        legend.setAxisOffset(4);
        legend.setMargin(new RectangleInsets(40, 16, 80, 0));
        legend.setBackgroundPaint(Color.WHITE);
        chart.addSubtitle(legend);
        return ChartLook.draw(chart, width(n), height(n));
    }

    /** [0, 1] through the white-to-blue map. */
    private static final class SharePaintScale implements PaintScale {
        @Override public double getLowerBound() { return 0; }

        @Override public double getUpperBound() { return 1; }

        @Override public Paint getPaint(double value) { return new Color(Colormap.BLUES.rgb(value)); }
    }
}
