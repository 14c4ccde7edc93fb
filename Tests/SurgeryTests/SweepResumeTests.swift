// `SweepReport.read(from:)`, what `sweep --resume` starts from: a written report reads back with
// every row equal, bit for bit (every kind of point, a perplexity that overflowed, rows without q),
// and a folder that holds no readable sweep is an error naming sweep.json and what was wrong.
import Foundation
import Testing
import Llama
import Surgery

@Suite struct SweepResumeTests {
    let weights = TinyModel.weights
    let base = EvaluationResult(perplexity: 12.345678901234567, meanKL: 0, top1Agreement: 1)

    @Test func aWrittenReportReadsBackRowForRow() throws {
        let points = SweepPoint.grid(modes: [.separate, .sharedKV, .sharedKVLayers(groupSize: 2)], centrings: [.pca, .seed],
                                     thresholds: [0.99, 0.95, 1.0 / 3])
        var rows = try Sweep(points: points).run(on: Surgeon(base: weights), base: base, evaluate: fakeEvaluation(base: weights))
        // Points of every selection and basis, and a perplexity that overflowed (written as null).
        let kv = try Surgeon(base: weights).apply(SurgeryPlan(targets: [.k, .v], grouping: .sharedKV, selection: .rank(3), centring: .none))
        rows.append(SweepRow(point: SweepPoint(grouping: .sharedKV, centring: .none, basis: .activations(balanced: true), selection: .rank(3)),
                             summary: kv.summary, evaluation: EvaluationResult(perplexity: .infinity, meanKL: 9.5, top1Agreement: 0),
                             base: base, kvCacheFraction: kv.kvCacheFraction))
        rows.append(SweepRow(point: SweepPoint(grouping: .sharedKV, centring: .none, basis: .activations(balanced: false), selection: .kvBudget(0.375)),
                             summary: kv.summary, evaluation: EvaluationResult(perplexity: 20.25, meanKL: 0.125, top1Agreement: 0.75),
                             base: base, kvCacheFraction: 0.375, allocated: true))
        let report = SweepReport(base: base, rows: rows, targets: [.q, .k, .v],
                                 context: [("model", "tiny \"random\", seeded"), ("window", "64"), ("calibration", "self, 1024 tokens")])
        let folder = outputFolder("resume")
        try? FileManager.default.removeItem(atPath: folder)
        try report.write(to: folder)

        let read = try SweepReport.read(from: folder)
        #expect(read.rows == report.rows)
        #expect(read.rows.map(\.point) == report.rows.map(\.point))
        #expect(read.base.perplexity == base.perplexity)
        #expect(read.targets == report.targets)
        #expect(read.context.map(\.key) == report.context.map(\.key) && read.context.map(\.value) == report.context.map(\.value))
        #expect(read.rows[points.count].evaluation.perplexity == .infinity)
    }

    @Test func aFolderWithoutASweep() throws {
        let folder = outputFolder("resume-empty")
        try? FileManager.default.removeItem(atPath: folder)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        #expect(throws: SurgeryError.unreadableSweep(path: folder + "/sweep.json", reason: "no such file (is this a sweep's folder?)")) {
            try SweepReport.read(from: folder)
        }
    }

    @Test(arguments: [
        ("{\"context\": ", "not JSON: "),
        ("{\"targets\": [], \"base\": {\"perplexity\": 1}, \"rows\": []}", "no \"context\" object"),
        ("{\"context\": {}, \"targets\": [\"q\", \"x\"], \"base\": {\"perplexity\": 1}, \"rows\": []}", "unknown target x"),
        ("{\"context\": {}, \"targets\": [], \"base\": {}, \"rows\": []}", "no base perplexity"),
        ("{\"context\": {}, \"targets\": [], \"base\": {\"perplexity\": 1}, \"rows\": [{\"mode\": \"diagonal\"}]}",
         "row 1: unknown mode \"diagonal\""),
        ("{\"context\": {}, \"targets\": [], \"base\": {\"perplexity\": 1}, \"rows\": [{\"mode\": \"separate\", \"centring\": \"pca\", "
            + "\"basis\": \"weights\", \"selection\": \"0.90\"}]}", "row 1: \"threshold\" is missing"),
    ]) func aDamagedSweep(json: String, reason: String) throws {
        let folder = outputFolder("resume-damaged-\(abs(json.hashValue))")
        try? FileManager.default.removeItem(atPath: folder)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data(json.utf8).write(to: URL(fileURLWithPath: folder + "/sweep.json"))
        #expect {
            try SweepReport.read(from: folder)
        } throws: { error in
            guard case .unreadableSweep(let path, let found) = error as? SurgeryError else { return false }
            return path == folder + "/sweep.json" && found.hasPrefix(reason)
        }
    }
}
