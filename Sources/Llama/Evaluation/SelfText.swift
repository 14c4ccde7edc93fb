// The built-in evaluation text: the base model's own continuations of a fixed set of varied
// prompts, sampled with a fixed seed, so that an evaluation needs nothing but the model. The text
// is cached beside the model file; a cache made with other prompts or settings is ignored.
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
        let (model, tokenizer) = (loaded.model, loaded.tokenizer)
        let cache = cachePath(for: loaded.checkpoint)
        let key = cacheKey(modelPath: loaded.checkpoint.path)
        if let data = FileManager.default.contents(atPath: cache),
           let stored = try? JSONDecoder().decode(Stored.self, from: data), stored.key == key {
            return stored.text
        }
        var pieces: [String] = []
        for (index, prompt) in prompts.enumerated() {
            let ids = tokenizer.encode(prompt, addingSpecialTokens: false)
            var options = sampling
            options.seed = sampling.seed &+ UInt64(index)
            let continuation = model.generate(prompt: ids, maxTokens: newTokens, sampling: options, stopTokens: loaded.stopTokens)
            pieces.append(try tokenizer.decode(ids + continuation, skippingSpecialTokens: true))
            progress(index + 1, prompts.count)
        }
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
    private static func cacheKey(modelPath: String) -> String {
        let size = (try? FileManager.default.attributesOfItem(atPath: modelPath)[.size]).map { "\($0)" } ?? "?"
        let settings = "\(sampling.temperature)|\(sampling.topK)|\(sampling.topP)|\(sampling.seed)|\(newTokens)"
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325                      // FNV-1a over the prompts
        for byte in prompts.joined(separator: "\u{0}").utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return "v\(version)|\(modelPath.split(separator: "/").last ?? "")|\(size)|\(settings)|\(hash)"
    }
}
