// One `surgery run` as a value: the model, the plan, the surgery's summary, the base and surgered
// evaluations, and the greedy replies of both models — and its Markdown, which the CLI prints.
import Llama

/// The result of the study's main job, base against surgered.
public struct RunReport: Sendable {
    /// A model's greedy reply to the prompt.
    public struct Generation: Sendable {
        /// `base` or `surgered`.
        public let model: String
        /// Tokens generated, and whether the model ended the reply itself (a stop token).
        public let tokens: Int
        public let endedBySelf: Bool
        public let text: String

        public init(model: String, tokens: Int, endedBySelf: Bool, text: String) {
            self.model = model
            self.tokens = tokens
            self.endedBySelf = endedBySelf
            self.text = text
        }
    }

    public let modelPath: String
    public let config: Config
    public let parameterCount: Int
    public let result: SurgeryResult
    /// The evaluation text's name, its window size and how many windows were scored.
    public let textSource: String
    public let window: Int
    public let windowCount: Int
    public let base: Score
    public let surgered: Score
    public let prompt: String
    public let maxTokens: Int
    public var generations: [Generation] = []

    public init(modelPath: String, config: Config, parameterCount: Int, result: SurgeryResult, textSource: String,
                window: Int, windowCount: Int, base: Score, surgered: Score, prompt: String, maxTokens: Int) {
        self.modelPath = modelPath
        self.config = config
        self.parameterCount = parameterCount
        self.result = result
        self.textSource = textSource
        self.window = window
        self.windowCount = windowCount
        self.base = base
        self.surgered = surgered
        self.prompt = prompt
        self.maxTokens = maxTokens
    }

    /// The report; `details` adds one table row per matrix.
    public func markdown(details: Bool = false) -> String {
        let c = config
        var out = "# surgery run\n\n"
        out += "model: \(modelPath)\n"
        out += "architecture: \(c.layerCount) layers · hidden \(c.hiddenSize) · \(c.headCount) query heads"
            + " · \(c.kvHeadCount) kv heads · vocab \(c.vocabSize) · \(grouped(parameterCount)) parameters\n"
        out += "plan: \(result.plan)\n"

        out += "\n## Surgery\n\n"
        out += result.summary.line + "\n"
        if details { out += "\n" + result.markdown() + "\n" }

        out += "\n## Evaluation (\(textSource), \(windowCount) windows of \(window), \(surgered.scoredTokens) tokens scored)\n\n"
        out += "| | base | surgered |\n|---|---:|---:|\n"
        out += "| perplexity | \(fixed(base.perplexity, 3)) | \(fixed(surgered.perplexity, 3)) |\n"
        out += "| Δ perplexity | | \(signed(surgered.perplexity - base.perplexity, 3))"
            + " (\(signed(100 * (surgered.perplexity / base.perplexity - 1), 1))%) |\n"
        out += "| KL(base ‖ surgered), nats/token | | \(fixed(surgered.meanKL, 4)) |\n"
        out += "| top-1 agreement with base | | \(fixed(100 * surgered.top1Agreement, 1))% |\n"

        out += "\n## Generations (greedy, \(maxTokens) tokens, chat template)\n\n"
        out += "prompt: \(prompt)\n"
        for g in generations {
            out += "\n### \(g.model) (\(g.tokens) tokens\(g.endedBySelf ? ", then end of sequence" : ""))\n\n"
            if g.text.allSatisfy(\.isWhitespace) {
                out += "> (no text: the model ended its reply at once)\n"
            } else {
                out += g.text.split(separator: "\n", omittingEmptySubsequences: false).map { "> " + $0 }.joined(separator: "\n") + "\n"
            }
        }
        return out
    }
}

/// `+1.234` / `-0.5`: `fixed` with the sign always shown.
func signed(_ x: Double, _ places: Int) -> String {
    (x >= 0 ? "+" : "") + fixed(x, places)
}
