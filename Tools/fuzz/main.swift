// fuzz — damages real model files (GGUF, safetensors, config.json, tokenizer.json, a sharded
// folder's index) and runs the whole load path on each, counting clean errors, successes, traps,
// hangs and allocations over budget. See README.md.
//
//   fuzz [--cases N] [--seed S] [--jobs J] [--chunk C] [--case-timeout SEC] [--fixtures DIR] [--error-kinds N]
//   fuzz case --index I [--seed S] [--keep DIR] [--fixtures DIR]
//   fuzz worker --from A --to B [--seed S] [--fixtures DIR]      (run by the driver)
import Foundation

let usage = """
    usage: fuzz [--cases N] [--seed S] [--jobs J] [--chunk C] [--case-timeout SEC] [--fixtures DIR] [--error-kinds N]
           fuzz case --index I [--seed S] [--keep DIR] [--fixtures DIR]
      --cases N          cases to run (default 20000)
      --seed S           the run's seed; case i of seed S is always the same damage (default 1)
      --jobs J           worker processes at a time (default: the number of cores)
      --chunk C          cases per worker process (default 500)
      --case-timeout SEC a case that takes longer is a hang (default 10)
      --fixtures DIR     Tests/Fixtures to read the seed files from (default: this checkout's)
      --error-kinds N    how many kinds of clean error the summary lists (default 12)
      case --index I     runs case I alone in this process and says what it did and what happened;
                         --keep DIR also writes the damaged model folder to DIR
    Exit status: 0 when no case trapped, hung or went over the allocation budget; 1 otherwise; 2 on bad usage.

    """

/// Writes to stdout at once (unbuffered), so that what a case printed survives its trap.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n" + usage).utf8))
    exit(2)
}

var arguments = Array(CommandLine.arguments.dropFirst())
let command = arguments.first.flatMap { ["case", "worker"].contains($0) ? $0 : nil }
if command != nil { arguments.removeFirst() }

var options = RunOptions()
var index: Int?, from = 0, to = 0, keep: String?
while !arguments.isEmpty {
    let flag = arguments.removeFirst()
    guard !arguments.isEmpty else { fail("\(flag) needs a value") }
    let value = arguments.removeFirst()
    func int() -> Int {
        guard let n = Int(value), n >= 0 else { fail("\(flag) \(value): expected a non-negative integer") }
        return n
    }
    switch flag {
    case "--cases": options.cases = int()
    case "--seed": options.seed = UInt64(int())
    case "--jobs": options.jobs = max(1, int())
    case "--chunk": options.chunk = max(1, int())
    case "--case-timeout":
        guard let seconds = Double(value), seconds > 0 else { fail("--case-timeout \(value): expected seconds") }
        options.caseTimeout = seconds
    case "--fixtures": options.fixtures = value
    case "--error-kinds": options.errorKinds = int()
    case "--index": index = int()
    case "--from": from = int()
    case "--to": to = int()
    case "--keep": keep = value
    default: fail("unknown option \(flag)")
    }
}

let workspace: Workspace
do { workspace = try Workspace(fixtures: options.fixtures) } catch {
    fail("cannot set up the seed files from \(options.fixtures): \(error)")
}

/// Every unmutated seed must load: otherwise the harness, not the parsers, is broken. This also
/// starts the threads and fills the caches the load path uses, before any budget is imposed.
func checkSeeds(_ workspace: Workspace) {
    for s in workspace.seeds.indices where workspace.seeds[s].seed.name != "gguf-metadata" {
        if case .error(_, let message) = loadPath(workspace.openPath(s), budget: nil) {
            workspace.remove()
            fail("seed \(workspace.seeds[s].seed.name) does not load unmutated: \(message)")
        }
    }
}

/// Test hooks that check the harness itself: case `SURGERY_FUZZ_TRAP=I` traps and case
/// `SURGERY_FUZZ_HANG=I` never ends, so a test can see the driver find and name both.
func plantFaults(_ index: Int) {
    let environment = ProcessInfo.processInfo.environment
    if environment["SURGERY_FUZZ_TRAP"] == "\(index)" { fatalError("planted trap in case \(index)") }
    if environment["SURGERY_FUZZ_HANG"] == "\(index)" { while true { sleep(60) } }
}

switch command {
case "worker":
    checkSeeds(workspace)
    for i in from..<to {
        let c = workspace.make(i, runSeed: options.seed)
        let start = DispatchTime.now().uptimeNanoseconds
        plantFaults(i)
        let outcome = (try? workspace.run(c, budgeted: true)) ?? .error(kind: "fuzz.cannotWriteCase", message: "")
        let micros = (DispatchTime.now().uptimeNanoseconds - start) / 1000
        var line = "\(i)\t"
        switch outcome {
        case .loaded: line += "loaded\t-"
        case .error(let kind, _): line += "error\t\(kind)"
        }
        say(line + "\t\(micros)")                                 // the driver counts these lines
    }
    workspace.remove()

case "case":
    guard let index else { fail("case needs --index I") }
    checkSeeds(workspace)
    let c = workspace.make(index, runSeed: options.seed)
    say("case \(index) of seed \(options.seed): \(c.description)")
    if let keep {
        try workspace.keep(c, in: keep)
        say("damaged model written to \(keep) (open \(workspace.seeds[c.seed].seed.opens ?? "the folder"))")
    }
    plantFaults(index)
    switch try workspace.run(c, budgeted: true) {
    case .loaded: say("loaded")
    case .error(let kind, let message): say("clean error \(kind): \(message)")
    }
    workspace.remove()

default:
    checkSeeds(workspace)
    let clock = Date()
    let terminal = isatty(STDERR_FILENO) != 0
    var shown = -1
    let tally = try drive(options, workspace: workspace) { done in
        let step = max(1, options.cases / 20)
        guard done / step != shown / step || (terminal && done != shown) else { return }
        shown = done
        let line = "fuzz: \(done)/\(options.cases) cases"
        FileHandle.standardError.write(Data((terminal ? "\r" + line : line + "\n").utf8))
    }
    if terminal { FileHandle.standardError.write(Data("\n".utf8)) }
    let seconds = Date().timeIntervalSince(clock)
    say(report(tally, options: options, seconds: seconds))
    workspace.remove()
    exit(tally.findings.isEmpty ? 0 : 1)
}

/// The summary: counts, the commonest errors, time per case, and every finding with how to replay it.
func report(_ tally: Tally, options: RunOptions, seconds: Double) -> String {
    let sorted = tally.micros.sorted()
    func percentile(_ p: Double) -> Double {
        sorted.isEmpty ? 0 : Double(sorted[min(sorted.count - 1, Int(p * Double(sorted.count)))]) / 1000
    }
    let mean = sorted.isEmpty ? 0 : Double(sorted.reduce(0, +)) / Double(sorted.count) / 1000
    func count(_ kind: Finding.Kind) -> Int { tally.findings.filter { $0.kind == kind }.count }
    var out = "fuzz: \(options.cases) cases of seed \(options.seed) in \(String(format: "%.1f", seconds)) s on \(options.jobs) jobs\n"
    out += "  loaded        \(tally.loaded)\n"
    out += "  clean errors  \(tally.errorCount)\n"
    out += "  traps         \(count(.trap))\n"
    out += "  hangs         \(count(.hang))\n"
    out += "  over budget   \(count(.overBudget))   (address space per case ≤ \(AllocationBudget.fixedAllowance >> 20) MiB + \(AllocationBudget.perInputByte) × input bytes)\n"
    out += String(format: "  time per case: mean %.2f ms · median %.2f ms · p99 %.2f ms · max %.2f ms (case %d)\n",
                  mean, percentile(0.5), percentile(0.99), Double(tally.slowest.micros) / 1000, tally.slowest.index)
    out += "  commonest errors:\n"
    for (kind, n) in tally.errors.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }).prefix(options.errorKinds) {
        out += "    \(String(n).padding(toLength: 7, withPad: " ", startingAt: 0)) \(kind)\n"
    }
    if tally.errors.count > options.errorKinds { out += "    … \(tally.errors.count - options.errorKinds) more kinds (--error-kinds N lists more)\n" }
    for f in tally.findings.sorted(by: { $0.index < $1.index }) {
        out += "\nFINDING \(f.kind.rawValue): case \(f.index) — \(f.description)\n"
        out += "  replay: fuzz case --index \(f.index) --seed \(options.seed) --keep /tmp/case-\(f.index)\n"
        out += f.message.split(separator: "\n").map { "  | " + $0 }.joined(separator: "\n") + "\n"
    }
    return out
}
