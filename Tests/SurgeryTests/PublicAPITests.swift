// The public surface the CLI uses, through a plain (non-@testable) import: if this file compiles,
// `surgery run`, `sweep`, `spectrum` and `compress` can be written on top of the module.
import Testing
import Foundation
import Llama
import Surgery

@Suite struct PublicAPI {
    @Test func runSweepSpectrum() throws {
        let weights = TinyModel.weights

        // run / compress: a plan of typed values, applied.
        let plan = try SurgeryPlan(targets: SurgeryTarget.attentionQKV, grouping: Grouping.sharedKV,
                                   selection: Selection.variance(Selection.studyVariance), centring: Centring.pca)
        try plan.validate(for: weights)
        let (surgered, statistics) = try apply(plan, to: weights)
        #expect(surgered.layers.count == weights.layers.count && statistics.count == 9)
        let surgeon = Surgeon(base: weights)
        var steps: [SurgeryProgress] = []
        let result = try surgeon.apply(plan, progress: { steps.append($0) })
        #expect(steps.last.map { $0.done == $0.total } == true)
        let summary: SurgerySummary = result.summary
        #expect(summary.meanComponentsQ != nil && summary.meanComponentsKV != nil && summary.factoredParameterRatio > 0)
        #expect(!result.markdown().isEmpty && !summary.line.isEmpty)
        let first: MatrixStatistics = result.statistics[0]
        #expect(first.matrix.name == "model.layers.0.self_attn.q_proj.weight")
        #expect(first.factoredParameters > 0 && first.relativeError > 0 && first.varianceExplained >= 0.9)

        // sweep: the grid, rows as they finish, the report rewritten after each.
        let points = SweepPoint.grid(modes: [.separate, .sharedKV], centrings: [.pca, .seed], thresholds: [0.9, 0.5])
        #expect(Selection.studyThresholds.count == 8)
        let sweep = try Sweep(targets: [.q, .k, .v], points: points)
        let base = EvaluationResult(perplexity: 10, meanKL: 0, top1Agreement: 1)
        var report = SweepReport(base: base, targets: sweep.targets, context: [(key: "model", value: "tiny")])
        let folder = FileManager.default.temporaryDirectory.path + "/surgery-public-\(ProcessInfo.processInfo.processIdentifier)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try sweep.run(on: surgeon, base: base, evaluate: { _ in EvaluationResult(perplexity: 11, meanKL: 0.1, top1Agreement: 0.9) },
                      progress: { _ in }, onRow: { row in
                          report.rows.append(row)
                          try report.write(to: folder)
                      })
        #expect(report.rows.count == 8 && report.rows[0].deltaPerplexity == 1)
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: folder)) == Set(SweepReport.fileNames))

        // spectrum
        let spectrum = try Spectrum(surgeon: surgeon, targets: [.q, .k, .v], centring: .pca)
        try spectrum.write(to: folder + "/spectrum")
        #expect(spectrum.curves.count == 12 && Spectrum.thresholds.count == 8)

        // errors carry readable messages
        let error = #expect(throws: SurgeryError.self) {
            try SurgeryPlan(grouping: .sharedKV, selection: .variance(1.5))
        }
        #expect(error?.description == "variance threshold 1.5 is outside (0, 1]")
    }
}
