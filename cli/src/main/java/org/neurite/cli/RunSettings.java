package org.neurite.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.neurite.engine.Checkpoints;

/**
 * The settings of {@code nn train} that shape a run beyond its script: epochs, batch, seed,
 * {@code --limit} and {@code --data}, as the command line, the deployment and the train section
 * resolved them. Every checkpoint of the run records them ({@link #metadata()}), so that
 * {@code --resume} trains the run that stopped, not another: it reuses what is not given again
 * and refuses what contradicts it.
 *
 * @param limit the training samples kept ({@code --limit}), or null for all of them
 * @param data the {@code --data} folder, or null when none was given
 */
record RunSettings(int epochs, int batch, long seed, Integer limit, Path data) {
    static final String EPOCHS = "neurite.run.epochs";
    static final String BATCH = "neurite.run.batch";
    static final String LIMIT = "neurite.run.limit";
    static final String DATA = "neurite.run.data";
    private static final String NO_LIMIT = "none";

    /** What a checkpoint records, under keys of its metadata (the seed is the checkpoint's own). */
    Map<String, String> metadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(EPOCHS, Integer.toString(epochs));
        m.put(BATCH, Integer.toString(batch));
        m.put(LIMIT, limit == null ? NO_LIMIT : limit.toString());
        if (data != null) m.put(DATA, data.toAbsolutePath().normalize().toString());
        return m;
    }

    /**
     * The settings a checkpoint recorded, or null for a checkpoint written before runs recorded
     * them (its run then resumes with the command line's settings, as it did).
     */
    static RunSettings read(Path checkpoint) throws IOException {
        Map<String, String> m = Checkpoints.read(checkpoint).metadata();
        if (!m.containsKey(EPOCHS) || !m.containsKey(BATCH) || !m.containsKey(LIMIT) || !m.containsKey(Checkpoints.SEED)) return null;
        try {
            String limit = m.get(LIMIT);
            return new RunSettings(Integer.parseInt(m.get(EPOCHS)), Integer.parseInt(m.get(BATCH)), Long.parseLong(m.get(Checkpoints.SEED)),
                    limit.equals(NO_LIMIT) ? null : Integer.valueOf(limit), m.containsKey(DATA) ? Path.of(m.get(DATA)) : null);
        } catch (NumberFormatException e) {
            throw new BadInputException(checkpoint + ": damaged checkpoint metadata (" + e.getMessage() + ")");
        }
    }

    /**
     * Refuses a resume of the run in {@code dir} that gives {@code option} a value other than the
     * run's own; null (not given) is always fine: the run's value is used.
     */
    static void refuseOther(Path dir, String option, Object given, Object own) {
        if (given == null || Objects.equals(given, own)) return;
        String had = own == null ? "ran without " + option : "ran with " + option + " " + RunProvenance.quote(own.toString());
        throw new BadInputException("the run in " + dir + " " + had + ", not " + option + " " + RunProvenance.quote(given.toString())
                + "; resume it without " + option + " (its own setting is used), or start a new run");
    }
}
