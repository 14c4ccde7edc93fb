// One `surgery run` as a value: the model, the plan, the surgery's summary, the base and surgered
// evaluations, and the greedy replies of both models — and its Markdown and JSON, which the CLI prints.
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
    /// Where the activation basis's statistics came from (`self, 16384 tokens`), nil for the weights basis.
    public var calibration: String?
    /// Other surgeries at the same KV-cache size, evaluated on the same windows (uniform ranks
    /// beside an allocation; the study's weight PCA beside the activation basis).
    public var comparisons: [Comparison] = []
    /// The budget allocation that chose the plan's ranks, if one did.
    public var allocation: KVAllocation?
    /// Set when the surgered model ran from its latent cache (`run --latent`) instead of dense
    /// reconstructions: the bytes per token of its cache and of the base model's, measured from
    /// the caches' buffers.
    public var latentCache: (bytesPerToken: Int, denseBytesPerToken: Int)?

    public struct Comparison: Sendable {
        public let name: String
        public let result: SurgeryResult
        public let score: Score

        public init(name: String, result: SurgeryResult, score: Score) {
            self.name = name
            self.result = result
            self.score = score
        }
    }

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

        if let calibration { out += "calibration: \(calibration)\n" }
        if let latentCache {
            out += "runtime: latent — the surgered model's evaluation and reply ran from a cache of "
                + "\(grouped(latentCache.bytesPerToken)) bytes per token, \(fixed(100 * Double(latentCache.bytesPerToken) / Double(latentCache.denseBytesPerToken), 1))% "
                + "of the dense \(grouped(latentCache.denseBytesPerToken))\n"
        } else {
            out += "KV cache of a latent form: \(fixed(100 * result.kvCacheFraction, 1))% of the dense cache\n"
        }
        if result.plan.basis != .weights || allocation != nil { out += "\n" + layerTable(full: details) }

        out += "\n## Evaluation (\(textSource), \(windowCount) windows of \(window), \(surgered.scoredTokens) tokens scored)\n\n"
        var columns = [(comparisons.isEmpty ? "surgered" : "this plan", surgered, result)]
        for c in comparisons { columns.append((c.name, c.score, c.result)) }
        func row(_ name: String, _ cell: (Score, SurgeryResult) -> String, base baseCell: String = "") -> String {
            "| \(name) | \(baseCell) | " + columns.map { cell($0.1, $0.2) }.joined(separator: " | ") + " |\n"
        }
        out += "| | base | " + columns.map(\.0).joined(separator: " | ") + " |\n"
        out += "|---|---:|" + columns.map { _ in "---:|" }.joined() + "\n"
        out += row("perplexity", { s, _ in fixed(s.perplexity, 3) }, base: fixed(base.perplexity, 3))
        out += row("Δ perplexity", { s, _ in
            "\(signed(s.perplexity - base.perplexity, 3)) (\(signed(100 * (s.perplexity / base.perplexity - 1), 1))%)" })
        out += row("KL(base ‖ surgered), nats/token", { s, _ in fixed(s.meanKL, 4) })
        out += row("top-1 agreement with base", { s, _ in "\(fixed(100 * s.top1Agreement, 1))%" })
        out += row("KV cache (latent form)", { _, r in "\(fixed(100 * r.kvCacheFraction, 1))%" }, base: "100%")
        for c in comparisons where c.score.meanKL > 0 && surgered.meanKL > 0 {
            out += "\nKL of \(c.name) ÷ KL of this plan: \(fixed(c.score.meanKL / surgered.meanKL, 2))×\n"
        }

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

extension RunReport {
    /// Per layer: the rank kept and the output energy each matrix keeps on the calibration text;
    /// the layers that keep least come first in the note below the table.
    func layerTable(full: Bool) -> String {
        let byLayer = Dictionary(grouping: result.statistics, by: \.matrix.layer)
        var out = ""
        if full {
            out += "| layer | matrix | rank | of | output energy kept | relative weight error | uniform rank | KL alone at it |\n"
            out += "|---:|---|---:|---:|---:|---:|---:|---:|\n"
            for layer in byLayer.keys.sorted() {
                for s in byLayer[layer]! {
                    out += "| \(layer) | \(s.matrix.target) | \(s.components) | \(s.componentLimit) | "
                        + "\(s.outputEnergyKept.map { fixed(100 * $0, 2) + "%" } ?? "—") | \(fixed(s.relativeError, 4)) | "
                        + (allocation.map { "\($0.probeRanks[layer]) | \(fixed($0.probeKL[layer], 4))" } ?? "— | —") + " |\n"
                }
            }
        }
        let worst = result.statistics.filter { $0.outputEnergyKept != nil }
            .sorted { $0.outputEnergyKept! < $1.outputEnergyKept! }.prefix(3)
        if !worst.isEmpty {
            out += "\nleast output energy kept: " + worst.map { "\($0.matrix) \(fixed(100 * $0.outputEnergyKept!, 2))%" }
                .joined(separator: ", ") + "\n"
        }
        if let allocation {
            let protected = (0..<allocation.ranks.count).sorted {
                allocation.ranks[$0] - allocation.probeRanks[$0] > allocation.ranks[$1] - allocation.probeRanks[$1]
            }
            let most = protected.prefix(4).map { "layer \($0) (\(allocation.probeRanks[$0]) → \(allocation.ranks[$0]))" }
            let least = protected.suffix(3).reversed().map { "layer \($0) (\(allocation.probeRanks[$0]) → \(allocation.ranks[$0]))" }
            out += "allocation: protects \(most.joined(separator: ", ")); takes most from \(least.joined(separator: ", "))\n"
            let worstKL = (0..<allocation.probeKL.count).max { allocation.probeKL[$0] < allocation.probeKL[$1] }!
            out += "most sensitive alone: layer \(worstKL), KL \(fixed(allocation.probeKL[worstKL], 4)) at rank \(allocation.probeRanks[worstKL])\n"
        }
        return out
    }
}

/// `+1.234` / `-0.5`: `fixed` with the sign always shown.
func signed(_ x: Double, _ places: Int) -> String {
    (x >= 0 ? "+" : "") + fixed(x, places)
}

// MARK: - JSON

extension RunReport {
    /// The same result as `markdown`, for scripts: the model, the plan, the surgery's statistics
    /// (summary and one entry per matrix), the evaluation of base, plan and comparisons, and the
    /// generations. Pretty-printed, members in a fixed order; NaN and infinities are `null`.
    public func json() -> String {
        let c = config
        var members: [(key: String, value: JSONValue)] = [
            ("model", .object([
                ("path", .string(modelPath)), ("layers", .integer(c.layerCount)), ("hidden", .integer(c.hiddenSize)),
                ("query_heads", .integer(c.headCount)), ("kv_heads", .integer(c.kvHeadCount)),
                ("vocab", .integer(c.vocabSize)), ("parameters", .integer(parameterCount)),
            ])),
            ("plan", result.plan.jsonValue),
            ("surgery", result.jsonValue),
            ("calibration", calibration.map { .string($0) } ?? .null),
            ("allocation", allocation.map { a in .object([
                ("budget", number(a.budget)), ("ranks", .array(a.ranks.map { .integer($0) })),
                ("uniform_ranks", .array(a.probeRanks.map { .integer($0) })),
                ("kl_alone_at_uniform_rank", .array(a.probeKL.map(number))),
            ]) } ?? .null),
            ("runtime", .object([
                ("latent", .bool(latentCache != nil)),
                ("kv_cache_bytes_per_token", latentCache.map { .integer($0.bytesPerToken) } ?? .null),
                ("dense_kv_cache_bytes_per_token", latentCache.map { .integer($0.denseBytesPerToken) } ?? .null),
            ])),
        ]
        members.append(("evaluation", .object([
            ("text", .string(textSource)), ("window", .integer(window)), ("windows", .integer(windowCount)),
            ("scored_tokens", .integer(surgered.scoredTokens)),
            ("base", .object([("perplexity", number(base.perplexity))])),
            ("surgered", surgered.jsonValue(against: base)),
            ("comparisons", .array(comparisons.map { comparison in .object([
                ("name", .string(comparison.name)), ("plan", comparison.result.plan.jsonValue),
                ("surgery", comparison.result.jsonValue), ("evaluation", comparison.score.jsonValue(against: base)),
            ]) })),
        ])))
        members.append(("generations", .object([
            ("prompt", .string(prompt)), ("max_tokens", .integer(maxTokens)),
            ("replies", .array(generations.map { g in .object([
                ("model", .string(g.model)), ("tokens", .integer(g.tokens)),
                ("ended_by_model", .bool(g.endedBySelf)), ("text", .string(g.text)),
            ]) })),
        ])))
        return String(decoding: JSONValue.object(members).prettyPrinted(), as: UTF8.self)
    }
}

extension SurgeryPlan {
    var jsonValue: JSONValue {
        let selection: JSONValue
        switch self.selection {
        case .variance(let t): selection = .object([("variance", number(t))])
        case .rank(let r): selection = .object([("rank", .integer(r))])
        case .kvBudget(let f): selection = .object([("kv_budget", number(f))])
        case .layerRanks(let ranks): selection = .object([("layer_ranks", .array(ranks.map { .integer($0) }))])
        }
        return .object([
            ("description", .string(description)), ("targets", .array(targets.map { .string($0.rawValue) })),
            ("mode", .string(grouping.description)), ("selection", selection),
            ("centring", .string(centring.rawValue)), ("basis", .string(basis.description)),
        ])
    }
}

extension SurgeryResult {
    var jsonValue: JSONValue {
        let s = summary
        return .object([
            ("matrices", .integer(s.matrixCount)),
            ("mean_components_q", s.meanComponentsQ.map(number) ?? .null),
            ("mean_components_kv", s.meanComponentsKV.map(number) ?? .null),
            ("dense_parameters", .integer(s.denseParameters)), ("factored_parameters", .integer(s.factoredParameters)),
            ("factored_parameter_ratio", number(s.factoredParameterRatio)),
            ("mean_relative_error", number(s.meanRelativeError)), ("kv_cache_fraction", number(kvCacheFraction)),
            ("per_matrix", .array(statistics.map { m in .object([
                ("layer", .integer(m.matrix.layer)), ("matrix", .string(m.matrix.target.rawValue)),
                ("shape", .array(m.shape.map { .integer($0) })), ("group", .string(m.group)),
                ("components", .integer(m.components)), ("component_limit", .integer(m.componentLimit)),
                ("variance_explained", number(m.varianceExplained)), ("relative_error", number(m.relativeError)),
                ("factored_ratio", number(m.factoredRatio)),
                ("output_energy_kept", m.outputEnergyKept.map(number) ?? .null),
            ]) })),
        ])
    }
}

extension Score {
    func jsonValue(against base: Score) -> JSONValue {
        .object([
            ("perplexity", number(perplexity)), ("delta_perplexity", number(perplexity - base.perplexity)),
            ("kl", number(meanKL)), ("top1_agreement", number(top1Agreement)),
        ])
    }
}

/// A JSON number, or `null` for NaN and infinities (JSON has no spelling for them).
private func number(_ x: Double) -> JSONValue { x.isFinite ? .number(x) : .null }
