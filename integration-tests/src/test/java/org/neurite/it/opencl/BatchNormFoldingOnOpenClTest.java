package org.neurite.it.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.neurite.dsl.Script;
import org.neurite.dsl.ScriptLoader;
import org.neurite.graph.TypedGraph;
import org.neurite.it.BatchNormFoldingTest;

/**
 * The engine folds batch norm into the convolution before it with backend ops only (the batch
 * norm's own op on constant inputs, channel broadcasts, element-wise ops), so it holds on OpenCL as
 * on the CPU: the small ResNet's folded logits agree with the unfolded ones to float rounding,
 * before and after training.
 */
class BatchNormFoldingOnOpenClTest {
    @Test void resnetSmallFoldsEveryBatchNormOnOpenCl() throws Exception {
        Script script = new ScriptLoader(OpenClRuns.RUNTIME.layers()).load(Path.of("../examples/resnet_small.nn"));
        TypedGraph graph = script.mainModel();
        Map<String, String> folds = BatchNormFoldingTest.foldedMatchesUnfolded(graph, script.training("ResNetSmall").orElseThrow(),
                OpenClRuns::opencl);
        assertEquals(9, folds.size(), folds.toString());
    }
}
