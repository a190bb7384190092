package org.neurite.backend.opencl;

import org.neurite.backend.UnaryOp;

/**
 * Batch normalisation and local response normalisation over x viewed as [outer, channels, inner]
 * ({@code norm.cl}, PyTorch semantics). Batch-norm training and backward give each channel one
 * work-group (mean, then the variance around it, in the accumulator type); evaluation and LRN are
 * one work-item per element.
 */
final class ClNormalization {
    private final ClKernels kernels;

    ClNormalization(ClKernels kernels) {
        this.kernels = kernels;
    }

    /**
     * Training writes saveMean and saveInvStd and updates the running statistics; evaluation reads
     * only the running ones. The activation (null: none) is applied as each value is stored.
     */
    void batchNormForward(ClTensor x, ClTensor y, ClTensor gamma, ClTensor beta, ClTensor runningMean, ClTensor runningVar,
                          ClTensor saveMean, ClTensor saveInvStd, int outer, int channels, int inner,
                          float eps, float momentum, boolean training, UnaryOp activation) {
        int act = activation == null ? 0 : ClOpCodes.code(activation) + 1;
        if (training) {
            kernels.get("batch_norm_train").args().mem(x).mem(y).mem(gamma).mem(beta).mem(runningMean).mem(runningVar).mem(saveMean)
                    .mem(saveInvStd).i(outer).i(channels).i(inner).f(eps).f(momentum).i(act).groups(channels);
        } else {
            kernels.get("batch_norm_infer").args().mem(x).mem(y).mem(gamma).mem(beta).mem(runningMean).mem(runningVar).i(channels)
                    .i(Math.max(1, inner)).f(eps).i(x.size()).i(act).map(x.size());
        }
    }

    /**
     * dgamma and dbeta may be null: they are then not written. With an activation (its derivative
     * from y alone), dy is the gradient of y = activation(batchnorm(x)), taken through the
     * derivative wherever it is read; y is unread without one.
     */
    void batchNormBackward(ClTensor x, ClTensor dy, ClTensor gamma, ClTensor saveMean, ClTensor saveInvStd, UnaryOp activation, ClTensor y,
                           ClTensor dx, ClTensor dgamma, ClTensor dbeta, int outer, int channels, int inner) {
        int act = activation == null ? 0 : ClOpCodes.code(activation) + 1;
        // Absent outputs are not written; any buffer stands in for them (and for y without an activation).
        kernels.get("batch_norm_backward").args().mem(x).mem(dy).mem(gamma).mem(saveMean).mem(saveInvStd).mem(dx)
                .mem(dgamma == null ? gamma : dgamma).mem(dbeta == null ? gamma : dbeta).bool(dgamma != null).bool(dbeta != null)
                .i(outer).i(channels).i(inner).mem(activation == null ? x : y).i(act).groups(channels);
    }

    void lrnForward(ClTensor x, ClTensor y, ClTensor scale, int channels, int inner, int size, float alpha, float beta, float k) {
        kernels.get("lrn_forward").args().mem(x).mem(y).mem(scale).i(channels).i(inner).i(size).f(alpha / size).f(beta).f(k).i(x.size())
                .map(x.size());
    }

    void lrnBackward(ClTensor x, ClTensor y, ClTensor scale, ClTensor dy, ClTensor dx, int channels, int inner,
                     int size, float alpha, float beta) {
        kernels.get("lrn_backward").args().mem(x).mem(y).mem(scale).mem(dy).mem(dx).i(channels).i(inner).i(size).f(beta)
                .f(2f * alpha * beta / size).i(x.size()).map(x.size());
    }
}
