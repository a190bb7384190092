// Draws examples/images/test_pattern.png, the input of examples/filters.nn: a 128 x 128 grey
// picture with flat regions (where a Laplace filter gives exactly zero), hard edges (which it
// finds), a smooth ramp and some lettering. Regenerate it with:
//     jshell -R-Djava.awt.headless=true examples/images/test_pattern.jsh
import java.awt.*;
import java.awt.geom.*;
import java.awt.image.BufferedImage;
import javax.imageio.ImageIO;

var image = new BufferedImage(128, 128, BufferedImage.TYPE_BYTE_GRAY);
var g = image.createGraphics();
g.setColor(new Color(90, 90, 90));                          // flat background
g.fillRect(0, 0, 128, 128);
g.setPaint(new GradientPaint(0, 0, new Color(30, 30, 30), 128, 0, new Color(220, 220, 220)));
g.fillRect(0, 104, 128, 24);                                // a horizontal ramp along the bottom
g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
g.setColor(new Color(235, 235, 235));
g.fill(new Ellipse2D.Double(10, 10, 48, 48));               // a bright disc
g.setColor(new Color(20, 20, 20));
g.fillRect(72, 12, 44, 44);                                 // a dark square with a bright inner square
g.setColor(new Color(200, 200, 200));
g.fillRect(86, 26, 16, 16);
g.setColor(new Color(250, 250, 250));
g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 30));
g.drawString("Nn", 14, 96);                                 // lettering: thin strokes and corners
g.setColor(new Color(160, 160, 160));
g.fill(new Polygon(new int[] {78, 118, 98}, new int[] {96, 96, 64}, 3));    // a mid-grey triangle
g.dispose();
ImageIO.write(image, "png", new java.io.File("examples/images/test_pattern.png"));
/exit
