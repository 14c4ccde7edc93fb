// `surgery run [MODEL] [--variance 0.90] [--mode shared-kv] …`: the study's main job — the model,
// its base evaluation, the surgery, the surgered evaluation, and the comparison with generations
// side by side, printed as one `RunReport`.
import Llama
import Surgery

func runStudy(_ arguments: inout Arguments) throws {
    let requested = try surgeryPlan(&arguments)
    let uniform = try uniformFlag(&arguments, requested)
    var evaluation = try EvaluationRequest(&arguments)
    var calibration = try CalibrationRequest(&arguments, needed: PreparedSurgery.needsCalibration(requested, uniform: uniform))
    let prompt = arguments.string("prompt") ?? "What is machine learning?"
    let maxTokens = try arguments.int("max-tokens", default: 96, in: 1...100_000)
    let details = arguments.flag("details")
    let latent = arguments.flag("latent")
    if latent { try requireLatent(requested, flag: "--latent") }
    let json = arguments.flag("json")
    try arguments.finish(maxPositionals: 1)
    try evaluation.readText()
    try calibration.readText()
    let path = modelPath(arguments)

    let loaded = try loadModel(path)
    status("plan: \(requested)")
    try requested.validate(for: loaded.model.weights)

    let text = try evaluation.windows(loaded)
    let prepared = try PreparedSurgery(requested, uniform: uniform, loaded: loaded, calibration: calibration,
                                       evaluation: evaluation, evaluated: text)
    let (surgeon, plan) = (prepared.surgeon, prepared.plan)
    let base = BaseEvaluation(model: loaded.model, windows: text.windows, progress: windowProgress("base model"))
    let result = try surgeon.apply(plan, progress: surgeryProgress)
    // --latent: the surgered model runs from its K/V factors and a latent cache, not from B A.
    guard let surgeredWeights = latent ? result.latentWeights : result.weights else {
        throw UsageError("--latent: the surgery kept no K/V components in any layer, so there is no latent to run from")
    }
    let surgered = loaded.model.replacingWeights(surgeredWeights)
    let score = base.compare(surgered, progress: windowProgress("surgered model"))
    var report = RunReport(modelPath: path, config: loaded.model.config,
                           parameterCount: ModelSummary(loaded.checkpoint).totalParameters, result: result,
                           textSource: evaluation.source, window: text.window, windowCount: text.windows.count,
                           base: base.score, surgered: score, prompt: prompt, maxTokens: maxTokens)
    if let statistics = prepared.statistics { report.calibration = "\(calibration.source), \(statistics.tokenCount) tokens" }
    report.allocation = prepared.allocation
    if latent {
        report.latentCache = (surgered.makeCache(capacity: 1).allocatedBytes, loaded.model.makeCache(capacity: 1).allocatedBytes)
    }
    for (name, other) in try comparisons(requested, allocated: prepared.allocation != nil, result: result) {
        status("comparison: \(name): \(other)")
        let otherResult = try surgeon.apply(other, progress: surgeryProgress)
        report.comparisons.append(RunReport.Comparison(
            name: name, result: otherResult,
            score: base.compare(loaded.model.replacingWeights(otherResult.weights), progress: windowProgress(name))))
    }

    let chat = try loaded.tokenizer.chatTemplate().render([ChatMessage(.user, prompt)])
    let ids = loaded.tokenizer.encode(chat)
    for (name, model) in [("base", loaded.model), (latent ? "surgered, latent runtime" : "surgered", surgered)] {
        status("generating the \(name) model's reply")
        let generated = model.generate(prompt: ids, maxTokens: maxTokens, stopTokens: loaded.stopTokens)
        report.generations.append(RunReport.Generation(
            model: name, tokens: generated.count, endedBySelf: generated.count < maxTokens,
            text: try loaded.tokenizer.decode(generated, skippingSpecialTokens: true)))
    }
    if json { writeStandardOutput(report.json()) } else { print(report.markdown(details: details)) }
}

/// `--latent` and `--factored` need a plan whose K and V share one basis per layer, so that each
/// layer's K and V are factors of one latent.
func requireLatent(_ plan: SurgeryPlan, flag: String) throws {
    guard plan.grouping.sharesKV, plan.targets.contains(.k), plan.targets.contains(.v) else {
        throw UsageError("\(flag) needs K and V sharing one basis: --targets k,v (or q,k,v) with --mode shared-kv "
                         + "or shared-kv-layers; the plan is \(plan)")
    }
}

/// `--uniform`: a budget's ranks the same in every layer, not allocated (only with `--kv-budget`).
func uniformFlag(_ arguments: inout Arguments, _ plan: SurgeryPlan) throws -> Bool {
    let uniform = arguments.flag("uniform")
    if uniform, case .kvBudget = plan.selection {} else if uniform {
        throw UsageError("--uniform goes with --kv-budget (it keeps the budget's ranks the same in every layer)")
    }
    return uniform
}

/// What `run` evaluates beside the plan, at the same KV-cache size: for an allocated budget the
/// same basis with uniform ranks; for the activation basis the study's weight PCA (centring `pca`)
/// at the same budget or the mean rank kept. None when q is among the targets with a threshold
/// (its ranks are not a KV-cache size) or for the weights basis at uniform ranks.
func comparisons(_ plan: SurgeryPlan, allocated: Bool, result: SurgeryResult) throws -> [(String, SurgeryPlan)] {
    var out: [(String, SurgeryPlan)] = []
    if allocated {
        out.append(("uniform ranks", try SurgeryPlan(targets: plan.targets, grouping: plan.grouping, selection: plan.selection,
                                                     centring: plan.centring, basis: plan.basis)))
    }
    guard plan.basis != .weights else { return out }
    let selection: Selection
    switch plan.selection {
    case .kvBudget: selection = plan.selection
    case .variance where plan.targets.contains(.q): return out
    default:
        let ranks = result.statistics.map(\.components)
        guard !ranks.isEmpty else { return out }
        selection = .rank(max(1, Int((Double(ranks.reduce(0, +)) / Double(ranks.count)).rounded())))
    }
    out.append(("weights basis", try SurgeryPlan(targets: plan.targets, grouping: plan.grouping, selection: selection,
                                                 centring: .pca, basis: .weights)))
    return out
}
