package org.neurite.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The example of {@code docs/java-api.md}, run as a user would: LeNet-5 from its script, up to
 * eight epochs on 2,000 images with a validation split, early stopping and the best epoch kept,
 * then the test split and a batch of eight predictions.
 */
class JavaApiExampleTest {
    @Test void trainsEvaluatesAndClassifiesAsTheDocumentationShows() throws Exception {
        JavaApiExample.Outcome o = JavaApiExample.run(Path.of("lenet5.nn"));

        assertFalse(o.fit().interrupted());
        int last = o.fit().last().epoch();
        assertTrue(last == 8 || o.fit().stoppedEarly(), "eight epochs, or fewer when early stopping ended the run: " + last);
        assertTrue(o.fit().kept().epoch() <= last);
        assertEquals(200, o.fit().validation().samples(), "a tenth of the 2,000 images held out");
        // The model holds the kept weights: the test split scores what the kept epoch scored on its validation split, roughly.
        assertEquals(10_000, o.test().samples());
        assertTrue(o.test().accuracy() > 0.5, "test accuracy " + o.test().accuracy());
        assertTrue(o.test().top5() >= o.test().accuracy(), "top-5 is at least top-1");
        long support = 0;
        for (int c = 0; c < o.test().classes(); c++) support += o.test().support(c);
        assertEquals(10_000, support, "every test image counted in one class");
        int right = 0;
        for (int i = 0; i < 8; i++) if (o.classes()[i] == o.labels()[i]) right++;
        assertTrue(right >= 4, right + " of 8 test images classified right");
    }
}
