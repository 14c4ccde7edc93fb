// `surgery generate MODEL --prompt TEXT …`: streams a continuation (or a chat reply) to stdout.
import Llama
import Surgery
import FoundationEssentials

func runGenerate(_ arguments: inout Arguments) throws {
    guard let prompt = arguments.string("prompt") else { throw UsageError("generate needs --prompt TEXT") }
    let chat = arguments.flag("chat")
    let maxTokens = try arguments.int("max-tokens", default: 128, in: 1...1_000_000)
    let sampling = SamplingOptions(
        temperature: try arguments.double("temperature", default: 0, in: 0...100),
        topK: try arguments.int("top-k", default: 0, in: 0...Int.max),
        topP: try arguments.double("top-p", default: 1, in: 0...1, openLower: true),
        seed: UInt64(try arguments.int("seed", default: 0, in: 0...Int.max)))
    try arguments.finish(maxPositionals: 1)
    let loaded = try loadModel(modelPath(arguments))
    let tokenizer = loaded.tokenizer
    let text = chat ? try tokenizer.chatTemplate().render([ChatMessage(.user, prompt)]) : prompt
    let ids = tokenizer.encode(text)
    guard !ids.isEmpty else { throw UsageError("--prompt is empty after tokenization") }
    guard ids.count < loaded.model.config.contextLength else {
        throw UsageError("--prompt has \(ids.count) tokens; the model's context is \(loaded.model.config.contextLength)")
    }
    var decoder = tokenizer.makeStreamingDecoder(skippingSpecialTokens: true)
    if !chat { writeStandardOutput(prompt) }
    let clock = ContinuousClock()
    let start = clock.now
    let generated = loaded.model.generate(prompt: ids, maxTokens: maxTokens, sampling: sampling,
                                          stopTokens: loaded.stopTokens) { token in
        if let piece = try? decoder.append(token) { writeStandardOutput(piece) }
        return true
    }
    writeStandardOutput(decoder.finish() + "\n")
    let seconds = (clock.now - start).seconds
    status("\(ids.count) prompt tokens, \(generated.count) generated in \(fixed(seconds, 2)) s"
           + " (\(fixed(Double(generated.count) / max(seconds, 1e-9), 1)) tokens/s)")
}
