package org.neurite.hostile;

import java.lang.reflect.Proxy;
import java.util.List;
import org.neurite.backend.Backend;
import org.neurite.diag.SourceSpan;
import org.neurite.engine.ParameterStore;
import org.neurite.graph.Graph;
import org.neurite.graph.GraphInput;
import org.neurite.graph.LayerRegistry;
import org.neurite.graph.Node;
import org.neurite.graph.TypedGraph;
import org.neurite.layer.Initializer;
import org.neurite.layer.KernelContext;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.LayerKernel;
import org.neurite.layer.LayerType;
import org.neurite.layer.ParamDecl;
import org.neurite.layer.ParamSchema;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * The smallest model with parameters that a weight file can be loaded into: input [4], one
 * layer {@code fc} with {@code fc.weight [2, 4]} and {@code fc.bias [2]}, held by a
 * {@link ParameterStore} on a heap backend that can only allocate, upload and download (all a
 * store needs to load weights; nothing here runs a layer).
 */
final class TinyModel {
    private TinyModel() {}

    static ParameterStore store() {
        LayerType affine = new LayerType() {
            @Override public String name() { return "affine"; }

            @Override public String doc() { return "y = W x + b, for loading tests"; }

            @Override public ParamSchema schema() { return ParamSchema.empty(); }

            @Override public Shape outputShape(LayerArgs args, List<Shape> inputs) { return Shape.of(2); }

            @Override public List<ParamDecl> parameters(LayerArgs args, List<Shape> inputs) {
                return List.of(ParamDecl.weight("weight", Shape.of(2, 4), Initializer.zeros()),
                        ParamDecl.bias("bias", Shape.of(2), Initializer.zeros()));
            }

            @Override public LayerKernel compile(KernelContext context) {
                throw new UnsupportedOperationException("loading tests never run the layer");
            }
        };
        SourceSpan here = SourceSpan.at("tiny.nn", 1, 1);
        Graph graph = new Graph("Tiny", List.of(new GraphInput("x", Shape.of(4), here)),
                List.of(new Node("fc", "affine", LayerArgs.empty(), List.of("x"), here)), List.of("fc"));
        TypedGraph typed = TypedGraph.infer(graph, new LayerRegistry(List.of(affine)));
        return new ParameterStore(typed, heapBackend(), 1);
    }

    /** A tensor that is a float array of the heap backend. */
    private record HeapTensor(Backend backend, Shape shape, float[] data) implements Tensor {}

    private static Backend heapBackend() {
        Backend[] self = new Backend[1];
        self[0] = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class}, (proxy, method, args) -> {
            switch (method.getName()) {
                case "allocate" -> {
                    Shape shape = (Shape) args[0];
                    return new HeapTensor(self[0], shape, new float[shape.size()]);
                }
                case "upload" -> {
                    if (args.length == 2) {
                        float[] src = (float[]) args[0];
                        System.arraycopy(src, 0, ((HeapTensor) args[1]).data(), 0, src.length);
                    } else {
                        System.arraycopy(args[0], (int) args[1], ((HeapTensor) args[2]).data(), (int) args[3], (int) args[4]);
                    }
                    return null;
                }
                case "download" -> {
                    if (args.length == 1) return ((HeapTensor) args[0]).data().clone();
                    System.arraycopy(((HeapTensor) args[0]).data(), (int) args[1], args[2], (int) args[3], (int) args[4]);
                    return null;
                }
                case "name" -> {
                    return "heap";
                }
                case "close" -> {
                    return null;
                }
                default -> throw new UnsupportedOperationException("the loading tests' backend has no " + method.getName());
            }
        });
        return self[0];
    }
}
