// The `surgery` command as a user runs it: the built executable in a child process, its stdout,
// stderr and exit status. Bad input must exit with status 2 and a message naming what was wrong.
import Foundation
import Testing
import TestSupport

/// Runs the `surgery` executable built beside the test bundle.
func surgery(_ arguments: [String], environment: [String: String] = [:]) throws -> CommandResult {
    try runProgram(builtProduct("surgery"), arguments, environment: environment)
}

/// A fresh temporary folder for one test.
func temporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("surgery-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite struct InspectCommandTests {
    /// The figures for SmolLM2-135M-Instruct (transformers counts 134,515,008 parameters).
    @Test func inspectsTheRealModel() throws {
        let result = try surgery(["inspect", Fixtures.modelPath])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("total parameters: 134,515,008"))
        #expect(result.stdout.contains("layers 30 · hidden 576 · heads 9 · kv heads 3"))
        #expect(result.stdout.contains("vocab 49152"))
        #expect(result.stdout.contains("model.layers.29.self_attn.k_proj"))
        #expect(result.stdout.contains("file size: 98,362,432 bytes"))
    }

    @Test func inspectsAsJSON() throws {
        let result = try surgery(["inspect", Fixtures.modelPath, "--json"])
        #expect(result.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["totalParameters"] as? Int == 134_515_008)
        let config = try #require(object["config"] as? [String: Any])
        #expect(config["layerCount"] as? Int == 30)
        #expect(config["kvHeadCount"] as? Int == 3)
        #expect(config["vocabSize"] as? Int == 49_152)
    }

    @Test func inspectsTheTinySafetensorsFolder() throws {
        let result = try surgery(["inspect", Fixtures.path("tiny/sharded")])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("safetensors"))
    }
}

@Suite struct BadInputTests {
    @Test func missingPath() throws {
        let result = try surgery(["inspect", "/nonexistent/model.gguf"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("/nonexistent/model.gguf"))
        #expect(result.stderr.contains("no such file"))
        #expect(result.stdout.isEmpty)
    }

    @Test func directoryWithoutModel() throws {
        let folder = try temporaryFolder()
        let result = try surgery(["inspect", folder.path])
        #expect(result.status == 2)
        #expect(result.stderr.contains(folder.path))
        #expect(result.stderr.contains("without a model"))
    }

    @Test func truncatedGGUF() throws {
        let folder = try temporaryFolder()
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Fixtures.modelPath), options: .alwaysMapped).prefix(4096)
        let path = folder.appendingPathComponent("truncated.gguf").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let result = try surgery(["inspect", path])
        #expect(result.status == 2)
        #expect(result.stderr.contains(path))
    }

    @Test func unrecognizedFile() throws {
        let folder = try temporaryFolder()
        let path = folder.appendingPathComponent("notes.txt").path
        try Data("just some text, not a model".utf8).write(to: URL(fileURLWithPath: path))
        let result = try surgery(["inspect", path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("not a GGUF or safetensors file"))
    }

    @Test func unknownCommandAndOption() throws {
        let command = try surgery(["frobnicate"])
        #expect(command.status == 2)
        #expect(command.stderr.contains("unknown command \"frobnicate\""))
        let option = try surgery(["inspect", Fixtures.modelPath, "--colour", "red"])
        #expect(option.status == 2)
        #expect(option.stderr.contains("unknown option --colour"))
    }

    @Test func perplexityArguments() throws {
        let folder = try temporaryFolder()
        let empty = folder.appendingPathComponent("empty.txt")
        try Data().write(to: empty)
        let binary = folder.appendingPathComponent("binary.txt")
        try Data([0x66, 0x6F, 0xFF, 0xFE, 0x6F]).write(to: binary)
        let text = folder.appendingPathComponent("short.txt")
        try Data("A short text.".utf8).write(to: text)
        let cases: [([String], String)] = [
            (["perplexity", Fixtures.modelPath], "needs --text"),
            (["perplexity", Fixtures.modelPath, "--text", folder.appendingPathComponent("missing.txt").path], "no such file"),
            (["perplexity", Fixtures.modelPath, "--text", empty.path], "empty"),
            (["perplexity", Fixtures.modelPath, "--text", binary.path], "not valid UTF-8"),
            (["perplexity", Fixtures.modelPath, "--text", text.path, "--window", "1"], "--window must be an integer"),
            (["perplexity", Fixtures.modelPath, "--text", text.path, "--window", "100000"], "larger than the model's context"),
            (["perplexity", Fixtures.modelPath, "--text", text.path], "fewer than one window"),
        ]
        for (arguments, message) in cases {
            let result = try surgery(arguments)
            #expect(result.status == 2, "\(arguments)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            #expect(result.stdout.isEmpty, "\(arguments)")
        }
    }

    /// A calibration text that is empty fails before the model loads; one shorter than the tokens
    /// asked for fails before any evaluation or surgery, naming both counts.
    @Test func calibrationText() throws {
        let folder = try temporaryFolder()
        let empty = folder.appendingPathComponent("empty.txt")
        try Data().write(to: empty)
        let short = folder.appendingPathComponent("short.txt")
        try Data(String(repeating: "A short calibration text. ", count: 40).utf8).write(to: short)
        let wiki = Fixtures.sharedData + "/wikitext-2-test.txt"
        let run = ["run", Fixtures.modelPath, "--targets", "k,v", "--basis", "activations", "--rank", "8"]
        let emptyRun = try surgery(run + ["--calibration", empty.path])
        #expect(emptyRun.status == 2 && emptyRun.stderr.contains("--calibration \(empty.path): the file is empty"), "\(emptyRun.stderr)")
        #expect(!emptyRun.stderr.contains("loading"))
        let shortRun = try surgery(run + ["--text", wiki, "--windows", "1", "--calibration", short.path])
        #expect(shortRun.status == 2, "\(shortRun.stderr)")
        #expect(shortRun.stderr.contains("fewer than the 16384 asked for"), "\(shortRun.stderr)")
        #expect(shortRun.stdout.isEmpty && !shortRun.stderr.contains("base model"))
    }

    /// The surgery options are parsed here, not in the library: every malformed value names its flag,
    /// exits with status 2 before the model is loaded, and writes nothing to stdout.
    @Test func surgeryOptions() throws {
        let out = try temporaryFolder().appendingPathComponent("sweep").path
        let cases: [([String], String)] = [
            (["run", "--targets", "q,x"], "--targets: unknown target \"x\" (expected any of q, k, v, o, gate, up, down)"),
            (["run", "--targets", "q,,v"], "--targets: unknown target \"\""),
            (["run", "--targets", "k,q,k"], "--targets: target \"k\" is listed twice"),
            (["run", "--targets", "  "], "--targets is empty"),
            (["run", "--mode", "shared"], "--mode: unknown mode \"shared\" (expected one of separate, shared-kv, shared-kv-layers)"),
            (["run", "--mode", "separate:3"], "--mode: unknown mode \"separate:3\""),
            (["run", "--mode", "shared-kv-layers:x"], "must be a positive integer"),
            (["run", "--mode", "shared-kv", "--layer-group", "4"], "--layer-group only applies to mode shared-kv-layers, not shared-kv"),
            (["run", "--mode", "shared-kv-layers", "--layer-group", "0"], "--layer-group must be an integer in 1…"),
            (["sweep", "--modes", "separate,shared-kv", "--layer-group", "4", "--out", out],
             "--layer-group only applies to mode shared-kv-layers, not separate,shared-kv"),
            (["run", "--centring", "mean"], "--centring: unknown centring \"mean\" (expected one of pca, seed, none)"),
            (["sweep", "--centrings", "pca,mean", "--out", out], "--centrings: unknown centring \"mean\""),
            (["sweep", "--variances", "0.9,abc", "--out", out], "--variances must be a number, got \"abc\""),
            (["sweep", "--variances", "0.9,1.5", "--out", out], "variance threshold 1.5 is outside (0, 1]"),
            (["sweep", "--variances", "", "--out", out], "--variances is empty"),
            (["run", "--variance", "0.9", "--rank", "3"], "give one of --variance, --rank and --kv-budget (found --variance 0.9 and --rank 3)"),
            (["run", "--targets", "k,v", "--kv-budget", "0"], "KV-cache budget 0.0 is outside (0, 1]"),
            (["run", "--targets", "k,v", "--kv-budget", "1.5"], "KV-cache budget 1.5 is outside (0, 1]"),
            (["run", "--kv-budget", "0.5"], "a KV-cache budget sets the ranks of k and v; q is not in the KV cache"),
            (["run", "--basis", "activation"], "--basis: unknown basis \"activation\" (expected weights or activations)"),
            (["run", "--basis", "activations", "--centring", "seed"], "centring seed has no meaning for the activation basis"),
            (["run", "--basis", "activations", "--mode", "shared-kv-layers"], "the activation basis has no basis shared across layers"),
            (["run", "--basis", "activations", "--targets", "k,o", "--mode", "separate"], "the activation basis covers q, k and v"),
            (["run", "--kv-balance"], "--kv-balance needs --basis activations"),
            (["run", "--basis", "activations", "--kv-balance", "--mode", "separate"], "K/V balance scales K against V within one shared basis"),
            (["run", "--calibration", "self"], "--calibration and --calibration-tokens need --basis activations or a --kv-budget allocation"),
            (["run", "--uniform", "--rank", "4"], "--uniform goes with --kv-budget"),
            (["run", "--basis", "activations", "--calibration", "/nonexistent/calibration.txt"], "--calibration /nonexistent/calibration.txt: no such file"),
            (["run", "--basis", "activations", "--calibration-tokens", "8"], "--calibration-tokens must be an integer in 16…"),
            (["sweep", "--bases", "weights,pca", "--out", out], "--bases: unknown basis \"pca\""),
            (["sweep", "--ranks", "4,x", "--out", out], "--ranks: \"x\" is not a positive integer"),
            (["run", "--variance", "ninety"], "--variance must be a number, got \"ninety\""),
            (["run", "--variance", "0"], "variance threshold 0.0 is outside (0, 1]"),
            (["run", "--variance", "1.0000001"], "variance threshold 1.0000001 is outside (0, 1]"),
            (["run", "--rank", "0"], "--rank must be an integer in 1…"),
            (["run", "--targets", "q,k", "--mode", "shared-kv"], "mode shared-kv shares one basis between k and v, but the targets are q,k"),
            (["run", "--targets", "k,v", "--mode", "separate", "--latent"], "--latent needs K and V sharing one basis"),
            (["compress", "--targets", "q", "--mode", "separate", "--factored", "--out", out], "--factored needs K and V sharing one basis"),
        ]
        for (arguments, message) in cases {
            let result = try surgery(arguments + [Fixtures.modelPath])
            #expect(result.status == 2, "\(arguments)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            #expect(result.stdout.isEmpty, "\(arguments)")
            #expect(!result.stderr.contains("loading"), "\(arguments): parsed after the model was loaded")
        }
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func generateArguments() throws {
        let cases: [([String], String)] = [
            (["generate", Fixtures.modelPath], "needs --prompt"),
            (["generate", Fixtures.modelPath, "--prompt", "Hi", "--top-p", "0"], "--top-p must be a number in (0.0, 1.0]"),
            (["generate", Fixtures.modelPath, "--prompt", "Hi", "--temperature", "-1"], "--temperature"),
            (["generate", Fixtures.modelPath, "--prompt", "Hi", "--max-tokens", "zero"], "--max-tokens"),
        ]
        for (arguments, message) in cases {
            let result = try surgery(arguments)
            #expect(result.status == 2, "\(arguments)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
    }
}

@Suite struct GenerateCommandTests {
    /// transformers' greedy continuation of the same prompt (Tests/Fixtures/model/smollm2.json).
    @Test func greedyContinuation() throws {
        let result = try surgery(["generate", Fixtures.modelPath, "--prompt", "The capital of France is", "--max-tokens", "40"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "The capital of France is Paris.\n\nThe answer is: 2018-01-22 12:12:53.\n")
    }

    /// The same seed gives the same sample; another seed (almost surely) another one.
    @Test func seededSamplingIsRepeatable() throws {
        let arguments = ["generate", Fixtures.modelPath, "--prompt", "Once upon a time", "--max-tokens", "12",
                         "--temperature", "0.9", "--top-p", "0.95", "--seed", "7"]
        let first = try surgery(arguments), second = try surgery(arguments)
        #expect(first.status == 0)
        #expect(first.stdout == second.stdout)
    }
}
