// Surgered SmolLM2 evaluated here against transformers evaluating the study's surgery
// (Tools/reference/study.py `eval`, Tests/Fixtures/study/smollm2.json → `evaluation`): perplexity,
// KL(base ‖ surgered) and top-1 agreement at 0.99, 0.9, 0.5 in both modes and both centrings. The
// fixture keeps per-window sums, so the first `evaluatedWindows` of its 16 P1 windows are compared,
// through the sweep engine with Llama's `evaluate` — the path `surgery sweep` takes.
import Testing
import Foundation
import Llama
import TestSupport
import Surgery

/// P1 windows compared (of the 16 recorded): one window, 511 scored tokens, 24 forward passes.
let evaluatedWindows = 1
/// Perplexity, relative: two float32 forward passes differ by ~1e-4 in the logits
/// (Tests/Fixtures/model/README.md), so the mean NLL by less than 1e-4 nats.
let surgeredPerplexityRelative = 1e-4
/// Mean KL per token (nats), the same logit differences through log-softmax: relative, plus an
/// absolute floor for nearly unchanged models.
let surgeredKLRelative = 1e-4
let surgeredKLAbsolute = 1e-5
/// Top-1 agreement: a position whose top-2 logits are within rounding of each other may flip.
let surgeredTop1Flips = 2

@Suite struct StudyEvaluationSmolLM2 {
    @Test func sweepMatchesTransformers() throws {
        let fixture = (try Fixtures.json("study/smollm2.json") as! [String: Any])["evaluation"] as! [String: Any]
        let baseModel = try LoadedModel(path: Fixtures.modelPath).model
        let weights = baseModel.weights
        let window = fixture["window"] as! Int
        let ids = try Fixtures.int32s(fixture["window_ids_file"] as! String).map { Int($0) }
        let windows = (0..<evaluatedWindows).map { Array(ids[($0 * window)..<(($0 + 1) * window)]) }
        let scored = Double(evaluatedWindows * (window - 1))
        func firstWindows(_ row: [String: Any], _ key: String) -> Double {
            (row[key] as! [NSNumber]).prefix(evaluatedWindows).reduce(0) { $0 + $1.doubleValue }
        }

        let baseRow = fixture["base"] as! [String: Any]
        let base = EvaluationResult(perplexity: exp(firstWindows(baseRow, "window_nll_sums") / scored), meanKL: 0, top1Agreement: 1)
        let rows = fixture["surgered"] as! [[String: Any]]
        let points = try rows.map { row in
            SweepPoint(grouping: try fixtureGrouping(row["mode"] as! String),
                       centring: try fixtureCentring(row["centring"] as! String), threshold: row["threshold"] as! Double)
        }
        var baseScores: [Score] = []
        let results = try Sweep(points: points).run(on: Surgeon(base: weights), base: base, evaluate: { surgered in
            let scores = evaluate([baseModel, baseModel.replacingWeights(surgered)], windows: windows)
            baseScores.append(scores[0])
            return EvaluationResult(scores[1])
        })

        if ProcessInfo.processInfo.environment["SURGERY_TEST_OUTPUT"] != nil {         // for a look at real plots
            try SweepReport(base: base, rows: results, context: [("model", "SmolLM2-135M-Instruct Q4_1"), ("text", "WikiText-2 P1 window 1")])
                .write(to: outputFolder("smollm2-sweep"))
        }
        #expect(abs(baseScores[0].perplexity - base.perplexity) <= surgeredPerplexityRelative * base.perplexity)
        for (ours, reference) in zip(results, rows) {
            let what = "\(ours.point)"
            let perplexity = exp(firstWindows(reference, "window_nll_sums") / scored)
            let kl = firstWindows(reference, "window_kl_sums") / scored
            let top1 = firstWindows(reference, "window_top1_counts")
            #expect(ours.meanComponentsQ == reference["mean_components_q"] as? Double, "\(what)")
            #expect(abs(ours.meanComponentsKV! - (reference["mean_components_kv"] as! Double)) < 1e-9, "\(what)")
            #expect(abs(ours.evaluation.perplexity - perplexity) <= surgeredPerplexityRelative * perplexity, "\(what)")
            #expect(abs(ours.evaluation.meanKL - kl) <= surgeredKLAbsolute + surgeredKLRelative * kl, "\(what)")
            #expect(abs(ours.evaluation.top1Agreement * scored - top1) <= Double(surgeredTop1Flips), "\(what)")
        }
    }
}
