package org.neurite.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** "Did you mean": the distance that picks suggestions, and its cost on names of any length. */
class LayerRegistryTest {
    @Test
    void theBoundedDistanceIsTheDistanceUpToTheBoundAndOneMoreBeyondIt() {
        Random random = new Random(7);
        for (int n = 0; n < 20_000; n++) {
            String a = word(random);
            String b = random.nextBoolean() ? word(random) : mutate(a, random);
            int exact = LayerRegistry.editDistance(a, b);
            for (int k = 0; k <= 3; k++) {
                assertEquals(Math.min(exact, k + 1), LayerRegistry.boundedDistance(a, b, k), a + " / " + b + ", k = " + k);
            }
        }
    }

    @Test
    void namesOfHundredsOfThousandsOfCharactersAreComparedInLinearTime() {
        String name = "a".repeat(300_000);
        List<String> known = List.of(name + "b", name + "bcde", "b" + name, name + "bcd", "relu");
        // The full table would be 9 * 10^10 cells per pair: minutes. Distances 1, 3, 2, 2 and far;
        // the 3 is a shared prefix, so it comes along but last; ties go by name.
        List<String> close = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> LayerRegistry.closest(name + "c", known));
        assertEquals(List.of(0, 3, 2), close.stream().map(known::indexOf).toList());
    }

    private static String word(Random random) {
        StringBuilder sb = new StringBuilder();
        int length = random.nextInt(8);
        for (int i = 0; i < length; i++) sb.append((char) ('a' + random.nextInt(3)));
        return sb.toString();
    }

    private static String mutate(String s, Random random) {
        StringBuilder sb = new StringBuilder(s);
        for (int edits = random.nextInt(4); edits > 0; edits--) {
            int at = sb.isEmpty() ? 0 : random.nextInt(sb.length());
            switch (random.nextInt(3)) {
                case 0 -> sb.insert(at, (char) ('a' + random.nextInt(3)));
                case 1 -> { if (!sb.isEmpty()) sb.deleteCharAt(at); }
                default -> { if (!sb.isEmpty()) sb.setCharAt(at, (char) ('a' + random.nextInt(3))); }
            }
        }
        return sb.toString();
    }
}
