package org.neurite.engine;

import com.google.inject.Module;
import org.neurite.plugin.NeuritePlugin;
import org.neurite.plugin.PluginModule;
import org.neurite.train.Optimizers;
import org.neurite.train.TrainSpec;

/**
 * The core's losses ({@link TrainSpec#LOSSES}: {@code softmax_cross_entropy}, also called
 * {@code cross_entropy}, and {@code mse}) and optimizers ({@link Optimizers#NAMES}), each built by
 * the {@link Loss#byName} and {@link Optimizer#create} the engine's own paths use, contributed
 * through the same binders as any plugin's, so the runtime's registries hold them all and a plugin
 * that reuses one of their names fails as a duplicate. Listed in this module's {@code META-INF/services}.
 */
public final class CoreTrainingPlugin implements NeuritePlugin {
    @Override public String name() { return "core-training"; }

    @Override public Module module() {
        return new PluginModule() {
            @Override protected void configure() {
                for (String name : TrainSpec.LOSSES) loss(name, Loss.byName(name));
                for (String name : Optimizers.NAMES) optimizer(new CoreOptimizer(name));
            }
        };
    }
}
