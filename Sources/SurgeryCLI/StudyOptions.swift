// Options shared by the study's commands (run, sweep, spectrum, compress): the model, the
// surgery plan, and the evaluation text.
import Llama
import Surgery
import FoundationEssentials

/// The model argument: the positional MODEL, or the default model `make model` caches.
func modelPath(_ arguments: Arguments) -> String {
    arguments.positionals.first ?? DefaultModel.path
}

/// `--targets q,k,v --mode shared-kv [--layer-group N] (--variance t | --rank r) [--centring pca]`
func surgeryPlan(_ arguments: inout Arguments, defaultMode: String = "shared-kv") throws -> SurgeryPlan {
    let targets = arguments.string("targets") ?? "q,k,v"
    let mode = arguments.string("mode") ?? defaultMode
    let layerGroup = try arguments.optionalInt("layer-group", in: 1...Int.max)
    let rank = arguments.string("rank")
    let variance = arguments.string("variance") ?? (rank == nil ? "0.90" : nil)
    let centring = arguments.string("centring") ?? "pca"
    return try SurgeryPlan.parse(targets: targets, mode: mode, layerGroup: layerGroup,
                                 variance: variance, rank: rank, centring: centring)
}

/// The evaluation windows: P1 over `--text FILE`, or over the built-in text (the base model's own
/// continuations of fixed prompts, generated once and cached beside the model).
func evaluationWindows(_ arguments: inout Arguments) throws -> (source: String, window: Int, limit: Int?, text: String?) {
    let text = arguments.string("text")
    let window = try arguments.int("window", default: 512, in: 2...Int.max)
    let limit = try arguments.optionalInt("windows", in: 1...Int.max)
    return (text ?? "built-in", window, limit, text)
}

func loadWindows(_ request: (source: String, window: Int, limit: Int?, text: String?), loaded: LoadedModel,
                 modelPath: String) throws -> [[Int]] {
    guard request.window <= loaded.model.config.contextLength else {
        throw UsageError("--window \(request.window) is larger than the model's context (\(loaded.model.config.contextLength))")
    }
    let text: String
    if let path = request.text {
        text = try readText(path)
    } else {
        status("evaluation text: the base model's own continuations of \(SelfText.prompts.count) prompts"
               + " (cached at \(SelfText.cachePath(forModel: modelPath)))")
        text = try SelfText.load(model: loaded.model, tokenizer: loaded.tokenizer, modelPath: modelPath) { done, all in
            progressLine("generating the evaluation text: prompt \(done)/\(all)")
        }
        progressDone()
    }
    let tokens = loaded.tokenizer.encode(text, addingSpecialTokens: false)
    let windows = perplexityWindows(tokens, window: request.window, limit: request.limit)
    guard !windows.isEmpty else {
        throw UsageError("\(request.source) has \(tokens.count) tokens, fewer than one window of \(request.window)")
    }
    status("\(tokens.count) tokens of \(request.source); \(windows.count) windows of \(request.window)")
    return windows
}

/// Reports evaluation progress with the time left.
func windowProgress(_ label: String) -> (Int, Int) -> Void {
    let clock = ContinuousClock()
    let start = clock.now
    return { done, all in
        let elapsed = (clock.now - start).seconds
        let left = elapsed / Double(done) * Double(all - done)
        progressLine("\(label): window \(done)/\(all) · \(fixed(left, 0)) s left")
        if done == all { progressDone() }
    }
}

/// Reports decomposition progress (which matrix group).
func surgeryProgress(_ progress: SurgeryProgress) {
    progressLine("decomposing \(progress.done)/\(progress.total): \(progress.item)")
    if progress.done == progress.total { progressDone() }
}

/// An output folder must not exist yet or be empty, so that no earlier result is overwritten or mixed in.
func refuseNonEmptyFolder(_ path: String, argument: String) throws {
    var isDirectory = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return }
    guard isDirectory else { throw UsageError("\(argument) \(path) exists and is not a folder") }
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
    guard entries.isEmpty else {
        throw UsageError("\(argument) \(path) exists and is not empty (\(entries.count) entries); choose a new or empty folder")
    }
}
