// Timing and the peers run in the same process tree: a median of several runs, and Python
// (numpy, scikit-learn, PyTorch) from the reference venv when it exists, else python3.
import Foundation

/// The middle value (the upper of the two middle ones for an even count).
func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

/// Median wall time in seconds of `runs` runs of `body` (at least one).
func medianSeconds(runs: Int, _ body: () -> Void) -> Double {
    var times: [Double] = []
    for _ in 0..<max(runs, 1) {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return median(times)
}

/// The Python with numpy/scikit-learn/torch: the reference venv if it was built, else python3.
var pythonForPeers: String {
    let venv = NSHomeDirectory() + "/.cache/surgery/reference-venv/bin/python"
    return FileManager.default.isExecutableFile(atPath: venv) ? venv : "/usr/bin/env"
}

/// Runs a Python script with `arguments` (its `sys.argv[1:]`) and returns its stdout, or nil if
/// Python is missing or the script failed (a missing peer is printed as missing, never an error).
func runPython(_ script: String, arguments: [String] = []) -> String? {
    let process = Process()
    let python = pythonForPeers
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = (python == "/usr/bin/env" ? ["python3"] : []) + ["-c", script] + arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { return nil }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { return nil }
    return String(decoding: data, as: UTF8.self)
}

func format(_ value: Double, digits: Int = 1) -> String {
    String(format: "%.\(digits)f", value)
}
