// A checkpoint opened with everything running it needs: the model (weights decoded) and the
// tokenizer. The one loader of the CLI, the tests and the benchmarks.

/// A checkpoint, its model and its tokenizer.
public struct LoadedModel: Sendable {
    public let checkpoint: Checkpoint
    public let model: Model
    public let tokenizer: Tokenizer

    /// Opens the checkpoint at `path` (any format `Checkpoint.open` reads), decodes its weights and
    /// builds its tokenizer.
    public init(path: String) throws {
        let checkpoint = try Checkpoint.open(path)
        self.init(checkpoint: checkpoint, model: try Model(checkpoint: checkpoint), tokenizer: try checkpoint.tokenizer())
    }

    public init(checkpoint: Checkpoint, model: Model, tokenizer: Tokenizer) {
        self.checkpoint = checkpoint
        self.model = model
        self.tokenizer = tokenizer
    }

    /// The tokens that end a generation: the config's EOS ids and the tokenizer's EOS.
    public var stopTokens: Set<Int> {
        Set(model.config.eosTokenIDs + [tokenizer.eosTokenID].compactMap { $0 })
    }

    /// The P1 windows of `text` (tokenized without special tokens): at most `limit` windows of
    /// `window` tokens. `source` names the text in errors.
    public func perplexityWindows(of text: String, source: String, window: Int,
                                  limit: Int? = nil) throws(EvaluationError) -> TextWindows {
        guard window >= 2 else { throw .windowTooShort(window) }
        guard window <= model.config.contextLength else {
            throw .windowLargerThanContext(window: window, context: model.config.contextLength)
        }
        let tokens = tokenizer.encode(text, addingSpecialTokens: false)
        let windows = Llama.perplexityWindows(tokens, window: window, limit: limit)
        guard !windows.isEmpty else { throw .textShorterThanWindow(source: source, tokens: tokens.count, window: window) }
        return TextWindows(windows: windows, tokenCount: tokens.count, window: window)
    }
}

/// A text cut into P1 windows.
public struct TextWindows: Sendable {
    public let windows: [[Int]]
    /// Tokens in the whole text (the windows may use fewer).
    public let tokenCount: Int
    public let window: Int
}

/// Why a text cannot be evaluated.
public enum EvaluationError: Error, Equatable, Sendable, CustomStringConvertible {
    case windowTooShort(Int)
    case windowLargerThanContext(window: Int, context: Int)
    case textShorterThanWindow(source: String, tokens: Int, window: Int)

    public var description: String {
        switch self {
        case .windowTooShort(let w): "a window of \(w) tokens scores nothing (at least 2)"
        case .windowLargerThanContext(let w, let context): "a window of \(w) tokens is larger than the model's context (\(context))"
        case .textShorterThanWindow(let source, let tokens, let w): "\(source) has \(tokens) tokens, fewer than one window of \(w)"
        }
    }
}
