// `surgery run [MODEL] [--variance 0.90] [--mode shared-kv] …`: the study's main job — the model,
// its base evaluation, the surgery, the surgered evaluation, and the comparison with generations
// side by side.
import Llama
import Surgery

func runStudy(_ arguments: inout Arguments) throws {
    let plan = try surgeryPlan(&arguments)
    let evaluation = try evaluationWindows(&arguments)
    let prompt = arguments.string("prompt") ?? "What is machine learning?"
    let maxTokens = try arguments.int("max-tokens", default: 96, in: 1...100_000)
    let details = arguments.flag("details")
    try arguments.finish(maxPositionals: 1)
    let path = modelPath(arguments)

    let loaded = try loadModel(path)
    let c = loaded.model.config
    print("# surgery run\n")
    print("model: \(path)")
    print("architecture: \(c.layerCount) layers · hidden \(c.hiddenSize) · \(c.headCount) query heads"
          + " · \(c.kvHeadCount) kv heads · vocab \(c.vocabSize) · \(grouped(ModelSummary(loaded.checkpoint).totalParameters)) parameters")
    print("plan: \(plan)")
    try plan.validate(for: loaded.model.weights)

    let windows = try loadWindows(evaluation, loaded: loaded, modelPath: path)
    let base = BaseEvaluation(model: loaded.model, windows: windows, progress: windowProgress("base model"))

    let surgeon = Surgeon(base: loaded.model.weights)
    let result = try surgeon.apply(plan, progress: surgeryProgress)
    let surgered = loaded.model.replacingWeights(result.weights)
    let score = base.compare(surgered, progress: windowProgress("surgered model"))

    print("\n## Surgery\n")
    print(result.summary.line)
    if details { print("\n" + result.markdown()) }

    print("\n## Evaluation (\(evaluation.source), \(windows.count) windows of \(evaluation.window), \(score.scoredTokens) tokens scored)\n")
    print("| | base | surgered |")
    print("|---|---:|---:|")
    print("| perplexity | \(fixed(base.score.perplexity, 3)) | \(fixed(score.perplexity, 3)) |")
    print("| Δ perplexity | | \(signed(score.perplexity - base.score.perplexity, 3)) (\(signed(100 * (score.perplexity / base.score.perplexity - 1), 1))%) |")
    print("| KL(base ‖ surgered), nats/token | | \(fixed(score.meanKL, 4)) |")
    print("| top-1 agreement with base | | \(fixed(100 * score.top1Agreement, 1))% |")

    print("\n## Generations (greedy, \(maxTokens) tokens, chat template)\n")
    let text = try loaded.tokenizer.chatTemplate().render([ChatMessage(.user, prompt)])
    let ids = loaded.tokenizer.encode(text)
    let stop = Set(c.eosTokenIDs + [loaded.tokenizer.eosTokenID].compactMap { $0 })
    print("prompt: \(prompt)\n")
    for (name, model) in [("base", loaded.model), ("surgered", surgered)] {
        let generated = model.generate(prompt: ids, maxTokens: maxTokens, stopTokens: stop)
        let reply = try loaded.tokenizer.decode(generated, skippingSpecialTokens: true)
        let ended = generated.count < maxTokens ? ", then end of sequence" : ""
        print("### \(name) (\(generated.count) tokens\(ended))\n")
        if reply.trimmed.isEmpty {
            print("> (no text: the model ended its reply at once)\n")
        } else {
            print(reply.split(separator: "\n", omittingEmptySubsequences: false).map { "> " + $0 }.joined(separator: "\n") + "\n")
        }
    }
}

func signed(_ value: Double, _ digits: Int) -> String {
    (value >= 0 ? "+" : "") + fixed(value, digits)
}
