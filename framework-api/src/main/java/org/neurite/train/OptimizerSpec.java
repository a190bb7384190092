package org.neurite.train;

import org.neurite.diag.SourceSpan;
import org.neurite.layer.LayerArgs;

/** {@code optimizer = sgd(lr=0.05, momentum=0.9)}: a name and arguments bound to {@link Optimizers#schema}. */
public record OptimizerSpec(String name, LayerArgs args, SourceSpan span) {}
