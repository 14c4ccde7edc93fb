// The CLI at 7B size: each command a child process of `surgery` on the Llama-2-7B-shaped folder
// (Tools/make-7b-shaped-model.sh writes it to ~/.cache/surgery/llama2-7b-shaped; $SURGERY_BIG_MODEL
// moves it), its wall time and peak resident memory (wait4 ru_maxrss) beside the goal: every
// command within the machine's 24 GiB. Runs only when asked (`Benchmarks big`).
//
// Weights decoded to f32 would take 27 GB, more than the machine has, so the children are watched
// (ChildProcess.swift): killed at 21 GiB resident, when the machine has under 1 GiB available, or
// after 20 minutes (120 for compress: 64 groups of 4096-wide matrices, then 13.5 GB written; it took
// 1 h 18 min here), and the row says so.
import Foundation
import TestSupport

func runBigBenchmarks() {
    let model = ProcessInfo.processInfo.environment["SURGERY_BIG_MODEL"]
        ?? NSHomeDirectory() + "/.cache/surgery/llama2-7b-shaped"
    guard FileManager.default.fileExists(atPath: model + "/config.json") else {
        print("big: no model at \(model) (run Tools/make-7b-shaped-model.sh)")
        return
    }
    guard let surgery = surgeryExecutable else {
        print("big: no surgery binary beside this one (swift build first)")
        return
    }
    let text = Fixtures.sharedData + "/wikitext-2-test.txt"
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("surgery-big-\(getpid())").path
    try? FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: scratch) }

    let commands: [(name: String, arguments: [String], minutes: Double)] = [
        ("inspect", ["inspect", model], 20),
        ("spectrum --targets k", ["spectrum", model, "--targets", "k", "--out", scratch + "/spectrum"], 20),
        ("compress --variance 0.9", ["compress", model, "--variance", "0.9", "--out", scratch + "/compressed"], 120),
        ("perplexity --windows 1", ["perplexity", model, "--text", text, "--windows", "1"], 20),
        ("generate --max-tokens 16", ["generate", model, "--prompt", "The capital of France is", "--max-tokens", "16"], 20),
    ]
    let watch = ChildWatch.default
    print("big (Llama-2-7B-shaped, \(format(Double(fileOrFolderBytes(model)) / 1e9, digits: 2)) GB of bf16 at \(model); "
          + "children killed at \(gibibytes(watch.residentLimit, digits: 0)) GiB resident or after "
          + "20 min (compress 120); goal: peak within the machine's 24 GiB)")
    print("  command | result | wall s | peak RSS GiB | goal ≤ 24 GiB | last line (stdout; stderr when it failed)")
    for (name, arguments, minutes) in commands {
        var limited = watch
        limited.timeLimit = minutes * 60
        let child = runChild(surgery, arguments, watch: limited)   // not --quiet: stderr's last line says where it was
        let peak = child.peakResidentBytes
        let goal = child.succeeded ? (peak <= 24 << 30 ? "met" : "not met") : "not met"
        let lastLine = (child.succeeded ? child.stdout : child.stderr)
            .split(separator: "\n").last.map { String($0.prefix(120)) } ?? ""
        print("  " + [name, child.endingDescription, format(child.seconds, digits: 1), gibibytes(peak, digits: 2),
                      goal, lastLine].joined(separator: " | "))
        try? FileManager.default.removeItem(atPath: scratch + "/compressed")
    }
}
