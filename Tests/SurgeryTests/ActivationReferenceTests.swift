// SmolLM2's activation basis against Tools/reference/activations.py `smollm2`: calibration
// statistics over WikiText-2 P1 windows 16…23 (transformers hooks, float64 sums), the eigenvalues
// of every layer's M = W C Wᵀ (numpy eigh), K/V reconstructions at layers 0, 15, 29, and
// transformers' perplexity / KL / top-1 of the model surgered with K/V-balanced factors at rank 192
// on the 16 evaluated windows (P1-16) — run both from dense reconstructions and from the latent cache.
import Testing
import Foundation
import Llama
import TestSupport
import Surgery

@Suite struct ActivationReferenceSmolLM2 {
    @Test func statisticsFactorsAndEvaluation() throws {
        let fixture = try Fixtures.json("activations/smollm2.json") as! [String: Any]
        let calibration = fixture["calibration"] as! [String: Any]
        let window = calibration["window"] as! Int
        let ids = try Fixtures.int32s("activations/" + (calibration["file"] as! String)).map(Int.init)
        let windows = stride(from: 0, to: ids.count, by: window).map { Array(ids[$0..<($0 + window)]) }
        #expect(windows.count == calibration["windows"] as! Int)
        let model = try LoadedModel(path: Fixtures.modelPath).model
        let statistics = ActivationStatistics.measure(model, windows: windows)
        let layers = fixture["layers"] as! [[String: Any]]

        // C: 1e-6 relative (the bound). Both sum the same float32 activations; ours come from
        // another order of the same float32 work (~1e-6 relative per activation after 30 layers at
        // most, far less at layer 0) and Float chunk sums of ≤ 64 products.
        for entry in layers {
            let layer = entry["layer"] as! Int
            let c = statistics.moment(layer: layer), d = statistics.width
            let trace = (0..<d).reduce(0.0) { $0 + c[$1 * d + $1] }
            let frobenius = c.reduce(0.0) { $0 + $1 * $1 }.squareRoot()
            #expect(abs(trace - (entry["trace"] as! Double)) <= 1e-6 * trace, "layer \(layer) trace")
            #expect(abs(frobenius - (entry["frobenius"] as! Double)) <= 1e-6 * frobenius, "layer \(layer) ‖C‖")
            if let rows = entry["moment_rows"] as? [String: [Double]] {
                for (row, expected) in rows {
                    let r = Int(row)!
                    let ours = Array(c[(r * d)..<((r + 1) * d)])
                    let error = zip(ours, expected).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
                    let norm = expected.reduce(0.0) { $0 + $1 * $1 }.squareRoot()
                    // Single rows: 5e-6 of the row's norm (a row of small entries carries the same absolute
                    // rounding as the rest; measured up to 1.7e-6 at layer 29).
                    #expect(error <= 5e-6 * norm, "layer \(layer) row \(r) of C: \(error / norm)")
                }
            }
        }

        // Eigenvalues and reconstructions from our own C. λ_i: |Δ| ≤ 1e-5·λ₁ (a relative change ε of
        // C moves each eigenvalue of W C Wᵀ by at most ε·λ₁; ε ≈ 1e-6 here, with margin). Ŵ rows:
        // 1e-4 relative (the bound): eigenvectors move with C by ε/gap, small at rank 192.
        let surgeon = Surgeon(base: model.weights, calibration: statistics)
        for balanced in [false, true] {
            let plan = try SurgeryPlan(targets: [.k, .v], grouping: .sharedKV, selection: .rank(192), centring: .none,
                                       basis: .activations(balanced: balanced))
            let result = try surgeon.apply(plan)
            for entry in layers {
                let layer = entry["layer"] as! Int
                let expected = entry[balanced ? "eigenvalues_kv_balanced" : "eigenvalues_kv"] as! [Double]
                let kept = result.statistics.first { $0.matrix.layer == layer }!.varianceExplained
                let expectedKept = expected.prefix(192).reduce(0, +) / expected.reduce(0, +)
                #expect(abs(kept - expectedKept) <= 1e-5, "layer \(layer) balanced \(balanced): energy kept \(kept) vs \(expectedKept)")
                guard let recon = (entry["reconstructions"] as? [String: [String: Any]])?[balanced ? "kv_balanced_r192" : "kv_r192"] else { continue }
                let k = result.weights.layers[layer].k.decoded().scalars, v = result.weights.layers[layer].v.decoded().scalars
                let d = model.config.hiddenSize, kRows = result.weights.layers[layer].k.shape[0]
                for (row, values) in recon["rows"] as! [String: [Double]] {
                    let r = Int(row)!
                    let ours = r < kRows ? Array(k[(r * d)..<((r + 1) * d)]) : Array(v[((r - kRows) * d)..<((r - kRows + 1) * d)])
                    let error = zip(ours, values).reduce(0.0) { $0 + (Double($1.0) - $1.1) * (Double($1.0) - $1.1) }.squareRoot()
                    let norm = values.reduce(0.0) { $0 + $1 * $1 }.squareRoot()
                    #expect(error <= 1e-4 * norm, "layer \(layer) row \(r) balanced \(balanced): \(error / norm)")
                }
            }
        }

        // P1-16 of the balanced rank-192 surgery, all 16 windows: tolerances as StudyEvaluationTests
        // (two float32 forward passes; KL relative 1e-4; top-1 may flip on near ties).
        let evaluation = fixture["evaluation"] as! [String: Any]
        let evalIDs = try Fixtures.int32s(evaluation["window_ids_file"] as! String).map(Int.init)
        let evalWindow = evaluation["window"] as! Int
        let evalWindows = (0..<(evaluation["windows"] as! Int)).map { Array(evalIDs[($0 * evalWindow)..<(($0 + 1) * evalWindow)]) }
        let reference = (fixture["surgered"] as! [[String: Any]]).first { $0["rank"] as! Int == 192 && $0["balanced"] as! Bool }!
        let plan = try SurgeryPlan(targets: [.k, .v], grouping: .sharedKV, selection: .rank(192), centring: .none,
                                   basis: .activations(balanced: true))
        // The same surgery run from its latent (a cache of 192 values per token and layer instead of
        // 384) must meet the same bounds against transformers' dense run.
        let surgered = try surgeon.apply(plan)
        let latentWeights = try #require(surgered.latentWeights)
        let latentModel = model.replacingWeights(latentWeights)
        #expect(latentWeights.latentRanks.allSatisfy { $0 == 192 })
        #expect(2 * latentModel.makeCache(capacity: 64).allocatedBytes == model.makeCache(capacity: 64).allocatedBytes)
        let scores = evaluate([model, model.replacingWeights(surgered.weights), latentModel], windows: evalWindows)
        let basePerplexity = (fixture["base"] as! [String: Any])["perplexity"] as! Double
        #expect(abs(scores[0].perplexity - basePerplexity) <= 1e-4 * basePerplexity)
        let perplexity = reference["perplexity"] as! Double, kl = reference["kl_mean"] as! Double
        for run in scores[1...] {
            #expect(abs(run.perplexity - perplexity) <= 1e-4 * perplexity, "perplexity \(run.perplexity) vs \(perplexity)")
            #expect(abs(run.meanKL - kl) <= 1e-5 + 1e-4 * kl, "KL \(run.meanKL) vs \(kl)")
            #expect(abs(run.agreeingTop1 - (reference["top1_agree_count"] as! Int)) <= 3, "top-1 \(run.agreeingTop1)")
        }
    }
}
