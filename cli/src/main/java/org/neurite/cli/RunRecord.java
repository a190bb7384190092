package org.neurite.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.neurite.dsl.GraphDot;
import org.neurite.engine.Trainers;
import org.neurite.graph.TypedGraph;
import org.neurite.io.AtomicFiles;
import org.neurite.train.TrainSpec;

/**
 * What {@code nn train} writes into a run folder before the run starts, so that {@code nn report}
 * can describe it and a person can repeat it: the script ({@code model.nn}), its summary with the
 * memory estimate at the run's batch size ({@code summary.txt}), the graph as DOT
 * ({@code graph.dot}), the command line ({@code command.txt}) and the resolved deployment
 * ({@code deployment.yaml}).
 */
final class RunRecord {
    private RunRecord() {}

    static void write(Path dir, Session session, ModelOptions options, Path data, TypedGraph graph, TrainSpec train, List<String> args)
            throws IOException {
        String model = graph.graph().name();
        AtomicFiles.writeString(dir.resolve("model.nn"), session.script().source());
        AtomicFiles.writeString(dir.resolve("summary.txt"), SummaryCommand.render(graph, session.script().file()) + "\n"
                + MemoryEstimate.of(graph, train.batch(), train, Trainers.of(session.runtime())).render());
        AtomicFiles.writeString(dir.resolve("graph.dot"), GraphDot.render(graph, session.script().blockCalls(model)));
        AtomicFiles.writeString(dir.resolve("command.txt"), RunProvenance.command(args));
        AtomicFiles.writeString(dir.resolve("deployment.yaml"), RunProvenance.deployment(session.deployment(), options, data,
                session.backend().name(), session.backend().description()));
    }
}
