// Options every command takes: `--threads N` (or $SURGERY_THREADS), the threads the kernels run on,
// and `--quiet`, no progress or status lines.
import Tensor
import FoundationEssentials

/// `--threads N`, else `$SURGERY_THREADS`, else every processor. Results are the same for any N.
func readGlobalOptions(_ arguments: inout Arguments) throws {
    if arguments.flag("quiet") { silenceProgress() }
    let range = 1...activeProcessorCount
    if let threads = try arguments.optionalInt("threads", in: range) {
        limitThreads(to: threads)
    } else if let text = ProcessInfo.processInfo.environment["SURGERY_THREADS"], !text.isEmpty {
        guard let threads = Int(text.trimmed), range.contains(threads) else {
            throw UsageError("SURGERY_THREADS must be an integer in 1…\(range.upperBound) (the processors), got \"\(text)\"")
        }
        limitThreads(to: threads)
    }
}
