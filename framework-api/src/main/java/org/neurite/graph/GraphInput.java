package org.neurite.graph;

import org.neurite.diag.SourceSpan;
import org.neurite.tensor.Shape;

/** A declared model input: {@code input image: [1, 28, 28]} (shape without batch). */
public record GraphInput(String name, Shape shape, SourceSpan span) {}
