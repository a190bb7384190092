package org.neurite.dsl;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.neurite.layer.ParamSchema;
import org.neurite.plugin.NeuriteRuntime;
import org.neurite.train.OptimizerFactory;
import org.neurite.train.Optimizers;
import org.neurite.train.TrainSpec;

/**
 * The losses and optimizers a train section may name, with each optimizer's argument schema:
 * those of a runtime's registries (every plugin's, the core's included), or, for a loader built
 * from a layer registry alone, the core's ({@link TrainSpec#LOSSES}, {@link Optimizers}).
 *
 * @param losses loss names, sorted
 * @param optimizers optimizer schemas by name, sorted
 */
record TrainVocabulary(List<String> losses, Map<String, ParamSchema> optimizers) {
    TrainVocabulary {
        losses = List.copyOf(losses);
        optimizers = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(optimizers));
    }

    /** The core's losses and optimizers. */
    static TrainVocabulary core() {
        Map<String, ParamSchema> schemas = new LinkedHashMap<>();
        for (String name : Optimizers.NAMES) schemas.put(name, Optimizers.schema(name));
        return new TrainVocabulary(TrainSpec.LOSSES, schemas);
    }

    /** What {@code runtime}'s plugins registered. */
    static TrainVocabulary of(NeuriteRuntime runtime) {
        Map<String, ParamSchema> schemas = new LinkedHashMap<>();
        for (Map.Entry<String, OptimizerFactory> e : runtime.optimizers().all().entrySet()) schemas.put(e.getKey(), e.getValue().schema());
        return new TrainVocabulary(runtime.losses().names(), schemas);
    }

    List<String> optimizerNames() { return List.copyOf(optimizers.keySet()); }
}
