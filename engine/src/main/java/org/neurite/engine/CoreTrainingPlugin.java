package org.neurite.engine;

import com.google.inject.Module;
import org.neurite.plugin.NeuritePlugin;
import org.neurite.plugin.PluginModule;
import org.neurite.train.Optimizers;

/**
 * The core's losses ({@code softmax_cross_entropy}, also called {@code cross_entropy}, and
 * {@code mse}) and optimizers ({@link Optimizers#NAMES}), contributed through the same binders as
 * any plugin's, so the runtime's registries hold them all and a plugin that reuses one of their
 * names fails as a duplicate. Listed in this module's {@code META-INF/services}.
 */
public final class CoreTrainingPlugin implements NeuritePlugin {
    @Override public String name() { return "core-training"; }

    @Override public Module module() {
        return new PluginModule() {
            @Override protected void configure() {
                SoftmaxCrossEntropy crossEntropy = new SoftmaxCrossEntropy();
                loss(crossEntropy);
                loss("cross_entropy", crossEntropy);
                loss(new MeanSquaredError());
                for (String name : Optimizers.NAMES) optimizer(new CoreOptimizer(name));
            }
        };
    }
}
