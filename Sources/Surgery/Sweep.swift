// A sweep: one surgery and one evaluation per (mode, centring, threshold), each group decomposed once
// for the whole sweep and reconstructed per threshold, rows handed to the caller as they finish.
import Llama

// MARK: - Evaluation

/// What an evaluation of a surgered model against the base measured, on the same text.
public struct EvaluationResult: Sendable, Equatable {
    /// exp(mean NLL) over the scored positions.
    public var perplexity: Double
    /// Mean KL(base ‖ surgered) over the scored positions (nats).
    public var meanKL: Double
    /// Fraction of positions where both models' most likely next token agree.
    public var top1Agreement: Double

    public init(perplexity: Double, meanKL: Double, top1Agreement: Double) {
        self.perplexity = perplexity
        self.meanKL = meanKL
        self.top1Agreement = top1Agreement
    }

    /// From Llama's `evaluate` score of a model (`scores[1]` for the surgered one, `scores[0]` for the base).
    public init(_ score: Score) {
        self.init(perplexity: score.perplexity, meanKL: score.meanKL, top1Agreement: score.top1Agreement)
    }
}

// MARK: - Points and rows

/// One combination a sweep evaluates.
public struct SweepPoint: Hashable, Sendable, CustomStringConvertible {
    public let grouping: Grouping
    public let centring: Centring
    public let basis: Basis
    public let selection: Selection

    public init(grouping: Grouping, centring: Centring, basis: Basis = .weights, selection: Selection) {
        self.grouping = grouping
        self.centring = centring
        self.basis = basis
        self.selection = selection
    }

    /// The study's point: the weights basis at a variance threshold.
    public init(grouping: Grouping, centring: Centring, threshold: Double) {
        self.init(grouping: grouping, centring: centring, selection: .variance(threshold))
    }

    /// The variance threshold, when the point has one.
    public var threshold: Double? {
        if case .variance(let t) = selection { return t }
        return nil
    }

    /// Every combination, modes outermost, then centrings, then thresholds in the order given.
    public static func grid(modes: [Grouping], centrings: [Centring], thresholds: [Double]) -> [SweepPoint] {
        grid(bases: [.weights], modes: modes, centrings: centrings, selections: thresholds.map { .variance($0) })
    }

    /// Every combination, bases outermost, then modes, centrings and selections. The activation
    /// basis is uncentred: its points take centring `none` whatever `centrings` says.
    public static func grid(bases: [Basis], modes: [Grouping], centrings: [Centring], selections: [Selection]) -> [SweepPoint] {
        bases.flatMap { basis in
            modes.flatMap { mode in
                (basis == .weights ? centrings : [.none]).flatMap { centring in
                    selections.map { SweepPoint(grouping: mode, centring: centring, basis: basis, selection: $0) }
                }
            }
        }
    }

    /// `shared-kv · pca · 0.9`, `shared-kv · activations · KV budget 0.5`
    public var description: String {
        let chosen = threshold.map { "\($0)" } ?? "\(selection)"
        return basis == .weights ? "\(grouping) · \(centring) · \(chosen)" : "\(grouping) · \(basis) · \(chosen)"
    }

    /// `0.9`, `r 192`, `F 0.5`, `F 0.5 (allocated)`: the selection in a table cell.
    var selectionCell: String {
        switch selection {
        case .variance(let t): fixed(t, 2)
        case .rank(let r): "r \(r)"
        case .kvBudget(let f): "F \(exact(f))"
        case .layerRanks: "per layer"
        }
    }
}

/// One finished combination: what the surgery kept and what the model lost.
public struct SweepRow: Sendable, Equatable {
    public let point: SweepPoint
    /// Whether a budget allocation chose the ranks (else the point's selection did).
    public let allocated: Bool
    /// Mean components of q, and of k and v together; nil when not targeted.
    public let meanComponentsQ: Double?
    public let meanComponentsKV: Double?
    /// Fewest and most components over the k and v matrices; nil when neither was targeted.
    public let componentRangeKV: ClosedRange<Int>?
    /// factored / dense parameters over the targeted matrices (see `SurgerySummary`).
    public let factoredParameterRatio: Double
    /// Mean ‖W − Ŵ‖/‖W‖ over the targeted matrices.
    public let meanRelativeError: Double
    /// The KV cache a latent form would hold, as a fraction of the dense one (`SurgeryResult.kvCacheFraction`).
    public let kvCacheFraction: Double
    public let evaluation: EvaluationResult
    /// perplexity − base perplexity.
    public let deltaPerplexity: Double

    public init(point: SweepPoint, summary: SurgerySummary, evaluation: EvaluationResult, base: EvaluationResult,
                kvCacheFraction: Double = 1, allocated: Bool = false) {
        self.point = point
        self.allocated = allocated
        meanComponentsQ = summary.meanComponentsQ
        meanComponentsKV = summary.meanComponentsKV
        let kv = (summary.components[.k] ?? []) + (summary.components[.v] ?? [])
        componentRangeKV = kv.isEmpty ? nil : kv.min()!...kv.max()!
        factoredParameterRatio = summary.factoredParameterRatio
        meanRelativeError = summary.meanRelativeError
        self.kvCacheFraction = kvCacheFraction
        self.evaluation = evaluation
        deltaPerplexity = evaluation.perplexity - base.perplexity
    }

    /// A row as a report stored it (`SweepReport.read(from:)`).
    init(point: SweepPoint, allocated: Bool, meanComponentsQ: Double?, meanComponentsKV: Double?,
         componentRangeKV: ClosedRange<Int>?, factoredParameterRatio: Double, meanRelativeError: Double,
         kvCacheFraction: Double, evaluation: EvaluationResult, deltaPerplexity: Double) {
        self.point = point
        self.allocated = allocated
        self.meanComponentsQ = meanComponentsQ
        self.meanComponentsKV = meanComponentsKV
        self.componentRangeKV = componentRangeKV
        self.factoredParameterRatio = factoredParameterRatio
        self.meanRelativeError = meanRelativeError
        self.kvCacheFraction = kvCacheFraction
        self.evaluation = evaluation
        self.deltaPerplexity = deltaPerplexity
    }
}

// MARK: - Running

public struct Sweep: Sendable {
    public let targets: [SurgeryTarget]
    public let points: [SweepPoint]

    /// Checks every combination as a plan (threshold range, k and v present for shared modes).
    public init(targets: [SurgeryTarget] = SurgeryTarget.attentionQKV, points: [SweepPoint]) throws(SurgeryError) {
        guard !points.isEmpty else { throw .noSweepPoints }
        self.targets = targets
        self.points = points
        _ = try plans
    }

    /// The plan of each point, in order.
    public var plans: [SurgeryPlan] {
        get throws(SurgeryError) {
            try points.map { (point: SweepPoint) throws(SurgeryError) -> SurgeryPlan in
                try SurgeryPlan(targets: targets, grouping: point.grouping, selection: point.selection,
                                centring: point.centring, basis: point.basis)
            }
        }
    }

    /// Decomposes every group the sweep needs (once, reported through `progress`), then for each
    /// point applies the surgery, calls `evaluate` on the surgered weights and hands the row to
    /// `onRow` before starting the next one. `base` is the base model's own evaluation (its
    /// perplexity is what Δ perplexity is taken against). Errors from `evaluate` or `onRow` stop
    /// the sweep; the rows already handed over stay with the caller. `allocate`, when given, turns
    /// each budget plan into the plan to apply (a `Surgeon.allocate` of its ranks).
    @discardableResult
    public func run(on surgeon: Surgeon, base: EvaluationResult,
                    evaluate: (Weights) throws -> EvaluationResult,
                    allocate: ((SurgeryPlan) throws -> SurgeryPlan)? = nil,
                    progress: (SurgeryProgress) -> Void = { _ in },
                    onRow: (SweepRow) throws -> Void = { _ in }) throws -> [SweepRow] {
        let plans = try self.plans
        for plan in plans { try plan.validate(for: surgeon.base) }
        try surgeon.prepare(plans, progress: progress)
        var rows: [SweepRow] = []
        for (point, planned) in zip(points, plans) {
            var plan = planned
            if let allocate, case .kvBudget = plan.selection { plan = try allocate(plan) }
            let result = try surgeon.apply(plan)
            let row = SweepRow(point: point, summary: result.summary, evaluation: try evaluate(result.weights), base: base,
                               kvCacheFraction: result.kvCacheFraction, allocated: plan.selection != planned.selection)
            rows.append(row)
            try onRow(row)
        }
        return rows
    }
}
