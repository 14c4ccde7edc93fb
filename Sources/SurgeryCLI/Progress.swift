// What the command is doing, on stderr (stdout holds only results). A stage — decomposing, scoring
// the base model, generating text — reports each step; on a terminal that is one line rewritten in
// place with the stage, i/n, the rate and the time left, and otherwise (a log, CI) a plain line at
// each quarter, so a log stays short. Either way a stage ends with one summary line: what it did
// and how long it took. `--quiet` silences all of it; errors and warnings are printed regardless.
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FoundationEssentials
import Surgery

/// A stage of the work: its name and what its steps are ("windows"). `tokensPerStep` turns the
/// rate into tokens per second (an evaluation window of 512 tokens). `started` is when the work
/// began; without it, the stage began when the last line before its first report was printed.
struct Stage: Equatable {
    let name: String
    let steps: String
    var tokensPerStep: Int? = nil
    var started: ContinuousClock.Instant? = nil
}

/// Reports that `done` of the stage's `total` steps are done; `item` names the last one. A call with
/// another stage, or with `done` lower than before, starts a new stage; `done >= total` ends it.
func reportProgress(_ stage: Stage, done: Int, total: Int, item: String? = nil) {
    progress.withLock { $0.report(stage, done: done, total: total, item: item) }
}

/// A line about what was done or decided ("plan: …", "wrote …"): kept in a log, silenced by `--quiet`.
func status(_ message: String) {
    progress.withLock { $0.status(message) }
}

/// A line printed whatever `--quiet` says (errors, warnings), after clearing a live progress line.
func printAlways(_ line: String) {
    progress.withLock { state in
        state.clearLine()
        writeStandardError(line + "\n")
    }
}

/// `--quiet`: no progress and no status lines.
func silenceProgress() {
    progress.withLock { $0.quiet = true }
}

private let progress = Mutex(ProgressState(terminal: isatty(2) == 1))

private struct ProgressState {
    let terminal: Bool
    var quiet = false
    private var stage: Stage?
    private var done = 0
    private var started = ContinuousClock.now
    private var drawn = ContinuousClock.now
    /// When the last line was printed: where a stage without a start of its own began.
    private var lastLine = ContinuousClock.now
    /// Whether a live line is on the screen (to be cleared before anything else is printed).
    private var lineShown = false

    init(terminal: Bool) { self.terminal = terminal }

    /// Redraw at most this often: more is flicker, not information.
    private static let redrawInterval = Duration.milliseconds(100)

    mutating func status(_ message: String) {
        guard !quiet else { return }
        clearLine()
        writeStandardError(message + "\n")
        lastLine = .now
    }

    mutating func report(_ next: Stage, done newDone: Int, total: Int, item: String?) {
        guard !quiet else { return }
        let now = ContinuousClock.now
        if stage != next || newDone < done {
            if lineShown { writeStandardError("\n") }           // an unfinished stage stays on screen as it was
            lineShown = false
            stage = next
            started = next.started ?? lastLine
            drawn = now - Self.redrawInterval
        }
        let previous = done
        done = newDone
        let elapsed = (now - started).seconds
        if newDone >= total {
            clearLine()
            writeStandardError(summary(next, total: total, seconds: elapsed) + "\n")
            lastLine = now
            stage = nil
            done = 0
            return
        }
        if terminal {
            guard now - drawn >= Self.redrawInterval else { return }
            drawn = now
            writeStandardError("\r\u{1B}[K" + fitted(line(next, total: total, item: item, seconds: elapsed)))
            lineShown = true
        } else if total > 0, 4 * newDone / total > 4 * previous / total {
            writeStandardError(line(next, total: total, item: item, seconds: elapsed) + "\n")   // each quarter
            lastLine = now
        }
    }

    /// `decomposing 12/60 · layer 3 k+v · 3.1 matrices/s · 14 s left`
    private func line(_ stage: Stage, total: Int, item: String?, seconds: Double) -> String {
        var parts = ["\(stage.name) \(done)/\(total)"]
        if let item { parts.append(item) }
        if done > 0 && seconds > 0 {
            parts.append(rate(stage, steps: done, seconds: seconds))
            parts.append(duration(seconds / Double(done) * Double(total - done)) + " left")
        }
        return parts.joined(separator: " · ")
    }

    /// `decomposing: 60 matrices in 4.2 s (14.3 matrices/s)`
    private func summary(_ stage: Stage, total: Int, seconds: Double) -> String {
        "\(stage.name): \(total) \(total == 1 ? singular(stage.steps) : stage.steps) in \(duration(seconds))"
            + (seconds > 0 && total > 0 ? " (\(rate(stage, steps: total, seconds: seconds)))" : "")
    }

    private func rate(_ stage: Stage, steps: Int, seconds: Double) -> String {
        if let tokens = stage.tokensPerStep { return "\(fixed(Double(steps * tokens) / seconds, 0)) tokens/s" }
        let perSecond = Double(steps) / seconds
        if perSecond >= 1 { return "\(fixed(perSecond, perSecond >= 10 ? 0 : 1)) \(stage.steps)/s" }
        return "\(fixed(1 / perSecond, 1)) s per \(singular(stage.steps))"
    }

    mutating func clearLine() {
        if lineShown { writeStandardError("\r\u{1B}[K") }
        lineShown = false
    }

    /// A live line must fit the terminal: a wrapped line cannot be rewritten in place.
    private func fitted(_ text: String) -> String {
        let columns = ProcessInfo.processInfo.environment["COLUMNS"].flatMap { Int($0) } ?? 80
        return text.count < columns ? text : String(text.prefix(max(10, columns - 2))) + "…"
    }
}

/// `4.2 s`, `3 min 20 s`, `1 h 5 min`.
func duration(_ seconds: Double) -> String {
    if seconds < 60 { return "\(fixed(seconds, seconds < 10 ? 1 : 0)) s" }
    let whole = Int(seconds.rounded())
    if whole < 3600 { return "\(whole / 60) min \(whole % 60) s" }
    return "\(whole / 3600) h \(whole % 3600 / 60) min"
}

/// `windows` → `window`, `matrices` → `matrix`.
private func singular(_ plural: String) -> String {
    if plural.hasSuffix("ices") { return String(plural.dropLast(4)) + "ix" }
    return plural.hasSuffix("s") ? String(plural.dropLast()) : plural
}

func writeStandardError(_ text: String) {
    writeAll(text, to: 2)
}
