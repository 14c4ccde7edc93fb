// `surgery perplexity MODEL --text FILE [--window 512] [--windows K]`: protocol P1 perplexity.
import Llama
import Surgery
import FoundationEssentials

func runPerplexity(_ arguments: inout Arguments) throws {
    guard arguments.string("text") != nil else { throw UsageError("perplexity needs --text FILE") }
    var request = try EvaluationRequest(&arguments)
    try arguments.finish(maxPositionals: 1)
    try request.readText()
    let loaded = try loadModel(modelPath(arguments))
    let text = try request.windows(loaded)
    let (windows, window) = (text.windows, text.window)
    let clock = ContinuousClock()
    let start = clock.now
    let score = evaluate([loaded.model], windows: windows, progress: windowProgress("perplexity", tokensPerWindow: window))[0]
    let seconds = (clock.now - start).seconds
    print("perplexity \(fixed(score.perplexity, 4))")
    print("tokens scored \(score.scoredTokens) (\(windows.count) windows of \(window))")
    print("tokens/s \(fixed(Double(windows.count * window) / seconds, 1))")
}

/// A UTF-8 text file, with clear errors for a missing, unreadable, empty or non-UTF-8 file.
func readTextFile(_ path: String, flag: String = "--text") throws -> String {
    var isDirectory = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory else {
        throw UsageError("\(flag) \(path): no such file")
    }
    guard let data = FileManager.default.contents(atPath: path) else { throw UsageError("\(flag) \(path): cannot read it") }
    guard let text = String(validating: data, as: UTF8.self) else {
        throw UsageError("\(flag) \(path): not valid UTF-8")
    }
    guard !text.isEmpty else { throw UsageError("\(flag) \(path): the file is empty") }
    return text
}
