// `--calibration self|FILE --calibration-tokens N`: the text whose activations the activation basis
// decomposes. Never the evaluated windows: `self` is generated from other prompts than the built-in
// evaluation text, and a FILE that is also the `--text` file is read from after the evaluated windows.
import Llama
import Surgery
import FoundationEssentials

struct CalibrationRequest {
    /// nil: `self`, the base model's own text from the calibration prompts.
    let path: String?
    let tokens: Int
    /// Calibration windows are this long (or the model's context, if shorter).
    static let window = 512
    static let defaultTokens = 16_384
    private var text: String?

    var source: String { path ?? "self" }

    /// Reads the options; with `needed` false (the weights basis, uniform ranks) giving them is an error.
    init(_ arguments: inout Arguments, needed: Bool) throws {
        let given = arguments.string("calibration")
        let count = try arguments.optionalInt("calibration-tokens", in: 16...100_000_000)
        if !needed, given != nil || count != nil {
            throw UsageError("--calibration and --calibration-tokens need --basis activations or a --kv-budget allocation"
                             + " (the weights basis at uniform ranks uses no calibration text)")
        }
        path = given.flatMap { $0 == "self" ? nil : $0 }
        tokens = count ?? Self.defaultTokens
    }

    /// Reads `--calibration FILE` (before the model loads, so that a bad file fails fast).
    mutating func readText() throws {
        if let path { text = try readTextFile(path, flag: "--calibration") }
    }

    /// The calibration windows. `evaluated` are the evaluation's windows, for the disjointness rule.
    func windows(_ loaded: LoadedModel, evaluation: EvaluationRequest?, evaluated: TextWindows?) throws -> [[Int]] {
        let window = min(Self.window, loaded.model.config.contextLength)
        let wanted = max(1, tokens / window)
        var tokensOfText: [Int]
        var skipped = 0
        if let text {
            tokensOfText = loaded.tokenizer.encode(text, addingSpecialTokens: false)
            if let evaluationPath = evaluation?.textPath, let evaluated, sameFile(evaluationPath, path!) {
                skipped = evaluated.windows.count * evaluated.window
                status("calibration: \(path!) is also the evaluation text; calibrating on its tokens from \(skipped) on, "
                       + "after the \(evaluated.windows.count) evaluated windows")
                tokensOfText = Array(tokensOfText.dropFirst(skipped))
            }
        } else {
            status("calibration text: the base model's own continuations of \(SelfText.calibrationPrompts.count) prompts "
                   + "(not the evaluation prompts; cached at \(SelfText.calibrationCachePath(for: loaded.checkpoint, tokens: wanted * window)))")
            let generated = try SelfText.loadCalibration(loaded, tokens: wanted * window) { done, all in
                reportProgress(Stage(name: "generating the calibration text", steps: "tokens"), done: done, total: all)
            }
            tokensOfText = loaded.tokenizer.encode(generated, addingSpecialTokens: false)
        }
        let windows = perplexityWindows(tokensOfText, window: window, limit: wanted)
        guard windows.count == wanted else {
            let have = tokensOfText.count
            throw UsageError("--calibration \(source): \(have) tokens\(skipped > 0 ? " after the evaluated \(skipped)" : ""), "
                             + "fewer than the \(wanted * window) asked for (\(wanted) windows of \(window)); "
                             + "give a longer text or a smaller --calibration-tokens (at least \(window))")
        }
        status("calibration: \(wanted * window) tokens of \(source), \(wanted) windows of \(window)")
        return windows
    }

    /// The statistics over the calibration windows, from the cache beside the model when it holds them.
    func statistics(_ loaded: LoadedModel, windows: [[Int]]) -> ActivationStatistics {
        let clock = ContinuousClock()
        let start = clock.now
        let statistics = ActivationStatistics.load(loaded.model, modelPath: loaded.checkpoint.path, windows: windows,
                                                   progress: windowProgress("calibration"), note: status)
        status("calibration statistics ready in \(fixed((clock.now - start).seconds, 1)) s")
        return statistics
    }
}

/// What a command's surgery needs beyond the plan: calibration statistics (activation basis), a
/// budget allocation (a `--kv-budget` without `--uniform`) and the surgeon holding both.
struct PreparedSurgery {
    let surgeon: Surgeon
    let plan: SurgeryPlan
    let statistics: ActivationStatistics?
    let allocation: KVAllocation?
    let calibrationWindows: [[Int]]

    /// Windows of the calibration text the allocation probes each layer on.
    static let probeWindows = 2

    static func needsCalibration(_ plan: SurgeryPlan, uniform: Bool) -> Bool {
        if plan.basis.usesCalibration { return true }
        if case .kvBudget = plan.selection { return !uniform }
        return false
    }

    /// A plan that needs no calibration text (`needsCalibration` is false): the weights alone.
    init(uncalibrated plan: SurgeryPlan, weights: Weights) {
        surgeon = Surgeon(base: weights)
        self.plan = plan
        statistics = nil
        allocation = nil
        calibrationWindows = []
    }

    init(_ plan: SurgeryPlan, uniform: Bool, loaded: LoadedModel, calibration: CalibrationRequest,
         evaluation: EvaluationRequest?, evaluated: TextWindows?) throws {
        calibrationWindows = Self.needsCalibration(plan, uniform: uniform)
            ? try calibration.windows(loaded, evaluation: evaluation, evaluated: evaluated) : []
        statistics = plan.basis.usesCalibration ? calibration.statistics(loaded, windows: calibrationWindows) : nil
        surgeon = Surgeon(base: loaded.model.weights, calibration: statistics)
        if case .kvBudget(let f) = plan.selection, !uniform {
            try surgeon.prepare([plan], progress: surgeryProgress)
            let probe = BaseEvaluation(model: loaded.model, windows: Array(calibrationWindows.prefix(Self.probeWindows)))
            status("allocating ranks for KV budget \(f): KL of each layer alone at the uniform rank, on \(probe.windows.count) calibration windows")
            let model = loaded.model
            let clock = ContinuousClock()
            let start = clock.now
            let allocation = try surgeon.allocate(plan, probe: { probe.compare(model.replacingWeights($0)).meanKL }) { done, all in
                reportProgress(Stage(name: "allocation: probing", steps: "layers"), done: done, total: all)
            }
            status("allocation: \(allocation.plan.selection) in \(fixed((clock.now - start).seconds, 1)) s")
            self.allocation = allocation
            self.plan = allocation.plan
        } else {
            allocation = nil
            self.plan = plan
        }
    }
}

/// Whether two paths name the same file (after resolving `.`, `..` and symbolic links).
func sameFile(_ a: String, _ b: String) -> Bool {
    URL(fileURLWithPath: a).resolvingSymlinksInPath().standardizedFileURL.path
        == URL(fileURLWithPath: b).resolvingSymlinksInPath().standardizedFileURL.path
}
