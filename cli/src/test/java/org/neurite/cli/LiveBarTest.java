package org.neurite.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class LiveBarTest {

    /**
     * A pass that ends before the bar's periodic redraw ever ran (a small epoch on a busy
     * machine): the library's final update is then also its first and draws without clearing.
     * The redraw is held back here by keeping the library's single update thread busy inside
     * another bar's output until the pass has been closed.
     */
    @Test @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void aPassClosedBeforeItsFirstRedrawStillEndsWithAClearedLine() throws Exception {
        CountDownLatch updaterBusy = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        ProgressBar blocker = new ProgressBarBuilder()
                .setTaskName("blocker")
                .setInitialMax(1)
                .setConsumer(new DelegatingProgressBarConsumer(line -> {
                    updaterBusy.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }))
                .build();
        assertTrue(updaterBusy.await(10, TimeUnit.SECONDS), "the library's update thread never ran");

        StringWriter text = new StringWriter();
        LiveBar bar = LiveBar.open(new PrintWriter(text), true, "epoch 1/1", 10, "samples");
        bar.update(10, "loss 0.5");
        Thread closing = new Thread(bar::close);
        closing.start();
        // close() cancels the redraw that never ran and queues the final update behind the blocker.
        Thread.sleep(200);
        release.countDown();
        closing.join();
        blocker.close();

        String out = text.toString();
        assertTrue(out.contains("epoch 1/1 100% "), out);   // the final state was drawn...
        String afterLastDraw = out.substring(out.lastIndexOf("epoch 1/1"));
        assertTrue(afterLastDraw.endsWith("\r"), afterLastDraw); // ...and then wiped to the line start
        String settled = out.replaceAll("[^\n]*\r", "");
        assertEquals("", settled.strip(), "a bar is left on the line: " + out);
    }
}
