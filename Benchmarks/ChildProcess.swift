// Running a program as a child process and measuring it: wall time, and peak resident memory from
// the kernel's accounting of that one child (wait4's rusage, ru_maxrss). A watch guards the machine:
// every 200 ms the child's VmRSS (/proc/PID/status) and the machine's MemAvailable (/proc/meminfo)
// are read, and the child is killed over its memory budget, when the machine runs low, or past its
// time limit — a benchmark never runs the machine out of memory.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How a child process ended and what it used.
struct ChildResult {
    enum Ending: Equatable {
        case exited(Int32)
        case signalled(Int32)
        /// Killed by the watch: VmRSS reached the budget (the bytes it read).
        case overMemoryBudget(Int)
        /// Killed by the watch: the machine's available memory fell below the floor.
        case machineMemoryLow(available: Int, resident: Int)
        case overTime(seconds: Double)
        case couldNotStart(String)
    }
    let ending: Ending
    let seconds: Double
    /// ru_maxrss of the child, in bytes (Linux reports kilobytes).
    let peakResidentBytes: Int
    let stdout: String
    let stderr: String

    var succeeded: Bool { ending == .exited(0) }

    /// One phrase for a table cell: "ok", "exit 2", "killed at 21 GiB (over budget)", …
    var endingDescription: String {
        switch ending {
        case .exited(0): "ok"
        case .exited(let code): "exit \(code)"
        case .signalled(let signal): "signal \(signal)"
        case .overMemoryBudget: "killed at \(gibibytes(ChildWatch.default.residentLimit)) GiB (over budget)"
        case .machineMemoryLow(let available, let resident):
            "killed: machine had \(gibibytes(available)) GiB available (child at \(gibibytes(resident)) GiB)"
        case .overTime(let seconds): "killed after \(format(seconds, digits: 0)) s (over time)"
        case .couldNotStart(let why): "could not start: \(why)"
        }
    }
}

/// The limits the watch enforces.
struct ChildWatch {
    /// Kill the child when its VmRSS reaches this.
    var residentLimit: Int
    /// Kill the child when the machine's MemAvailable falls below this (other work shares the machine).
    var availableFloor: Int
    var timeLimit: Double

    /// 21 GiB resident, 1 GiB kept free on the machine, 20 minutes.
    static let `default` = ChildWatch(residentLimit: 21 << 30, availableFloor: 1 << 30, timeLimit: 20 * 60)
}

/// Runs `executable` with `arguments` (stdout and stderr to temporary files, read back at the end),
/// polling every 200 ms under `watch`.
func runChild(_ executable: String, _ arguments: [String], watch: ChildWatch = .default) -> ChildResult {
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("bench-child-\(UUID().uuidString)")
    let outPath = scratch.path + ".out", errPath = scratch.path + ".err"
    defer {
        try? FileManager.default.removeItem(atPath: outPath)
        try? FileManager.default.removeItem(atPath: errPath)
    }
    func readBack() -> (String, String) {
        (String(decoding: FileManager.default.contents(atPath: outPath) ?? Data(), as: UTF8.self),
         String(decoding: FileManager.default.contents(atPath: errPath) ?? Data(), as: UTF8.self))
    }

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)

    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { for pointer in argv { free(pointer) } }
    let start = DispatchTime.now().uptimeNanoseconds
    func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
    guard spawned == 0 else {
        return ChildResult(ending: .couldNotStart(String(cString: strerror(spawned))), seconds: 0,
                           peakResidentBytes: 0, stdout: "", stderr: "")
    }

    var killedFor: ChildResult.Ending?
    while true {
        var status: Int32 = 0
        var usage = rusage()
        let waited = wait4(pid, &status, WNOHANG, &usage)
        if waited == pid {
            let seconds = elapsed()
            let (out, err) = readBack()
            let signal = status & 0x7f
            let ending = killedFor ?? (signal == 0 ? .exited((status >> 8) & 0xff) : .signalled(signal))
            return ChildResult(ending: ending, seconds: seconds, peakResidentBytes: Int(usage.ru_maxrss) * 1024,
                               stdout: out, stderr: err)
        }
        if waited < 0 && errno != EINTR {
            let (out, err) = readBack()
            return ChildResult(ending: .couldNotStart("wait4: \(String(cString: strerror(errno)))"), seconds: elapsed(),
                               peakResidentBytes: 0, stdout: out, stderr: err)
        }
        if killedFor == nil {
            let resident = residentBytes(of: pid)
            let available = availableMemoryBytes()
            if resident >= watch.residentLimit {
                killedFor = .overMemoryBudget(resident)
            } else if available > 0 && available < watch.availableFloor {
                killedFor = .machineMemoryLow(available: available, resident: resident)
            } else if elapsed() > watch.timeLimit {
                killedFor = .overTime(seconds: elapsed())
            }
            if killedFor != nil { kill(pid, SIGKILL) }
        }
        usleep(200_000)
    }
}

/// VmRSS of process `pid`, in bytes (0 when it cannot be read).
func residentBytes(of pid: pid_t) -> Int {
    procField("/proc/\(pid)/status", "VmRSS:")
}

/// The machine's MemAvailable, in bytes (0 when it cannot be read).
func availableMemoryBytes() -> Int {
    procField("/proc/meminfo", "MemAvailable:")
}

/// A "Key:\t  1234 kB" line of a /proc file, in bytes. The number is padded with spaces to 8
/// digits after the tab, so from 10 GB on nothing but the tab separates it from the key.
func procField(_ path: String, _ key: String) -> Int {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8),
          let line = text.split(separator: "\n").first(where: { $0.hasPrefix(key) }) else { return 0 }
    let fields = line.dropFirst(key.count).split(whereSeparator: { $0 == " " || $0 == "\t" })
    return (fields.first.flatMap { Int($0) } ?? 0) * 1024
}

/// The folder of this executable (the build's bin folder, where `surgery` is built too).
var buildBinFolder: String {
    let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    return URL(fileURLWithPath: me).deletingLastPathComponent().path
}

/// The `surgery` command beside this executable, or nil when it was not built.
var surgeryExecutable: String? {
    let path = buildBinFolder + "/surgery"
    return FileManager.default.isExecutableFile(atPath: path) ? path : nil
}

/// This executable (for re-running it as a child).
var benchmarksExecutable: String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
}

func gibibytes(_ bytes: Int, digits: Int = 1) -> String { format(Double(bytes) / Double(1 << 30), digits: digits) }

/// The bytes of a file, or of all files in a folder (not recursive), 0 when absent.
func fileOrFolderBytes(_ path: String) -> Int {
    let manager = FileManager.default
    var isFolder: ObjCBool = false
    guard manager.fileExists(atPath: path, isDirectory: &isFolder) else { return 0 }
    let files = isFolder.boolValue ? ((try? manager.contentsOfDirectory(atPath: path)) ?? []).map { path + "/" + $0 } : [path]
    return files.reduce(0) { $0 + ((try? manager.attributesOfItem(atPath: $1)[.size] as? Int) ?? 0) }
}
