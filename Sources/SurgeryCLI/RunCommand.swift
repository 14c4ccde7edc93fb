// `surgery run [MODEL] [--variance 0.90] [--mode shared-kv] …`: the study's main job — the model,
// its base evaluation, the surgery, the surgered evaluation, and the comparison with generations
// side by side, printed as one `RunReport`.
import Llama
import Surgery

func runStudy(_ arguments: inout Arguments) throws {
    let plan = try surgeryPlan(&arguments)
    var evaluation = try EvaluationRequest(&arguments)
    var calibration = try CalibrationRequest(&arguments, needed: plan.basis.usesCalibration)
    let prompt = arguments.string("prompt") ?? "What is machine learning?"
    let maxTokens = try arguments.int("max-tokens", default: 96, in: 1...100_000)
    let details = arguments.flag("details")
    try arguments.finish(maxPositionals: 1)
    try evaluation.readText()
    try calibration.readText()
    let path = modelPath(arguments)

    let loaded = try loadModel(path)
    status("plan: \(plan)")
    try plan.validate(for: loaded.model.weights)

    let text = try evaluation.windows(loaded)
    let base = BaseEvaluation(model: loaded.model, windows: text.windows, progress: windowProgress("base model"))
    let statistics = plan.basis.usesCalibration
        ? try calibration.statistics(loaded, evaluation: evaluation, evaluated: text) : nil
    let surgeon = Surgeon(base: loaded.model.weights, calibration: statistics)
    let result = try surgeon.apply(plan, progress: surgeryProgress)
    let surgered = loaded.model.replacingWeights(result.weights)
    let score = base.compare(surgered, progress: windowProgress("surgered model"))
    var report = RunReport(modelPath: path, config: loaded.model.config,
                           parameterCount: ModelSummary(loaded.checkpoint).totalParameters, result: result,
                           textSource: evaluation.source, window: text.window, windowCount: text.windows.count,
                           base: base.score, surgered: score, prompt: prompt, maxTokens: maxTokens)
    if let statistics {
        report.calibration = "\(calibration.source), \(statistics.tokenCount) tokens"
        if let comparisonPlan = try weightsComparison(plan, result: result) {
            status("comparison: \(comparisonPlan)")
            let other = try surgeon.apply(comparisonPlan, progress: surgeryProgress)
            report.comparison = (other, base.compare(loaded.model.replacingWeights(other.weights),
                                                    progress: windowProgress("weights-basis model")))
        }
    }

    let chat = try loaded.tokenizer.chatTemplate().render([ChatMessage(.user, prompt)])
    let ids = loaded.tokenizer.encode(chat)
    for (name, model) in [("base", loaded.model), ("surgered", surgered)] {
        progressLine("generating the \(name) model's reply")
        let generated = model.generate(prompt: ids, maxTokens: maxTokens, stopTokens: loaded.stopTokens)
        report.generations.append(RunReport.Generation(
            model: name, tokens: generated.count, endedBySelf: generated.count < maxTokens,
            text: try loaded.tokenizer.decode(generated, skippingSpecialTokens: true)))
    }
    progressDone()
    print(report.markdown(details: details))
}

/// The study's weight PCA at the same KV-cache size as an activation-basis result: the same
/// targets and mode, at the mean rank the result kept (equal when the ranks were uniform), centring
/// `pca`. nil when q is among the targets with a threshold (its ranks are not a KV-cache size).
func weightsComparison(_ plan: SurgeryPlan, result: SurgeryResult) throws -> SurgeryPlan? {
    let ranks = result.statistics.map(\.components)
    if plan.targets.contains(.q), case .variance = plan.selection { return nil }
    guard !ranks.isEmpty else { return nil }
    let mean = Int((Double(ranks.reduce(0, +)) / Double(ranks.count)).rounded())
    return try SurgeryPlan(targets: plan.targets, grouping: plan.grouping, selection: .rank(max(1, mean)),
                           centring: .pca, basis: .weights)
}
