package org.neurite.cli.viz;

import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.List;

/**
 * Lays small pictures (conv kernels, feature maps) out as one image: a title and a subtitle on
 * top, then a grid of tiles, each enlarged with nearest-neighbour sampling to about
 * {@value #TARGET_TILE} pixels so 3x3 kernels stay visible, separated by gaps and outlined, with an
 * optional label under each. By default every tile is normalised on its own (min to max over all
 * its values) because filters and channels differ in scale by orders of magnitude and a shared
 * scale would leave most tiles flat; a tile may instead carry the bounds of a group (the input
 * channels of one filter). One-channel tiles go through a {@link Colormap}; three-channel tiles are
 * drawn as RGB.
 */
public final class ImageGrid {
    /** Enlarged tiles aim for this many pixels on their longer side. */
    public static final int TARGET_TILE = 96;
    /** Outer margin, gap between tiles and height of the label line under a tile, in pixels. */
    public static final int MARGIN = 16;
    public static final int GAP = 8;
    public static final int LABEL_HEIGHT = 18;
    /** Height of the title band (title and subtitle lines). */
    public static final int TITLE_HEIGHT = 52;

    private static final Color BACKGROUND = new Color(0xF4F4F4);
    private static final Color OUTLINE = new Color(0x9A9A9A);
    private static final Color TEXT = new Color(0x202020);
    private static final Color MUTED = new Color(0x505050);
    private static final Font TITLE_FONT = new Font(Font.SANS_SERIF, Font.BOLD, 18);
    private static final Font SUBTITLE_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 13);
    private static final Font LABEL_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 12);

    /**
     * One picture: {@code channels} (1 or 3) planes of {@code height x width} floats, row-major
     * ([C, H, W], the layout of one sample of an NCHW tensor), drawn from {@code low} (black, or the
     * colour map's start) to {@code high}; NaN bounds mean the tile's own min and max.
     */
    public record Tile(float[] values, int channels, int height, int width, String label, double low, double high) {
        public Tile {
            if (channels != 1 && channels != 3) throw new IllegalArgumentException("a tile has 1 or 3 channels, not " + channels);
            if (values.length != channels * height * width) {
                throw new IllegalArgumentException("a " + channels + "x" + height + "x" + width + " tile needs "
                        + channels * height * width + " values, got " + values.length);
            }
        }

        /** A tile normalised to its own min and max. */
        public Tile(float[] values, int channels, int height, int width, String label) {
            this(values, channels, height, width, label, Double.NaN, Double.NaN);
        }
    }

    private ImageGrid() {}

    /** Nearest-neighbour enlargement for tiles of {@code height x width}: 1 to 32. */
    public static int scale(int height, int width) {
        int longer = Math.max(height, width);
        return Math.max(1, Math.min(32, (TARGET_TILE + longer - 1) / longer));
    }

    /** A sensible number of columns for {@code n} tiles: one row up to 8, else about square. */
    public static int columnsFor(int n) {
        return n <= 8 ? Math.max(n, 1) : (int) Math.ceil(Math.sqrt(n));
    }

    /**
     * Draws the grid. All tiles must share one height and width.
     *
     * @param columns tiles per row
     * @param colormap for one-channel tiles
     */
    public static BufferedImage render(String title, String subtitle, List<Tile> tiles, int columns, Colormap colormap) {
        if (tiles.isEmpty()) throw new IllegalArgumentException("nothing to draw");
        int h = tiles.get(0).height();
        int w = tiles.get(0).width();
        for (Tile t : tiles) {
            if (t.height() != h || t.width() != w) throw new IllegalArgumentException("tiles differ in size: " + h + "x" + w + " and "
                    + t.height() + "x" + t.width());
        }
        int scale = scale(h, w);
        int tileW = w * scale;
        int tileH = h * scale;
        boolean labels = tiles.stream().anyMatch(t -> t.label() != null);
        int rows = (tiles.size() + columns - 1) / columns;
        int cellH = tileH + (labels ? LABEL_HEIGHT : 0);
        int gridW = columns * tileW + (columns - 1) * GAP;
        int gridH = rows * cellH + (rows - 1) * GAP;

        int textW = Math.max(textWidth(TITLE_FONT, title), textWidth(SUBTITLE_FONT, subtitle));
        int width = 2 * MARGIN + Math.max(gridW, textW);
        int height = MARGIN + TITLE_HEIGHT + gridH + MARGIN;
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(BACKGROUND);
            g.fillRect(0, 0, width, height);
            g.setColor(TEXT);
            g.setFont(TITLE_FONT);
            g.drawString(title, MARGIN, MARGIN + g.getFontMetrics().getAscent());
            g.setColor(MUTED);
            g.setFont(SUBTITLE_FONT);
            g.drawString(subtitle, MARGIN, MARGIN + 26 + g.getFontMetrics().getAscent());

            int left = MARGIN + (width - 2 * MARGIN - gridW) / 2;    // centre the grid under a wider title
            int top = MARGIN + TITLE_HEIGHT;
            for (int i = 0; i < tiles.size(); i++) {
                int x = left + (i % columns) * (tileW + GAP);
                int y = top + (i / columns) * (cellH + GAP);
                BufferedImage tile = pixels(tiles.get(i), colormap);
                g.drawImage(tile, x, y, tileW, tileH, null);    // no interpolation hint: nearest neighbour
                g.setColor(OUTLINE);
                g.drawRect(x - 1, y - 1, tileW + 1, tileH + 1);
                String label = tiles.get(i).label();
                if (label != null) {
                    g.setColor(MUTED);
                    g.setFont(LABEL_FONT);
                    FontMetrics fm = g.getFontMetrics();
                    g.drawString(label, x + (tileW - fm.stringWidth(label)) / 2, y + tileH + 3 + fm.getAscent());
                }
            }
        } finally {
            g.dispose();
        }
        return image;
    }

    /** One tile at its own resolution, normalised to its bounds (by default its own min..max). */
    static BufferedImage pixels(Tile t, Colormap colormap) {
        double min = t.low();
        double max = t.high();
        if (Double.isNaN(min) || Double.isNaN(max)) {
            min = Double.POSITIVE_INFINITY;
            max = Double.NEGATIVE_INFINITY;
            for (float v : t.values()) {
                if (Float.isFinite(v)) {
                    min = Math.min(min, v);
                    max = Math.max(max, v);
                }
            }
        }
        // A constant tile (a dead ReLU channel) is drawn at the bottom of the scale.
        double range = max > min ? max - min : 1;
        double lo = min == Double.POSITIVE_INFINITY ? 0 : min;
        int plane = t.height() * t.width();
        BufferedImage out = new BufferedImage(t.width(), t.height(), BufferedImage.TYPE_INT_RGB);
        for (int r = 0; r < t.height(); r++) {
            for (int c = 0; c < t.width(); c++) {
                int at = r * t.width() + c;
                int rgb;
                if (t.channels() == 1) {
                    rgb = colormap.rgb((t.values()[at] - lo) / range);
                } else {
                    rgb = (byteOf((t.values()[at] - lo) / range) << 16) | (byteOf((t.values()[plane + at] - lo) / range) << 8)
                            | byteOf((t.values()[2 * plane + at] - lo) / range);
                }
                out.setRGB(c, r, rgb);
            }
        }
        return out;
    }

    private static int byteOf(double unit) {
        return (int) Math.round(255 * Math.max(0, Math.min(1, Double.isNaN(unit) ? 0 : unit)));
    }

    private static int textWidth(Font font, String text) {
        BufferedImage scratch = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = scratch.createGraphics();
        try {
            return g.getFontMetrics(font).stringWidth(text);
        } finally {
            g.dispose();
        }
    }
}
