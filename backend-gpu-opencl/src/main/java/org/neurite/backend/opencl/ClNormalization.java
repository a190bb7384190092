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
            kernels.get("batch_norm_train").groups(channels, x, y, gamma, beta, runningMean, runningVar, saveMean, saveInvStd,
                    outer, channels, inner, eps, momentum, act);
        } else {
            kernels.get("batch_norm_infer").map(x.size(), x, y, gamma, beta, runningMean, runningVar, channels, Math.max(1, inner), eps,
                    x.size(), act);
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
        kernels.get("batch_norm_backward").groups(channels, x, dy, gamma, saveMean, saveInvStd, dx,
                dgamma == null ? gamma : dgamma, dbeta == null ? gamma : dbeta, dgamma != null, dbeta != null, outer, channels, inner,
                activation == null ? x : y, act);
    }

    void lrnForward(ClTensor x, ClTensor y, ClTensor scale, int channels, int inner, int size, float alpha, float beta, float k) {
        kernels.get("lrn_forward").map(x.size(), x, y, scale, channels, inner, size, alpha / size, beta, k, x.size());
    }

    void lrnBackward(ClTensor x, ClTensor y, ClTensor scale, ClTensor dy, ClTensor dx, int channels, int inner,
                     int size, float alpha, float beta) {
        kernels.get("lrn_backward").map(x.size(), x, y, scale, dy, dx, channels, inner, size, beta, 2f * alpha * beta / size, x.size());
    }
}
