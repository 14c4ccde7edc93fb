// Options shared by the study's commands (run, sweep, spectrum, compress): the model, the
// surgery plan, and the evaluation text.
import Llama
import Surgery
import FoundationEssentials

/// The model argument: the positional MODEL, or the default model `make model` caches.
func modelPath(_ arguments: Arguments) -> String {
    arguments.positionals.first ?? DefaultModel.path
}

/// `--text FILE --window N --windows K`: which text to evaluate on, and how to cut it.
struct EvaluationRequest {
    /// nil: the built-in text.
    let textPath: String?
    let window: Int
    let limit: Int?
    /// The text of `--text FILE`, once `readText()` has read it.
    private var text: String?

    var source: String { textPath ?? "built-in" }

    init(_ arguments: inout Arguments) throws {
        textPath = arguments.string("text")
        window = try arguments.int("window", default: 512, in: 2...Int.max)
        limit = try arguments.optionalInt("windows", in: 1...Int.max)
    }

    /// Reads `--text FILE` (before the model loads, so that a bad file fails fast).
    mutating func readText() throws {
        if let textPath { text = try readTextFile(textPath) }
    }

    /// The P1 windows of `--text FILE`, or of the built-in text (the base model's own continuations
    /// of fixed prompts, generated once and cached beside the model).
    func windows(_ loaded: LoadedModel) throws -> TextWindows {
        let text: String
        if let read = self.text {
            text = read
        } else {
            status("evaluation text: the base model's own continuations of \(SelfText.prompts.count) prompts"
                   + " (cached at \(SelfText.cachePath(for: loaded.checkpoint)))")
            text = try SelfText.load(loaded) { done, all in
                reportProgress(Stage(name: "generating the evaluation text", steps: "prompts"), done: done, total: all)
            }
        }
        let windows = try loaded.perplexityWindows(of: text, source: source, window: window, limit: limit)
        status("\(windows.tokenCount) tokens of \(source); \(windows.windows.count) windows of \(window)")
        return windows
    }
}

/// Reports evaluation progress, as tokens per second when the window is given.
func windowProgress(_ label: String, tokensPerWindow: Int? = nil) -> (Int, Int) -> Void {
    let stage = Stage(name: label, steps: "windows", tokensPerStep: tokensPerWindow, started: .now)
    return { done, all in reportProgress(stage, done: done, total: all) }
}

/// Reports decomposition progress (which matrix group).
func surgeryProgress(_ progress: SurgeryProgress) {
    let item = progress.item.hasPrefix("decomposing ") ? String(progress.item.dropFirst(12)) : progress.item
    reportProgress(Stage(name: "decomposing", steps: "matrix groups"), done: progress.done, total: progress.total, item: item)
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
