package org.neurite.engine;

import java.lang.reflect.Proxy;
import java.util.Optional;
import org.neurite.backend.Backend;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * A backend whose tensors are shapes without storage and whose ops do nothing. Building a
 * {@link ParameterStore}, a {@link Trainer} and a {@link CompiledModel} on it walks exactly the
 * allocations a real backend would see (parameters, gradients, optimiser slots, activations,
 * their gradients, every tensor a layer keeps through its {@code KernelContext}) without
 * allocating them, and counts their bytes: what {@link MemoryPlanner} counts before anything real is allocated.
 *
 * <p>Every operation of {@link Backend} is a no-op returning zero, false, an empty optional or
 * null. Layers may call ops while they compile (filling a tensor of ones), and those calls must
 * succeed without storage; nothing is ever run forward or backward on this backend. The ops are
 * answered by one proxy handler rather than one method each so that an op added to
 * {@link Backend} needs nothing here.
 */
final class PlanningBackend {
    /** The backend: its tensors have shapes and no storage, its ops do nothing. */
    final Backend backend;
    /** Bytes of every tensor allocated on it so far (float32). */
    private long bytesAllocated;

    /** A tensor of a planning backend: its shape, no storage. */
    private record PlannedTensor(Shape shape, Backend backend) implements Tensor {}

    PlanningBackend() {
        Backend[] self = new Backend[1];
        self[0] = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "allocate" -> allocate((Shape) args[0], self[0]);
                    case "name", "description", "toString" -> "planning";
                    case "memoryReport" -> "";
                    case "memoryAvailable" -> Long.MAX_VALUE;
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> nothing(method.getReturnType());
                });
        this.backend = self[0];
    }

    private Tensor allocate(Shape shape, Backend owner) {
        bytesAllocated += 4L * shape.elementCount();
        return new PlannedTensor(shape, owner);
    }

    /** Bytes of every tensor allocated on this backend so far. */
    long bytesAllocated() { return bytesAllocated; }

    /** What a no-op returns: the type's zero, or an empty optional. */
    private static Object nothing(Class<?> type) {
        if (type == boolean.class) return false;
        if (type == int.class) return 0;
        if (type == long.class) return 0L;
        if (type == float.class) return 0f;
        if (type == double.class) return 0d;
        if (type == Optional.class) return Optional.empty();
        return null;
    }
}
