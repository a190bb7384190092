package com.example.swish;

import com.google.inject.Module;
import org.neurite.plugin.NeuritePlugin;
import org.neurite.plugin.PluginModule;

/**
 * A third-party plugin: the layers {@code swish} and {@code mish}, plus a faster kernel for
 * {@code mish} on the {@code cpu} backend and device kernels for both on the {@code opencl}
 * backend (OpenCL C shipped in the jar, {@code activations.cl}); the loss
 * {@code label_smoothing_cross_entropy}, the optimizer {@code adagrad} and the learning-rate
 * schedule {@code multi_step}, which a train section names like the core's
 * ({@code loss = label_smoothing_cross_entropy(epsilon=0.05)}, {@code optimizer = adagrad(lr=0.1)},
 * {@code schedule = multi_step(milestones=[3, 6])}). Neurite finds it through
 * {@code META-INF/services/org.neurite.plugin.NeuritePlugin} when its jar sits in a plugin folder
 * ({@code plugins: [dir]} in a deployment, or {@code nn ... --plugins dir}).
 */
public final class SwishPlugin implements NeuritePlugin {
    @Override public String name() { return "swish-layers"; }

    @Override public Module module() {
        return new PluginModule() {
            @Override protected void configure() {
                layer(new Swish());
                layer(new Mish());
                kernel(new CpuMish());
                kernel(new ClSwish());
                kernel(new ClMish());
                loss(new LabelSmoothingCrossEntropy());
                optimizer(new Adagrad());
                schedule(new MultiStepDecay());
            }
        };
    }
}
