// `surgery run [MODEL] [--variance 0.90] [--mode shared-kv] …`: the study's main job — the model,
// its base evaluation, the surgery, the surgered evaluation, and the comparison with generations
// side by side, printed as one `RunReport`.
import Llama
import Surgery

func runStudy(_ arguments: inout Arguments) throws {
    let plan = try surgeryPlan(&arguments)
    var evaluation = try EvaluationRequest(&arguments)
    let prompt = arguments.string("prompt") ?? "What is machine learning?"
    let maxTokens = try arguments.int("max-tokens", default: 96, in: 1...100_000)
    let details = arguments.flag("details")
    try arguments.finish(maxPositionals: 1)
    try evaluation.readText()
    let path = modelPath(arguments)

    let loaded = try loadModel(path)
    status("plan: \(plan)")
    try plan.validate(for: loaded.model.weights)

    let text = try evaluation.windows(loaded)
    let base = BaseEvaluation(model: loaded.model, windows: text.windows, progress: windowProgress("base model"))
    let result = try Surgeon(base: loaded.model.weights).apply(plan, progress: surgeryProgress)
    let surgered = loaded.model.replacingWeights(result.weights)
    let score = base.compare(surgered, progress: windowProgress("surgered model"))
    var report = RunReport(modelPath: path, config: loaded.model.config,
                           parameterCount: ModelSummary(loaded.checkpoint).totalParameters, result: result,
                           textSource: evaluation.source, window: text.window, windowCount: text.windows.count,
                           base: base.score, surgered: score, prompt: prompt, maxTokens: maxTokens)

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
