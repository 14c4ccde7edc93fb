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
    public let threshold: Double

    public init(grouping: Grouping, centring: Centring, threshold: Double) {
        self.grouping = grouping
        self.centring = centring
        self.threshold = threshold
    }

    /// Every combination, modes outermost, then centrings, then thresholds in the order given.
    public static func grid(modes: [Grouping], centrings: [Centring], thresholds: [Double]) -> [SweepPoint] {
        modes.flatMap { mode in
            centrings.flatMap { centring in thresholds.map { SweepPoint(grouping: mode, centring: centring, threshold: $0) } }
        }
    }

    /// `shared-kv · pca · 0.9`
    public var description: String { "\(grouping) · \(centring) · \(threshold)" }
}

/// One finished combination: what the surgery kept and what the model lost.
public struct SweepRow: Sendable, Equatable {
    public let point: SweepPoint
    /// Mean components of q, and of k and v together; nil when not targeted.
    public let meanComponentsQ: Double?
    public let meanComponentsKV: Double?
    /// factored / dense parameters over the targeted matrices (see `SurgerySummary`).
    public let factoredParameterRatio: Double
    /// Mean ‖W − Ŵ‖/‖W‖ over the targeted matrices.
    public let meanRelativeError: Double
    public let evaluation: EvaluationResult
    /// perplexity − base perplexity.
    public let deltaPerplexity: Double

    public init(point: SweepPoint, summary: SurgerySummary, evaluation: EvaluationResult, base: EvaluationResult) {
        self.point = point
        meanComponentsQ = summary.meanComponentsQ
        meanComponentsKV = summary.meanComponentsKV
        factoredParameterRatio = summary.factoredParameterRatio
        meanRelativeError = summary.meanRelativeError
        self.evaluation = evaluation
        deltaPerplexity = evaluation.perplexity - base.perplexity
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
                try SurgeryPlan(targets: targets, grouping: point.grouping,
                                selection: .variance(point.threshold), centring: point.centring)
            }
        }
    }

    /// Decomposes every group the sweep needs (once, reported through `progress`), then for each
    /// point applies the surgery, calls `evaluate` on the surgered weights and hands the row to
    /// `onRow` before starting the next one. `base` is the base model's own evaluation (its
    /// perplexity is what Δ perplexity is taken against). Errors from `evaluate` or `onRow` stop
    /// the sweep; the rows already handed over stay with the caller.
    @discardableResult
    public func run(on surgeon: Surgeon, base: EvaluationResult,
                    evaluate: (Weights) throws -> EvaluationResult,
                    progress: (SurgeryProgress) -> Void = { _ in },
                    onRow: (SweepRow) throws -> Void = { _ in }) throws -> [SweepRow] {
        let plans = try self.plans
        for plan in plans { try plan.validate(for: surgeon.base) }
        try surgeon.prepare(plans, progress: progress)
        var rows: [SweepRow] = []
        for (point, plan) in zip(points, plans) {
            let result = try surgeon.apply(plan)
            let row = SweepRow(point: point, summary: result.summary, evaluation: try evaluate(result.weights), base: base)
            rows.append(row)
            try onRow(row)
        }
        return rows
    }
}
