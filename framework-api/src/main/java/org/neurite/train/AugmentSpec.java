package org.neurite.train;

import org.neurite.diag.SourceSpan;
import org.neurite.layer.LayerArgs;

/**
 * One entry of {@code augment = [random_crop(28, pad=4), flip(horizontal), ...]}: an augmentation
 * named in {@link Augmentations#NAMES} and its arguments bound to {@link Augmentations#schema}.
 * The engine turns the list into the transformation applied to every training sample it gathers.
 */
public record AugmentSpec(String name, LayerArgs args, SourceSpan span) {}
