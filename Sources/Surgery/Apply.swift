// Applying a plan: decompose each group once (cached), reconstruct its matrices for the plan's
// selection and centring, and return new weights with per-matrix statistics. The base weights are
// never changed; unchanged tensors share storage with them (copy-on-write).
import Tensor
import Linalg
import Llama
import FoundationEssentials

// MARK: - Results

/// What the surgery produced.
public struct SurgeryResult: Sendable {
    public let plan: SurgeryPlan
    /// The surgered weights.
    public let weights: Weights
    /// One entry per targeted matrix, by layer then target.
    public let statistics: [MatrixStatistics]

    public var summary: SurgerySummary { SurgerySummary(statistics: statistics) }
}

/// Progress of long work: `done` of `total` steps, `item` naming the one just finished
/// (`decomposing layer 3 k+v`).
public struct SurgeryProgress: Sendable {
    public let done: Int
    public let total: Int
    public let item: String
}

/// Applies `plan` to `weights`: the new weights (the input untouched) and per-matrix statistics.
/// For several plans on one model, use a `Surgeon`: it decomposes each group only once.
public func apply(_ plan: SurgeryPlan, to weights: Weights) throws(SurgeryError) -> (weights: Weights, statistics: [MatrixStatistics]) {
    let result = try Surgeon(base: weights).apply(plan)
    return (result.weights, result.statistics)
}

// MARK: - The surgeon: one base model, its decompositions cached

/// Holds a base model and the decompositions fitted so far, keyed by group (its matrices and
/// whether the fit is centred), so any number of plans — thresholds, ranks, centrings — reuse them.
/// Not thread-safe: use one surgeon from one task.
public final class Surgeon {
    public let base: Weights
    private var cache: [CacheKey: PCA] = [:]

    struct CacheKey: Hashable {
        let group: MatrixGroup
        let centred: Bool
    }

    public init(base: Weights) {
        self.base = base
    }

    /// Decompositions held.
    public var cachedDecompositions: Int { cache.count }

    /// Fits every group the plans need that is not cached yet (a sweep calls this once up front,
    /// so progress covers all the decomposition work).
    public func prepare(_ plans: [SurgeryPlan], progress: (SurgeryProgress) -> Void = { _ in }) throws(SurgeryError) {
        var missing: [CacheKey] = []
        for plan in plans {
            for group in try plan.groups(for: base) {
                let key = CacheKey(group: group, centred: plan.centring.isCentred)
                if cache[key] == nil && !missing.contains(key) { missing.append(key) }
            }
        }
        try fit(missing, progress: progress)
    }

    /// Applies a plan to the base weights.
    public func apply(_ plan: SurgeryPlan, progress: (SurgeryProgress) -> Void = { _ in }) throws(SurgeryError) -> SurgeryResult {
        try prepare([plan], progress: progress)
        var weights = base
        var statistics: [MatrixStatistics] = []
        for group in try plan.groups(for: base) {
            let fit = cache[CacheKey(group: group, centred: plan.centring.isCentred)]!
            let n = fit.componentCount(plan.selection)
            let xHat: Tensor                                                   // (s, f)
            do { xHat = try fit.reconstruction(components: n, addingMean: plan.centring == .pca) } catch {
                throw .decompositionFailed(group: group.label, reason: "\(error)")
            }
            let size = FactoredSize(memberSamples: group.members.indices.map { group.sampleRange(ofMember: $0).count },
                                    features: group.featureCount, components: n, withMean: plan.centring == .pca)
            for (index, (id, matrix)) in zip(group.members, group.split(xHat)).enumerated() {
                let original = base.layers[id.layer][id.target.tensor]
                statistics.append(MatrixStatistics(
                    matrix: id, shape: original.shape, group: group.label, groupSize: group.members.count,
                    orientation: group.orientation, components: n, componentLimit: fit.componentCount,
                    varianceExplained: fit.explained(components: n),
                    relativeError: relativeFrobeniusError(original.scalars, matrix.scalars),
                    denseParameters: original.count, coefficientParameters: size.coefficients[index],
                    groupBasisParameters: size.basis,
                    basisShare: Double(group.sampleRange(ofMember: index).count) / Double(group.sampleCount)))
                weights.layers[id.layer][id.target.tensor] = matrix
            }
        }
        return SurgeryResult(plan: plan, weights: weights, statistics: statistics.sorted { $0.matrix < $1.matrix })
    }

    /// One group's decomposition, fitted if needed — for spectra and tests.
    func decomposition(of group: MatrixGroup, centred: Bool) throws(SurgeryError) -> PCA {
        let key = CacheKey(group: group, centred: centred)
        try fit(cache[key] == nil ? [key] : [])
        return cache[key]!
    }

    // MARK: - Fitting, a few groups at a time

    /// Fits the groups in batches of one per core (each fit is independent and writes only its own
    /// slot), reporting progress after each batch.
    private func fit(_ keys: [CacheKey], progress: (SurgeryProgress) -> Void = { _ in }) throws(SurgeryError) {
        let batch = max(1, ProcessInfo.processInfo.activeProcessorCount)
        var done = 0
        for start in stride(from: 0, to: keys.count, by: batch) {
            let slice = Array(keys[start..<min(start + batch, keys.count)])
            let samples = slice.map { $0.group.samples(in: base) }
            var results = [Result<PCA, SurgeryError>?](repeating: nil, count: slice.count)
            results.withUnsafeMutableBufferPointer { buffer in
                let out = SharedPointer(buffer.baseAddress!)
                parallelFor(slice.count) { i in
                    out.base[i] = Result { () throws(SurgeryError) -> PCA in
                        try PCA.fitGroup(samples[i], centred: slice[i].centred, label: slice[i].group.label)
                    }
                }
            }
            for (key, result) in zip(slice, results) {
                cache[key] = try result!.get()
                done += 1
                progress(SurgeryProgress(done: done, total: keys.count,
                                         item: "decomposing \(key.group.label)\(key.centred ? "" : " (uncentred)")"))
            }
        }
    }
}
