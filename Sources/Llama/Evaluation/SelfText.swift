// The built-in evaluation text: the base model's own continuations of a fixed set of varied
// prompts, sampled with a fixed seed, so that an evaluation needs nothing but the model; and, from
// other prompts, the calibration text of activation-aware surgery. Each text is cached beside the
// model file; a cache made with other prompts or settings is ignored.
import FoundationEssentials

public enum SelfText {
    /// Prompts written for this project: prose, science, history, code, dialogue, lists, numbers.
    public static let prompts: [String] = [
        "The history of the printing press begins",
        "Photosynthesis is the process by which",
        "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n",
        "Dear hiring manager,\n\nI am writing to apply for",
        "The three most important things to know about volcanoes are",
        "Once upon a time, in a village at the edge of a great forest,",
        "To bake a simple loaf of bread, you will need",
        "In 1969, the Apollo 11 mission",
        "The main difference between a virus and a bacterium is",
        "Here is a short poem about the sea:\n",
        "Q: What causes the seasons on Earth?\nA:",
        "The stock market fell sharply on Monday after",
        "Machine learning is a field of computer science that",
        "A healthy breakfast might include",
        "SELECT name, COUNT(*) FROM orders",
        "The city of Kyoto is famous for",
    ]
    public static let newTokens = 192
    public static let sampling = SamplingOptions(temperature: 0.8, topK: 0, topP: 0.95, seed: 2024)
    static let version = 1

    /// The cache file for a checkpoint: beside its model file.
    public static func cachePath(for checkpoint: Checkpoint) -> String {
        checkpoint.path + ".selftext-v\(version).json"
    }

    /// The cached text for this model if present and made with these prompts and settings; else
    /// generates it (calling `progress(done, total)` per prompt), caches it, and returns it.
    public static func load(_ loaded: LoadedModel, progress: (Int, Int) -> Void = { _, _ in }) throws -> String {
        try cachedGeneration(loaded, cache: cachePath(for: loaded.checkpoint), prompts: prompts, newTokens: newTokens,
                             sampling: sampling, minimumTokens: 0) { done, _, _ in progress(done, prompts.count) }
    }

    // MARK: - Calibration text

    /// Other prompts, for the calibration text of activation-aware surgery: it must not be the
    /// evaluation text (the built-in one above, or the evaluated windows of a file).
    public static let calibrationPrompts: [String] = [
        "The industrial revolution changed the way people",
        "Water boils at a lower temperature at high altitude because",
        "import numpy as np\n\ndef normalize(v):\n",
        "Dear neighbours,\n\nWe are organising a",
        "The rules of chess are simple to learn:",
        "Long ago, when the mountains were young,",
        "A good cup of coffee starts with",
        "The French Revolution began in 1789 when",
        "An atom consists of a nucleus and",
        "Here is a recipe for a vegetable soup:\n",
        "Q: Why is the sky blue?\nA:",
        "The central bank raised interest rates today, citing",
        "A neural network is made of layers of",
        "Tips for a good night's sleep:\n1.",
        "CREATE TABLE customers (",
        "The Amazon rainforest is home to",
        "In the year 2050, cities will",
        "The theory of evolution explains how",
        "function debounce(fn, delay) {\n",
        "My favourite book is one that",
        "The causes of the First World War include",
        "To solve a quadratic equation, first",
        "The museum's new exhibition features",
        "Interviewer: What inspired you to become a musician?\n",
    ]
    /// Tokens generated per calibration prompt; prompts are reused with new seeds until the text is long enough.
    public static let calibrationNewTokens = 512
    public static let calibrationSampling = SamplingOptions(temperature: 0.8, topK: 0, topP: 0.95, seed: 4096)

    /// The calibration cache file for a checkpoint and a token count.
    public static func calibrationCachePath(for checkpoint: Checkpoint, tokens: Int) -> String {
        checkpoint.path + ".calibration-text-\(tokens)-v\(version).json"
    }

    /// At least `tokens` tokens of the base model's own continuations of `calibrationPrompts`
    /// (cached beside the model like the evaluation text). `progress(tokens so far, tokens wanted)`.
    public static func loadCalibration(_ loaded: LoadedModel, tokens: Int,
                                       progress: (Int, Int) -> Void = { _, _ in }) throws -> String {
        try cachedGeneration(loaded, cache: calibrationCachePath(for: loaded.checkpoint, tokens: tokens),
                             prompts: calibrationPrompts, newTokens: calibrationNewTokens,
                             sampling: calibrationSampling, minimumTokens: tokens) { _, made, _ in progress(min(made, tokens), tokens) }
    }

    // MARK: - Generation and its cache

    /// Continuations of `prompts` (each prompt once; with `minimumTokens` > 0, cycling through them
    /// with new seeds until the text holds that many tokens), joined by blank lines, cached at `cache`
    /// under a key of the model file and every setting. `progress(continuations, tokens, prompts)`.
    private static func cachedGeneration(_ loaded: LoadedModel, cache: String, prompts: [String], newTokens: Int,
                                         sampling: SamplingOptions, minimumTokens: Int,
                                         progress: (Int, Int, Int) -> Void) throws -> String {
        let (model, tokenizer) = (loaded.model, loaded.tokenizer)
        let key = cacheKey(modelPath: loaded.checkpoint.path, prompts: prompts, newTokens: newTokens,
                           sampling: sampling, minimumTokens: minimumTokens)
        if let data = FileManager.default.contents(atPath: cache),
           let stored = try? JSONDecoder().decode(Stored.self, from: data), stored.key == key {
            return stored.text
        }
        var pieces: [String] = []
        var tokens = 0
        var index = 0
        repeat {
            let prompt = prompts[index % prompts.count]
            let ids = tokenizer.encode(prompt, addingSpecialTokens: false)
            var options = sampling
            options.seed = sampling.seed &+ UInt64(index)
            let continuation = model.generate(prompt: ids, maxTokens: newTokens, sampling: options, stopTokens: loaded.stopTokens)
            pieces.append(try tokenizer.decode(ids + continuation, skippingSpecialTokens: true))
            tokens += ids.count + continuation.count
            index += 1
            progress(index, tokens, prompts.count)
        } while minimumTokens > 0 ? tokens < minimumTokens : index < prompts.count
        let text = pieces.joined(separator: "\n\n")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        if let data = try? encoder.encode(Stored(key: key, text: text)) {
            // A cache that cannot be written (read-only folder) only costs a regeneration next time.
            let temporary = cache + ".partial"
            if FileManager.default.createFile(atPath: temporary, contents: data) {
                _ = try? FileManager.default.removeItem(atPath: cache)
                _ = try? FileManager.default.moveItem(atPath: temporary, toPath: cache)
            }
        }
        return text
    }

    private struct Stored: Codable {
        var key: String
        var text: String
    }

    /// Identifies the model file (name and size) and every setting that shapes the text.
    private static func cacheKey(modelPath: String, prompts: [String], newTokens: Int, sampling: SamplingOptions,
                                 minimumTokens: Int) -> String {
        let size = (try? FileManager.default.attributesOfItem(atPath: modelPath)[.size]).map { "\($0)" } ?? "?"
        var settings = "\(sampling.temperature)|\(sampling.topK)|\(sampling.topP)|\(sampling.seed)|\(newTokens)"
        if minimumTokens > 0 { settings += "|\(minimumTokens)" }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325                      // FNV-1a over the prompts
        for byte in prompts.joined(separator: "\u{0}").utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return "v\(version)|\(modelPath.split(separator: "/").last ?? "")|\(size)|\(settings)|\(hash)"
    }
}
