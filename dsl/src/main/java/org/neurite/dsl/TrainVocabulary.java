package org.neurite.dsl;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.neurite.layer.ParamSchema;
import org.neurite.plugin.NeuriteRuntime;
import org.neurite.layer.LayerArgs;
import org.neurite.train.DataSource;
import org.neurite.train.DataSources;
import org.neurite.train.LearningRateSchedule;
import org.neurite.train.LossFunction;
import org.neurite.train.Metric;
import org.neurite.train.Metrics;
import org.neurite.train.OptimizerFactory;
import org.neurite.train.Optimizers;
import org.neurite.train.Schedules;
import org.neurite.train.TrainSpec;

/**
 * The losses, optimizers, schedules, metrics and data sources a train section may name, with each loss's and optimizer's
 * argument schema: those of a runtime's registries (every plugin's, the core's included), or, for a loader
 * built from a layer registry alone, the core's ({@link TrainSpec#LOSSES}, {@link Optimizers},
 * {@link Schedules}, {@link Metrics}, {@link DataSources}).
 *
 * @param losses each loss's schema (empty for a loss without arguments) and kind, by name
 * @param optimizers optimizer schemas by name, sorted
 * @param schedules schedules by name, sorted
 * @param metrics what an evaluation records besides the loss, by name: what a choice of epochs can watch
 * @param dataSources the schemas of the data sources {@code data = name(...)} may call, by name
 * @param dataCheck each data source's check of its bound arguments
 */
record TrainVocabulary(Map<String, LossEntry> losses, Map<String, ParamSchema> optimizers,
                       Map<String, LearningRateSchedule> schedules, Map<String, Metric> metrics,
                       Map<String, ParamSchema> dataSources, DataCheck dataCheck) {
    /**
     * @param schema the loss's arguments
     * @param classification whether it scores classes (so a classifier's metrics are recorded) rather than real values
     */
    record LossEntry(ParamSchema schema, boolean classification) {}

    /** A data source's own check of bound arguments ({@link DataSource#check}). */
    @FunctionalInterface
    interface DataCheck {
        /** @throws org.neurite.layer.ArgumentException naming the argument at fault */
        void check(String source, LayerArgs args);
    }

    TrainVocabulary {
        losses = Collections.unmodifiableMap(new LinkedHashMap<>(losses));
        optimizers = Collections.unmodifiableMap(new LinkedHashMap<>(optimizers));
        schedules = Collections.unmodifiableMap(new LinkedHashMap<>(schedules));
        metrics = Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
        dataSources = Collections.unmodifiableMap(new LinkedHashMap<>(dataSources));
    }

    /** The core's losses and optimizers. */
    static TrainVocabulary core() {
        Map<String, ParamSchema> schemas = new LinkedHashMap<>();
        for (String name : Optimizers.NAMES) schemas.put(name, Optimizers.schema(name));
        Map<String, LearningRateSchedule> schedules = new LinkedHashMap<>();
        for (LearningRateSchedule s : Schedules.CORE) schedules.put(s.name(), s);
        Map<String, LossEntry> losses = new LinkedHashMap<>();
        for (String name : TrainSpec.LOSSES) losses.put(name, new LossEntry(ParamSchema.empty(), !name.equals("mse")));
        Map<String, Metric> metrics = new LinkedHashMap<>();
        for (Metric m : Metrics.CORE) metrics.put(m.name(), m);
        Map<String, ParamSchema> sources = new LinkedHashMap<>();
        for (String name : DataSources.NAMES) sources.put(name, DataSources.schema(name));
        return new TrainVocabulary(losses, schemas, schedules, metrics, sources, DataSources::check);
    }

    /** What {@code runtime}'s plugins registered. */
    static TrainVocabulary of(NeuriteRuntime runtime) {
        Map<String, ParamSchema> schemas = new LinkedHashMap<>();
        for (Map.Entry<String, OptimizerFactory> e : runtime.optimizers().all().entrySet()) schemas.put(e.getKey(), e.getValue().schema());
        Map<String, LossEntry> losses = new LinkedHashMap<>();
        for (Map.Entry<String, LossFunction> e : runtime.losses().all().entrySet()) {
            losses.put(e.getKey(), new LossEntry(e.getValue().schema(), e.getValue().classification()));
        }
        Map<String, ParamSchema> sources = new LinkedHashMap<>();
        for (Map.Entry<String, DataSource> e : runtime.dataSources().all().entrySet()) sources.put(e.getKey(), e.getValue().schema());
        return new TrainVocabulary(losses, schemas, runtime.schedules().all(), runtime.metrics().all(), sources,
                (name, args) -> runtime.dataSources().require(name).check(args));
    }

    List<String> lossNames() { return List.copyOf(losses.keySet()); }

    List<String> dataSourceNames() { return List.copyOf(dataSources.keySet()); }

    List<String> optimizerNames() { return List.copyOf(optimizers.keySet()); }

    List<String> scheduleNames() { return List.copyOf(schedules.keySet()); }
}
