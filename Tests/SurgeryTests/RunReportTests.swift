// `RunReport.json()`: the same result as the Markdown, as a document a script can read — every
// section present, numbers equal to the report's values, NaN and infinities as null.
import Foundation
import Testing
import Llama
import Surgery

@Suite struct RunReportJSONTests {
    static func report(surgeredPerplexity: Double = 13.5) throws -> RunReport {
        let config = try Config(huggingFaceJSON: try JSONSerialization.data(withJSONObject: TinyModel.config), path: "tiny/config.json")
        let plan = try SurgeryPlan(targets: [.q, .k, .v], grouping: .sharedKV, selection: .variance(0.9), centring: .pca)
        let result = try Surgeon(base: TinyModel.weights).apply(plan)
        var base = Score(), surgered = Score()
        base.scoredTokens = 100
        base.totalNLL = 100 * log(12.0)
        surgered.scoredTokens = 100
        surgered.totalNLL = 100 * log(surgeredPerplexity)
        surgered.totalKL = 5
        surgered.agreeingTop1 = 90
        var report = RunReport(modelPath: "/models/tiny", config: config, parameterCount: 4321, result: result,
                               textSource: "built-in", window: 50, windowCount: 2, base: base, surgered: surgered,
                               prompt: "Say \"hi\"\n", maxTokens: 8)
        report.generations = [RunReport.Generation(model: "base", tokens: 3, endedBySelf: true, text: "hi ✓"),
                              RunReport.Generation(model: "surgered", tokens: 8, endedBySelf: false, text: "h h h")]
        return report
    }

    @Test func everySectionParses() throws {
        let report = try Self.report()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["model", "plan", "surgery", "calibration", "allocation", "runtime", "evaluation", "generations"])
        #expect((object["runtime"] as? [String: Any])?["latent"] as? Bool == false)
        let model = try #require(object["model"] as? [String: Any])
        #expect(model["path"] as? String == "/models/tiny" && model["layers"] as? Int == 3 && model["parameters"] as? Int == 4321)
        let plan = try #require(object["plan"] as? [String: Any])
        #expect(plan["mode"] as? String == "shared-kv" && plan["centring"] as? String == "pca")
        #expect(plan["targets"] as? [String] == ["q", "k", "v"])
        #expect((plan["selection"] as? [String: Any])?["variance"] as? Double == 0.9)
        let surgery = try #require(object["surgery"] as? [String: Any])
        let perMatrix = try #require(surgery["per_matrix"] as? [[String: Any]])
        #expect(perMatrix.count == report.result.statistics.count)
        #expect(perMatrix.map { $0["components"] as? Int } == report.result.statistics.map(\.components))
        #expect(surgery["mean_relative_error"] as? Double == report.result.summary.meanRelativeError)
        let evaluation = try #require(object["evaluation"] as? [String: Any])
        #expect(evaluation["windows"] as? Int == 2 && evaluation["scored_tokens"] as? Int == 100)
        let surgered = try #require(evaluation["surgered"] as? [String: Any])
        #expect(surgered["kl"] as? Double == 0.05 && surgered["top1_agreement"] as? Double == 0.9)
        #expect(surgered["perplexity"] as? Double == report.surgered.perplexity)
        let generations = try #require(object["generations"] as? [String: Any])
        #expect(generations["prompt"] as? String == "Say \"hi\"\n")
        let replies = try #require(generations["replies"] as? [[String: Any]])
        #expect(replies.map { $0["text"] as? String } == ["hi ✓", "h h h"])
        #expect(replies.map { $0["ended_by_model"] as? Bool } == [true, false])
        #expect(object["allocation"] is NSNull && object["calibration"] is NSNull)
    }

    /// A surgered model whose perplexity overflowed is still valid JSON: the number is null.
    @Test func infinitePerplexityIsNull() throws {
        let report = try Self.report(surgeredPerplexity: .infinity)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as? [String: Any])
        let surgered = try #require((object["evaluation"] as? [String: Any])?["surgered"] as? [String: Any])
        #expect(surgered["perplexity"] is NSNull)
    }
}
