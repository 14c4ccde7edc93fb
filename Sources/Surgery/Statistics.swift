// What a surgery did to each matrix — components kept, variance explained, relative error — and
// what the matrix would cost stored in factored form, with the plan-level summary over all of them.
//
// Factored-parameter accounting. A group's samples X (s × f) are reconstructed from n components as
// X̂ = Zₙ Cₙ (+ 1μᵀ): the basis Cₙ has n·f parameters, the mean f more when the reconstruction adds
// it (centring `pca`; `seed` and `none` never use it), and a member contributing sᵢ samples owns
// its coefficients, sᵢ·n parameters. Its dense size is out·in (= sᵢ·f). The basis and mean are
// stored once per group; per matrix they are apportioned by the member's share of the samples,
// sᵢ / s (k and v of a layer take half each), so the per-matrix figures add up to the group's.
// The plan-level total counts each group's basis exactly once.

// MARK: - One matrix

public struct MatrixStatistics: Sendable, Equatable {
    public let matrix: MatrixID
    /// PyTorch shape (out, in).
    public let shape: [Int]
    /// The group the basis belongs to (`layer 3 q`, `layer 3 k+v`, `layers 0–29 k+v`).
    public let group: String
    /// Matrices sharing the basis.
    public let groupSize: Int
    /// Which axis of W holds the PCA samples.
    public let orientation: Orientation
    /// n, the components kept, and the most the group has, min(samples, features).
    public let components: Int
    public let componentLimit: Int
    /// Fraction of the group's variance (or, uncentred, energy) the kept components explain.
    public let varianceExplained: Double
    /// ‖W − Ŵ‖_F / ‖W‖_F, in Double.
    public let relativeError: Double
    /// out · in.
    public let denseParameters: Int
    /// sᵢ · n: this matrix's own coefficients.
    public let coefficientParameters: Int
    /// n · f (+ f for the mean under `pca` centring): the whole group's basis, stored once.
    public let groupBasisParameters: Int
    /// sᵢ / s: the share of the group's basis attributed to this matrix.
    public let basisShare: Double
    /// Activation basis only: 1 − ‖(W − Ŵ)X‖²_F / ‖W X‖²_F over the calibration inputs X, this
    /// matrix's own output energy kept.
    public let outputEnergyKept: Double?

    public init(matrix: MatrixID, shape: [Int], group: String, groupSize: Int, orientation: Orientation,
                components: Int, componentLimit: Int, varianceExplained: Double, relativeError: Double,
                denseParameters: Int, coefficientParameters: Int, groupBasisParameters: Int, basisShare: Double,
                outputEnergyKept: Double? = nil) {
        self.matrix = matrix
        self.shape = shape
        self.group = group
        self.groupSize = groupSize
        self.orientation = orientation
        self.components = components
        self.componentLimit = componentLimit
        self.varianceExplained = varianceExplained
        self.relativeError = relativeError
        self.denseParameters = denseParameters
        self.coefficientParameters = coefficientParameters
        self.groupBasisParameters = groupBasisParameters
        self.basisShare = basisShare
        self.outputEnergyKept = outputEnergyKept
    }

    /// Coefficients plus this matrix's share of the basis (and mean).
    public var factoredParameters: Double {
        Double(coefficientParameters) + basisShare * Double(groupBasisParameters)
    }

    /// factored / dense: below 1 the factored form is smaller.
    public var factoredRatio: Double { factoredParameters / Double(denseParameters) }
}

// MARK: - Factored size of one group

/// The parameters of a group's factored form: `coefficients[i]` for member i, and the shared basis.
struct FactoredSize: Equatable {
    var coefficients: [Int]
    var basis: Int

    /// `memberSamples[i]` = sᵢ, `features` = f, n components; the mean counted when `withMean`.
    init(memberSamples: [Int], features: Int, components n: Int, withMean: Bool) {
        coefficients = memberSamples.map { $0 * n }                   // Zᵢ: (sᵢ, n)
        basis = n * features + (withMean ? features : 0)               // Cₙ: (n, f), μ: (f)
    }

    var total: Int { coefficients.reduce(0, +) + basis }
}

// MARK: - The whole plan

public struct SurgerySummary: Sendable, Equatable {
    public let matrixCount: Int
    /// Components kept, per target: the list over layers (one entry per matrix, by layer).
    public let components: [SurgeryTarget: [Int]]
    /// Σ out·in over the targeted matrices.
    public let denseParameters: Int
    /// Σ coefficients + Σ over groups of basis (+ mean), each group's basis counted once.
    public let factoredParameters: Int
    /// Mean of ‖W − Ŵ‖/‖W‖ over the matrices.
    public let meanRelativeError: Double

    public init(statistics: [MatrixStatistics]) {
        matrixCount = statistics.count
        var byTarget: [SurgeryTarget: [Int]] = [:]
        for s in statistics { byTarget[s.matrix.target, default: []].append(s.components) }
        components = byTarget
        denseParameters = statistics.reduce(0) { $0 + $1.denseParameters }
        var basisOfGroup: [String: Int] = [:]
        for s in statistics { basisOfGroup[s.group] = s.groupBasisParameters }
        factoredParameters = statistics.reduce(0) { $0 + $1.coefficientParameters } + basisOfGroup.values.reduce(0, +)
        meanRelativeError = statistics.isEmpty ? 0 : statistics.reduce(0) { $0 + $1.relativeError } / Double(statistics.count)
    }

    /// Mean components kept over the matrices of the given targets, nil when none was targeted.
    public func meanComponents(_ targets: SurgeryTarget...) -> Double? {
        let all = targets.flatMap { components[$0] ?? [] }
        return all.isEmpty ? nil : Double(all.reduce(0, +)) / Double(all.count)
    }

    /// Mean components of q, or nil when q was not targeted.
    public var meanComponentsQ: Double? { meanComponents(.q) }

    /// Mean components over all k and v matrices together (as the study reports it: mean(n_k + n_v)).
    public var meanComponentsKV: Double? { meanComponents(.k, .v) }

    /// factored / dense over the targeted matrices: below 1 the factored model is smaller.
    public var factoredParameterRatio: Double {
        denseParameters == 0 ? 0 : Double(factoredParameters) / Double(denseParameters)
    }
}

// MARK: - Helpers

/// ‖A − B‖_F / ‖A‖_F, accumulated in Double (0 when A = 0 and B = A).
package func relativeFrobeniusError(_ a: [Float], _ b: [Float]) -> Double {
    precondition(a.count == b.count, "relative error of \(a.count) and \(b.count) values")
    var difference = 0.0, norm = 0.0
    for i in 0..<a.count {
        let x = Double(a[i]), d = x - Double(b[i])
        difference += d * d
        norm += x * x
    }
    if norm == 0 { return difference == 0 ? 0 : .infinity }
    return (difference / norm).squareRoot()
}
