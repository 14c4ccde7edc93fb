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
    /// Per layer, K and V as factors of one latent (Latent.swift) when the plan made them share a
    /// basis; nil for the other layers.
    public let latentKV: [LatentKV?]

    /// The surgered weights with the K/V factors attached, which a `Model` runs from a latent cache
    /// (its logits equal those of `weights` up to rounding); nil when no layer has them.
    public var latentWeights: Weights? {
        guard latentKV.contains(where: { $0 != nil }) else { return nil }
        var latent = weights
        for (layer, factors) in latentKV.enumerated() { latent.layers[layer].latentKV = factors }
        return latent
    }

    public var summary: SurgerySummary { SurgerySummary(statistics: statistics) }

    /// The KV cache a latent form of this result holds, as a fraction of the dense cache:
    /// Σ_l r_l / Σ_l (k_l + v_l) values per token, where r_l is the latent's rank when k and v share
    /// a basis (one more than the components with true-PCA centring: Latent.swift), else the kept
    /// components of each (its full width when untouched).
    public var kvCacheFraction: Double {
        var kept = 0, full = 0
        for (layer, tensors) in weights.layers.enumerated() {
            let kRows = tensors.k.shape[0], vRows = tensors.v.shape[0]
            full += kRows + vRows
            if let latent = latentKV[layer] {
                kept += latent.rank
                continue
            }
            let k = statistics.first { $0.matrix == MatrixID(layer: layer, target: .k) }
            let v = statistics.first { $0.matrix == MatrixID(layer: layer, target: .v) }
            if let k, let v, k.group == v.group {
                kept += min(k.components, kRows + vRows)
            } else {
                kept += min(k?.components ?? kRows, kRows) + min(v?.components ?? vRows, vRows)
            }
        }
        return full == 0 ? 1 : Double(kept) / Double(full)
    }
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

/// Holds a base model, its calibration statistics (for the activation basis) and the
/// decompositions fitted so far, keyed by group and kind of fit, so any number of plans —
/// thresholds, ranks, centrings — reuse them. Not thread-safe: use one surgeon from one task.
public final class Surgeon {
    public let base: Weights
    public let calibration: ActivationStatistics?
    private var cache: [CacheKey: PCA] = [:]
    private var outputCache: [OutputKey: OutputPCA] = [:]

    struct CacheKey: Hashable {
        let group: MatrixGroup
        let centred: Bool
    }

    struct OutputKey: Hashable {
        let group: MatrixGroup
        let balanced: Bool
    }

    public init(base: Weights, calibration: ActivationStatistics? = nil) {
        self.base = base
        self.calibration = calibration
    }

    /// Decompositions held.
    public var cachedDecompositions: Int { cache.count + outputCache.count }

    /// Fits every group the plans need that is not cached yet (a sweep calls this once up front,
    /// so progress covers all the decomposition work).
    public func prepare(_ plans: [SurgeryPlan], progress: (SurgeryProgress) -> Void = { _ in }) throws(SurgeryError) {
        try prepare(plans, onlyLayers: nil, progress: progress)
    }

    /// `prepare` for the groups whose first member is in `onlyLayers` (all when nil).
    private func prepare(_ plans: [SurgeryPlan], onlyLayers: Set<Int>?, progress: (SurgeryProgress) -> Void) throws(SurgeryError) {
        var missing: [CacheKey] = []
        var missingOutputs: [OutputKey] = []
        for plan in plans {
            for group in try plan.groups(for: base) where onlyLayers?.contains(group.members[0].layer) ?? true {
                switch plan.basis {
                case .weights:
                    let key = CacheKey(group: group, centred: plan.centring.isCentred)
                    if cache[key] == nil && !missing.contains(key) { missing.append(key) }
                case .activations(let balanced):
                    let key = OutputKey(group: group, balanced: balanced)
                    if outputCache[key] == nil && !missingOutputs.contains(key) { missingOutputs.append(key) }
                }
            }
        }
        let total = missing.count + missingOutputs.count
        try fit(missing) { p in progress(SurgeryProgress(done: p.done, total: total, item: p.item)) }
        try fitOutputs(missingOutputs) { p in
            progress(SurgeryProgress(done: missing.count + p.done, total: total, item: p.item))
        }
    }

    /// Applies a plan to the base weights.
    public func apply(_ plan: SurgeryPlan, progress: (SurgeryProgress) -> Void = { _ in }) throws(SurgeryError) -> SurgeryResult {
        try apply(plan, onlyLayers: nil, progress: progress)
    }

    /// Applies a plan to the groups of `onlyLayers` (all when nil); the other layers stay the base's.
    func apply(_ plan: SurgeryPlan, onlyLayers: Set<Int>?, progress: (SurgeryProgress) -> Void = { _ in }) throws(SurgeryError) -> SurgeryResult {
        try prepare([plan], onlyLayers: onlyLayers, progress: progress)
        var weights = base
        var statistics: [MatrixStatistics] = []
        var latents: [LatentKV?] = Array(repeating: nil, count: base.layers.count)
        for group in try plan.groups(for: base) where onlyLayers?.contains(group.members[0].layer) ?? true {
            let n: Int, limit: Int, explained: Double
            let pieces: [Tensor]
            var energies: [Double?] = Array(repeating: nil, count: group.members.count)
            let latentFactors: () -> (down: Tensor, up: Tensor)              // the fit's own B and A (Latent.swift)
            switch plan.basis {
            case .weights:
                let fit = cache[CacheKey(group: group, centred: plan.centring.isCentred)]!
                n = plan.selection.components(layer: group.members[0].layer, rows: group.sampleCount, limit: fit.componentCount) {
                    fit.components(reaching: $0)
                }
                let xHat: Tensor                                               // (s, f)
                do { xHat = try fit.reconstruction(components: n, addingMean: plan.centring == .pca) } catch {
                    throw .decompositionFailed(group: group.label, reason: "\(error)")
                }
                (limit, explained, pieces) = (fit.componentCount, fit.explained(components: n), group.split(xHat))
                latentFactors = { fit.latentFactors(components: n, addingMean: plan.centring == .pca) }
            case .activations(let balanced):
                let fit = outputCache[OutputKey(group: group, balanced: balanced)]!
                n = plan.selection.components(layer: group.members[0].layer, rows: group.sampleCount, limit: fit.componentLimit) {
                    fit.components(reaching: $0)
                }
                (limit, explained, pieces) = (fit.componentLimit, fit.explained(components: n), group.split(fit.reconstruction(rank: n)))
                for (index, id) in group.members.enumerated() {
                    energies[index] = fit.outputEnergyKept(original: base.layers[id.layer][id.target.tensor], reconstructed: pieces[index])
                }
                latentFactors = { fit.latentFactors(rank: n) }
            }
            if group.isKVStack && n > 0 {
                let (down, up) = latentFactors()
                for (layer, factors) in group.latents(down: down, up: up) { latents[layer] = factors }
            }
            let size = FactoredSize(memberSamples: group.members.indices.map { group.sampleRange(ofMember: $0).count },
                                    features: group.featureCount, components: n, withMean: plan.centring == .pca)
            for (index, (id, matrix)) in zip(group.members, pieces).enumerated() {
                let original = base.layers[id.layer][id.target.tensor]
                statistics.append(MatrixStatistics(
                    matrix: id, shape: original.shape, group: group.label, groupSize: group.members.count,
                    orientation: group.orientation, components: n, componentLimit: limit,
                    varianceExplained: explained,
                    relativeError: relativeFrobeniusError(original.scalars, matrix.scalars),
                    denseParameters: original.count, coefficientParameters: size.coefficients[index],
                    groupBasisParameters: size.basis,
                    basisShare: Double(group.sampleRange(ofMember: index).count) / Double(group.sampleCount),
                    outputEnergyKept: energies[index]))
                weights.layers[id.layer][id.target.tensor] = matrix
            }
        }
        return SurgeryResult(plan: plan, weights: weights, statistics: statistics.sorted { $0.matrix < $1.matrix },
                             latentKV: latents)
    }

    /// Applies a plan one layer at a time (`layerByLayer`), every layer in order, and assembles the
    /// result: it equals `apply`'s up to what `keep` does. Plans whose groups span layers (a basis
    /// shared across layers) are applied whole.
    public func applyLayerByLayer(_ plan: SurgeryPlan, keep: @escaping (Tensor) -> WeightMatrix,
                                  progress: @escaping (SurgeryProgress) -> Void = { _ in }) throws(SurgeryError) -> SurgeryResult {
        guard let surgery = try layerByLayer(plan, keep: keep, progress: progress) else {
            let whole = try apply(plan, progress: progress)
            var weights = whole.weights
            for s in whole.statistics {
                let t = s.matrix.target.tensor
                weights.layers[s.matrix.layer][matrix: t] = keep(whole.weights.layers[s.matrix.layer][t])
            }
            return SurgeryResult(plan: plan, weights: weights, statistics: whole.statistics, latentKV: whole.latentKV)
        }
        var weights = base
        for layer in surgery.replaced.indices where !surgery.replaced[layer].isEmpty {
            for (t, matrix) in try surgery.matrices(layer: layer) { weights.layers[layer][matrix: t] = matrix }
        }
        return SurgeryResult(plan: plan, weights: weights, statistics: surgery.statistics, latentKV: surgery.latentKV)
    }

    /// The plan, to be applied one layer at a time when asked (`LayerByLayerSurgery`); nil when its
    /// groups span layers.
    public func layerByLayer(_ plan: SurgeryPlan, keep: @escaping (Tensor) -> WeightMatrix,
                             progress: @escaping (SurgeryProgress) -> Void = { _ in }) throws(SurgeryError) -> LayerByLayerSurgery? {
        let groups = try plan.groups(for: base)
        guard groups.allSatisfy({ g in g.members.allSatisfy { $0.layer == g.members[0].layer } }) else { return nil }
        return LayerByLayerSurgery(surgeon: self, plan: plan, groups: groups, keep: keep, progress: progress)
    }

    /// Drops the fits of the groups in `layer`.
    func forgetFits(layer: Int) {
        cache = cache.filter { $0.key.group.members[0].layer != layer }
        outputCache = outputCache.filter { $0.key.group.members[0].layer != layer }
    }

    /// The cumulative kept fraction (variance or output energy) of a group's fit under `plan`, r = 1…limit.
    func cumulative(of group: MatrixGroup, under plan: SurgeryPlan) throws(SurgeryError) -> [Double] {
        try prepare([plan])
        switch plan.basis {
        case .weights: return cache[CacheKey(group: group, centred: plan.centring.isCentred)]!.cumulativeRatio
        case .activations(let balanced): return outputCache[OutputKey(group: group, balanced: balanced)]!.cumulative
        }
    }

    /// The variance spectrum of each group: from the cached fit where there is one (a sweep on this
    /// surgeon made it), else from the eigenvalues alone (`PCASpectrum(of:)`, about half a fit's
    /// work), in batches as `fit`; those are not cached.
    func spectra(of groups: [MatrixGroup], centred: Bool, progress: (SurgeryProgress) -> Void) throws(SurgeryError) -> [PCASpectrum] {
        var spectra = groups.map { group in cache[CacheKey(group: group, centred: centred)].map { PCASpectrum($0) } }
        let missing = groups.indices.filter { spectra[$0] == nil }
        let base = self.base
        var done = 0
        try Self.inBatches(missing, group: { groups[$0] }, work: { index throws(SurgeryError) -> PCASpectrum in
            do { return try PCASpectrum(of: groups[index].samples(in: base), centred: centred) } catch {
                throw .decompositionFailed(group: groups[index].label, reason: "\(error)")
            }
        }, finish: { index, spectrum in
            spectra[index] = spectrum
            done += 1
            progress(SurgeryProgress(done: done, total: missing.count,
                                     item: "decomposing \(groups[index].label)\(centred ? "" : " (uncentred)"), eigenvalues only"))
        })
        return spectra.map { $0! }
    }

    // MARK: - Fitting, a few groups at a time

    /// Fits the groups in batches (`batches`: each fit is independent and writes only its own slot),
    /// reporting progress after each batch.
    private func fit(_ keys: [CacheKey], progress: (SurgeryProgress) -> Void = { _ in }) throws(SurgeryError) {
        let base = self.base
        var done = 0
        try Self.inBatches(keys, group: \.group, work: { key throws(SurgeryError) -> PCA in
            try PCA.fitGroup(key.group.samples(in: base), centred: key.centred, label: key.group.label)
        }, finish: { key, pca in
            cache[key] = pca
            done += 1
            progress(SurgeryProgress(done: done, total: keys.count,
                                     item: "decomposing \(key.group.label)\(key.centred ? "" : " (uncentred)")"))
        })
    }

    /// Groups to fit, a few per thread at a time (progress is reported and inputs are held per batch),
    /// each batch ordered largest first. Each fit runs on one thread (a parallel loop inside another
    /// runs serially) and the threads take the next fit as they finish, so a q (576×576) and a k
    /// (192×576) no longer run as a pair with one thread idle for most of the q; largest first keeps
    /// a big fit from starting last.
    private static func batches<Key>(_ keys: [Key], group: (Key) -> MatrixGroup) -> [[Key]] {
        let size = 4 * max(1, threadCount)
        func cost(_ key: Key) -> Int {           // the Gram and its eigendecomposition: min(s, f)²·max(s, f)
            let g = group(key), small = min(g.sampleCount, g.featureCount)
            return small * small * max(g.sampleCount, g.featureCount)
        }
        return stride(from: 0, to: keys.count, by: size).map { start in
            keys[start..<min(start + size, keys.count)].enumerated()
                .sorted { (cost($0.element), -$0.offset) > (cost($1.element), -$1.offset) }.map(\.element)
        }
    }

    /// `work(key)` for every key on the threads, a batch at a time (`batches`), each result handed
    /// to `finish` on this thread in batch order: the cache and progress are updated there.
    private static func inBatches<Key: Sendable, Value: Sendable>(
        _ keys: [Key], group: (Key) -> MatrixGroup, work: @Sendable (Key) throws(SurgeryError) -> Value,
        finish: (Key, Value) -> Void) throws(SurgeryError) {
        for slice in batches(keys, group: group) {
            var results = [Result<Value, SurgeryError>?](repeating: nil, count: slice.count)
            results.withUnsafeMutableBufferPointer { buffer in
                let out = SharedPointer(buffer.baseAddress!)
                parallelFor(slice.count) { i in
                    out.base[i] = Result { () throws(SurgeryError) -> Value in try work(slice[i]) }
                }
            }
            for (key, result) in zip(slice, results) { finish(key, try result!.get()) }
        }
    }

    /// Fits the output PCAs (activation basis) of the groups, a batch at a time like `fit`.
    private func fitOutputs(_ keys: [OutputKey], progress: (SurgeryProgress) -> Void) throws(SurgeryError) {
        guard !keys.isEmpty else { return }
        guard let calibration else { throw .needsCalibration }
        guard calibration.layerCount == base.layers.count, calibration.width == base.embedding.shape[1] else {
            throw .calibrationMismatch(layers: calibration.layerCount, width: calibration.width,
                                       modelLayers: base.layers.count, modelWidth: base.embedding.shape[1])
        }
        let base = self.base
        var done = 0
        try Self.inBatches(keys, group: \.group, work: { key throws(SurgeryError) -> OutputPCA in
            try OutputPCA(weights: key.group.members.map { base.layers[$0.layer][$0.target.tensor] },
                          moment: calibration.moment(layer: key.group.members[0].layer),
                          balanced: key.balanced, label: key.group.label)
        }, finish: { key, pca in
            outputCache[key] = pca
            done += 1
            progress(SurgeryProgress(done: done, total: keys.count,
                                     item: "output PCA of \(key.group.label)\(key.balanced ? " (K/V balanced)" : "")"))
        })
    }
}
