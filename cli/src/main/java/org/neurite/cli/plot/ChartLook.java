package org.neurite.cli.plot;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.image.BufferedImage;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.Axis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.title.LegendTitle;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.RectangleInsets;
import org.neurite.cli.viz.PngFiles;

/**
 * The one look every chart shares: white background, light solid grid, fonts large enough to read
 * in a report at half size, and the colour pair train = blue, test = orange (the first two
 * colours of the Tableau 10 palette, distinguishable by colour-blind readers).
 */
final class ChartLook {
    static final Color TRAIN = new Color(0x1F77B4);
    static final Color TEST = new Color(0xFF7F0E);
    static final Color TEXT = new Color(0x202020);
    static final Color GRID = new Color(0xDDDDDD);

    static final Font TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 20);
    static final Font SUBTITLE = new Font(Font.SANS_SERIF, Font.PLAIN, 14);
    static final Font AXIS_LABEL = new Font(Font.SANS_SERIF, Font.PLAIN, 15);
    static final Font TICK_LABEL = new Font(Font.SANS_SERIF, Font.PLAIN, 13);
    static final Font LEGEND = new Font(Font.SANS_SERIF, Font.PLAIN, 14);
    static final Font CELL = new Font(Font.SANS_SERIF, Font.PLAIN, 12);

    static final BasicStroke LINE = new BasicStroke(2.5f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND);

    static {
        PngFiles.headless();
    }

    private ChartLook() {}

    /** Title and optional subtitle in the shared fonts, white background, styled legend. */
    static void titles(JFreeChart chart, String title, String subtitle) {
        chart.setTitle(new TextTitle(title, TITLE));
        chart.getTitle().setPaint(TEXT);
        chart.getTitle().setMargin(4, 0, 2, 0);
        if (subtitle != null) {
            TextTitle sub = new TextTitle(subtitle, SUBTITLE);
            sub.setPaint(new Color(0x555555));
            sub.setMargin(0, 0, 6, 0);
            chart.addSubtitle(sub);
        }
        chart.setBackgroundPaint(Color.WHITE);
        chart.setPadding(new RectangleInsets(8, 8, 8, 16));
        chart.setTextAntiAlias(true);
        chart.setAntiAlias(true);
        LegendTitle legend = chart.getLegend();
        if (legend != null) {
            legend.setItemFont(LEGEND);
            legend.setFrame(org.jfree.chart.block.BlockBorder.NONE);
            legend.setBackgroundPaint(Color.WHITE);
        }
    }

    /** White plot area with a light grid and no outline. */
    static void plot(XYPlot plot, boolean grid) {
        plot.setBackgroundPaint(Color.WHITE);
        plot.setOutlineVisible(false);
        plot.setDomainGridlinesVisible(grid);
        plot.setRangeGridlinesVisible(grid);
        plot.setDomainGridlinePaint(GRID);
        plot.setRangeGridlinePaint(GRID);
        plot.setDomainGridlineStroke(new BasicStroke(1f));
        plot.setRangeGridlineStroke(new BasicStroke(1f));
        plot.setAxisOffset(new RectangleInsets(4, 4, 4, 4));
        axis(plot.getDomainAxis());
        axis(plot.getRangeAxis());
    }

    static void axis(Axis axis) {
        axis.setLabelFont(AXIS_LABEL);
        axis.setLabelPaint(TEXT);
        axis.setTickLabelFont(TICK_LABEL);
        axis.setTickLabelPaint(TEXT);
        axis.setAxisLinePaint(new Color(0x888888));
        axis.setTickMarkPaint(new Color(0x888888));
    }

    static BufferedImage draw(JFreeChart chart, int width, int height) {
        return chart.createBufferedImage(width, height, BufferedImage.TYPE_INT_RGB, null);
    }
}
