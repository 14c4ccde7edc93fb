// Traps cannot be caught inside a Swift process, so cases run in worker processes (this executable,
// `fuzz worker`), a range of cases each, `--jobs` at a time. A worker prints one line per finished
// case. When a worker dies, the first case it did not report is the one that stopped it; when it
// reports nothing for `--case-timeout` seconds, that case hangs and the worker is killed. Either
// way the case is replayed alone (`fuzz case`) to record its message, and a new worker carries on
// after it.
import Foundation

struct RunOptions {
    var cases = 20_000
    var seed: UInt64 = 1
    var jobs = ProcessInfo.processInfo.activeProcessorCount
    var chunk = 500
    var caseTimeout = 10.0
    var fixtures = defaultFixtures
    var errorKinds = 12
}

/// A case that stopped or stalled its process.
struct Finding {
    enum Kind: String { case trap, hang, overBudget = "over the allocation budget" }
    let index: Int
    let kind: Kind
    let description: String
    let message: String
}

struct Tally {
    var loaded = 0
    var errors: [String: Int] = [:]
    var findings: [Finding] = []
    /// Microseconds per reported case, and the slowest case.
    var micros: [Int] = []
    var slowest: (index: Int, micros: Int) = (0, 0)

    var errorCount: Int { errors.values.reduce(0, +) }

    mutating func record(line: Substring) -> Int? {
        let parts = line.split(separator: "\t", omittingEmptySubsequences: false)
        guard parts.count >= 4, let index = Int(parts[0]), let us = Int(parts[3]) else { return nil }
        if parts[1] == "loaded" { loaded += 1 } else { errors[String(parts[2]), default: 0] += 1 }
        micros.append(us)
        if us > slowest.micros { slowest = (index, us) }
        return index
    }
}

/// One worker process and what it has reported.
private final class Worker {
    let process: Process
    let output: FileHandle
    let range: Range<Int>
    var next: Int
    var lastHeard: Date
    var buffer: [UInt8] = []

    init(range: Range<Int>, options: RunOptions) throws {
        self.range = range
        next = range.lowerBound
        lastHeard = Date()
        process = Process()
        process.executableURL = URL(fileURLWithPath: executablePath())
        process.arguments = ["worker", "--from", "\(range.lowerBound)", "--to", "\(range.upperBound)",
                             "--seed", "\(options.seed)", "--fixtures", options.fixtures]
        process.environment = quietCrashes()
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        output = pipe.fileHandleForReading
        try process.run()
    }
}

/// The environment for children, without the Swift runtime's backtracer: a crash prints its one
/// "Fatal error" line and stops at once instead of symbolicating for a tenth of a second.
private func quietCrashes() -> [String: String] {
    ProcessInfo.processInfo.environment.merging(["SWIFT_BACKTRACE": "enable=no"]) { $1 }
}

func executablePath() -> String {
    #if os(Linux)
    if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
    #endif
    return Bundle.main.executablePath ?? CommandLine.arguments[0]
}

/// Runs cases `0..<options.cases` in workers and returns what they found.
func drive(_ options: RunOptions, workspace: Workspace, progress: (Int) -> Void) throws -> Tally {
    var tally = Tally()
    var pending: [Range<Int>] = stride(from: 0, to: options.cases, by: options.chunk).map {
        $0..<min($0 + options.chunk, options.cases)
    }
    var running: [Worker] = []
    var done = 0

    func settle(_ worker: Worker, kind: Finding.Kind?) {
        // The first unreported case stopped the worker: replay it alone for its message.
        if let kind, worker.next < worker.range.upperBound {
            let c = workspace.make(worker.next, runSeed: options.seed)
            let (replayKind, message) = replay(worker.next, options: options, fallback: kind)
            tally.findings.append(Finding(index: worker.next, kind: replayKind, description: c.description, message: message))
            done += 1
            if worker.next + 1 < worker.range.upperBound { pending.insert((worker.next + 1)..<worker.range.upperBound, at: 0) }
        }
        if kind != nil { Workspace.removeLeftovers(of: worker.process.processIdentifier) }
        running.removeAll { $0 === worker }
    }

    while !pending.isEmpty || !running.isEmpty {
        while running.count < options.jobs, !pending.isEmpty { running.append(try Worker(range: pending.removeFirst(), options: options)) }
        var fds = running.map { pollfd(fd: $0.output.fileDescriptor, events: Int16(POLLIN), revents: 0) }
        _ = poll(&fds, nfds_t(fds.count), 200)
        for (worker, fd) in zip(running, fds) {
            if fd.revents != 0 {
                var chunk = [UInt8](repeating: 0, count: 1 << 16)
                let n = read(fd.fd, &chunk, chunk.count)
                if n > 0 {
                    worker.buffer += chunk[..<n]
                    worker.lastHeard = Date()
                    while let newline = worker.buffer.firstIndex(of: 10) {
                        let line = String(decoding: worker.buffer[..<newline], as: UTF8.self)
                        worker.buffer.removeSubrange(...newline)
                        if let index = tally.record(line: Substring(line)) { worker.next = index + 1; done += 1 }
                    }
                    continue
                }
                worker.process.waitUntilExit()          // end of output: the worker has exited
                let clean = worker.process.terminationReason == .exit && worker.process.terminationStatus == 0
                settle(worker, kind: clean && worker.next == worker.range.upperBound ? nil : .trap)
                progress(done)
            } else if Date().timeIntervalSince(worker.lastHeard) > options.caseTimeout {
                kill(worker.process.processIdentifier, SIGKILL)
                worker.process.waitUntilExit()
                settle(worker, kind: .hang)
            }
        }
        progress(done)
    }
    return tally
}

/// Runs case `index` alone in a child process; its message is the tail of what it printed.
private func replay(_ index: Int, options: RunOptions, fallback: Finding.Kind) -> (Finding.Kind, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executablePath())
    process.arguments = ["case", "--index", "\(index)", "--seed", "\(options.seed)", "--fixtures", options.fixtures]
    process.environment = quietCrashes()
    let log = FileManager.default.temporaryDirectory.appendingPathComponent("surgery-fuzz-replay-\(index)-\(UUID().uuidString)")
    guard FileManager.default.createFile(atPath: log.path, contents: nil), let handle = try? FileHandle(forWritingTo: log) else { return (fallback, "") }
    defer { try? FileManager.default.removeItem(at: log) }
    process.standardOutput = handle
    process.standardError = handle
    guard (try? process.run()) != nil else { return (fallback, "cannot replay") }
    let start = Date()
    while process.isRunning {
        if Date().timeIntervalSince(start) > options.caseTimeout {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            Workspace.removeLeftovers(of: process.processIdentifier)
            return (.hang, "no result within \(options.caseTimeout) s")
        }
        usleep(10_000)
    }
    Workspace.removeLeftovers(of: process.processIdentifier)
    let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
    let fatal = text.split(separator: "\n").filter { $0.contains("Fatal error") || $0.contains("allocate") }.joined(separator: "\n")
    if process.terminationReason == .uncaughtSignal {
        let kind: Finding.Kind = text.contains("failed to allocate") || text.contains("Could not allocate") ? .overBudget : .trap
        return (kind, (fatal.isEmpty ? "" : fatal + "\n") + "(signal \(process.terminationStatus))")
    }
    return (fallback, "the case exited normally when replayed alone:\n" + text.split(separator: "\n").suffix(3).joined(separator: "\n"))
}
