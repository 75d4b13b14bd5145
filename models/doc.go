// Package models holds curvprobe's MLPs: the Spec of a network, the
// Gorgonia graph that defines it, and the lowering of that graph to a Plan
// of kernels.Backend calls that computes the loss, accuracy, gradient, the
// exact Hessian-vector product and the Gauss-Newton-vector product.
//
// # Graph and Plan
//
// Graph builds the network in Gorgonia: x·W_l + b_l, the activation on every
// hidden layer, a linear last layer, and the loss (mean cross-entropy of the
// log-softmax, or the mean squared error over all N*C elements). Gorgonia's
// first-order Grad of that graph is the reference gradient. Gorgonia's
// second-order symbolic differentiation is wrong (DESIGN.md), so Hessians
// never come from Grad of a gradient: Lower walks the graph, recognises each
// node (an error names any node it does not understand), and produces a Plan
// that evaluates the same function with backend calls, and its exact
// Hessian-vector product by Pearlmutter's R-operator (Pearlmutter 1994,
// "Fast exact multiplication by the Hessian", Neural Computation 6(1)).
//
// # Data
//
// A Data set lives on the backend (NewData), in host memory with one batch
// uploaded per pass (NewHostData), or is read a batch at a time from a
// Source (NewSourceData: a file read on demand, so that neither host nor
// backend holds more than Settings.Batch of its samples; a ViewSource, a
// set in memory, hands out views of its samples instead of copies). All
// three give the same results, bit for bit; only a Source's passes can fail
// for the data (a file changed), with the Source's error.
//
// # The R-operator
//
// Layer l: z_l = a_{l-1} W_l + 1 b_l, a_l = s(z_l); B samples in rows. For a
// direction V = (V_l, c_l):
//
//	Rz_l = Ra_{l-1} W_l + a_{l-1} V_l + 1 c_l,  Ra_l = s'(z_l) * Rz_l,  Ra_0 = 0
//	d_{l-1} = (d_l W_l^T) * s'(z_{l-1})
//	Rd_L = (d²Loss/dz_L²) Rz_L
//	Rd_{l-1} = (Rd_l W_l^T + d_l V_l^T) * s'(z_{l-1}) + (d_l W_l^T) * s''(z_{l-1}) * Rz_{l-1}
//	(Hv)_{W_l} = Ra_{l-1}^T d_l + a_{l-1}^T Rd_l,  (Hv)_{b_l} = 1^T Rd_l
//
// The Gauss-Newton product drops the second-derivative (s-double-prime) term, the d_l V_l^T term and the
// Ra_{l-1}^T d_l term: it is J^T (d²Loss/dz_L²) J v.
//
// A layer's diagonal block H_ll (LayerOperator; W_l and b_l together) is
// the same product for a direction that is zero outside layer l, read back
// at layer l: the tangents are zero below l, the d_m V_m^T terms vanish
// above it, and only (Hv)_{W_l}, (Hv)_{b_l} are formed, so the tangent
// passes run from layer l up and back down to it only.
//
// # Parameters
//
// The flat parameter vector is W0, b0, W1, b1, ... each row-major, W_l
// shaped [in, out] (x @ W + b), as in the weights NPZ files (LoadWeights,
// SaveWeights). LoadWeights also reads PyTorch's layout, told from the
// file's content: the state_dict of an nn.Sequential of Linear layers
// (weights [out, in], transposed on reading) saved with safetensors or
// torch.save (internal/torchfile); InferSpec reads the widths from the
// weights; SaveSafetensors writes that layout back. A full-dataset quantity is the sum over batches of
// (batch size / N) times the batch quantity; the Plan folds the 1/N into the
// loss derivatives so batches simply accumulate.
package models
