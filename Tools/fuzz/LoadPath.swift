// The whole load path a user's command runs — open the checkpoint, decode its weights, build its
// tokenizer — plus a round trip through the tokenizer and one forward step, under an allocation
// budget. A thrown error is a clean outcome; anything that stops the process is a finding.
#if canImport(Glibc)
import Glibc
#endif
import Llama

enum Outcome {
    case loaded
    /// The error's type and case, e.g. "GGUFError.tensorDataPastEnd".
    case error(kind: String, message: String)
}

/// Text the loaded tokenizer encodes and decodes: ASCII, digits, a special token, two- to four-byte UTF-8.
private let sample = "Hello world 123 <|im_start|> ü 日本 🙂\n\t end"

func loadPath(_ path: String, budget: AllocationBudget?) -> Outcome {
    budget?.impose()
    defer { budget?.lift() }
    do {
        let loaded = try LoadedModel(path: path)
        let ids = loaded.tokenizer.encode(sample)
        _ = try loaded.tokenizer.decode(ids)
        _ = loaded.model.logits([min(1, loaded.model.config.vocabSize - 1)])
        return .loaded
    } catch {
        return .error(kind: errorKind(error), message: "\(error)")
    }
}

/// "GGUFError.truncated": the error's type and, for an enum, its case.
func errorKind(_ error: any Error) -> String {
    let label = Mirror(reflecting: error).children.first?.label ?? "\(error)".prefix(40).description
    return "\(type(of: error)).\(label)"
}

// MARK: - Allocation budget

/// How much more address space a case may take than the process had before it: a fixed allowance
/// (the runtime, thread stacks, and the RoPE tables of the longest context a config may declare:
/// 2²⁰ positions × 16 floats of the tiny model's head dim = 64 MiB) plus a multiple of the bytes of
/// the files it reads (dequantizing Q4 to Float takes ~7× the file; JSON parsing a few ×). An allocation past it fails
/// and the runtime stops the process ("Could not allocate memory"): the driver reports it.
/// Linux only (`RLIMIT_AS`); elsewhere no budget is imposed.
struct AllocationBudget {
    static let fixedAllowance = 128 << 20
    static let perInputByte = 32

    let bytes: Int

    /// The budget of a case whose files hold `input` bytes in all.
    init(forInput input: Int) {
        bytes = Self.fixedAllowance + Self.perInputByte * input
    }

    func impose() {
        #if os(Linux)
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_AS.rawValue), &limit)
        limit.rlim_cur = rlim_t(currentAddressSpace() + bytes)
        setrlimit(Int32(RLIMIT_AS.rawValue), &limit)
        #endif
    }

    func lift() {
        #if os(Linux)
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_AS.rawValue), &limit)
        limit.rlim_cur = limit.rlim_max
        setrlimit(Int32(RLIMIT_AS.rawValue), &limit)
        #endif
    }

    /// The process's mapped address space now (the first field of /proc/self/statm, in pages).
    private func currentAddressSpace() -> Int {
        #if os(Linux)
        let fd = open("/proc/self/statm", O_RDONLY)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = read(fd, &buffer, 64)
        guard n > 0 else { return 0 }
        let pages = buffer[..<n].prefix { $0 != UInt8(ascii: " ") }.reduce(0) { $0 * 10 + Int($1 - 48) }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
        #else
        return 0
        #endif
    }
}
