// The study's surgery step on the real model: PCA of every q, k and v of SmolLM2 and their
// reconstruction at one threshold (separate mode, the study's centring), beside the original
// study's pipeline — scikit-learn PCA(svd_solver='full') on the same float32 weights — in the
// same run, BLAS limited to one thread (it was 2–3× faster that way here; DESIGN.md).
import Foundation
import Llama
import Surgery
import TestSupport

func runSurgeryBenchmarks() {
    let path = Fixtures.modelPath
    guard let weights = try? LoadedModel(path: path).model.weights else {
        print("surgery: model not found at \(path) (run `make model`)")
        return
    }
    print("surgery (SmolLM2-135M: PCA + reconstruction of all 90 q, k, v matrices, separate, variance 0.9, seed centring)")
    guard let plan = try? SurgeryPlan(grouping: .separate, selection: .variance(0.9), centring: .seed) else { return }
    let ours = medianSeconds(runs: 3) { _ = try? Surgeon(base: weights).apply(plan) }
    print("  ours: \(format(ours, digits: 2)) s (median of 3, decomposition included)")

    let script = """
    import sys, time, statistics, numpy as np
    from threadpoolctl import threadpool_limits
    from sklearn.decomposition import PCA
    from gguf import GGUFReader
    from gguf.quants import dequantize
    r = GGUFReader(sys.argv[1])
    mats = []
    for t in r.tensors:
        if any(t.name.endswith(s) for s in ('attn_q.weight', 'attn_k.weight', 'attn_v.weight')):
            w = dequantize(t.data, t.tensor_type).reshape(tuple(reversed([int(d) for d in t.shape]))).astype(np.float32)
            mats.append(w)
    def once():
        for w in mats:
            x = w if w.shape[0] <= w.shape[1] else w.T
            pca = PCA(svd_solver='full').fit(x)
            n = int(np.argmax(np.cumsum(pca.explained_variance_ratio_) >= 0.9)) + 1
            _ = pca.transform(x)[:, :n] @ pca.components_[:n]
    times = []
    with threadpool_limits(limits=1):
        for _ in range(3):
            t = time.perf_counter(); once(); times.append(time.perf_counter() - t)
    print(statistics.median(times))
    """
    if let output = runPython(script, arguments: [path]), let theirs = Double(output.trimmingCharacters(in: .whitespacesAndNewlines)) {
        print("  scikit-learn (the study's code path): \(format(theirs, digits: 2)) s → ratio ours/sklearn time \(format(ours / theirs, digits: 2))")
    } else {
        print("  scikit-learn: not installed (or failed); no ratio")
    }
}
