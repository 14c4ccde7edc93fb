// The `surgery` command: parses arguments, calls the library, prints results. Exit status 0 on
// success, 2 on bad input (usage, unreadable or invalid files), 1 on an unexpected failure.
import Llama
import Surgery
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

let commands: [String: (inout Arguments) throws -> Void] = [
    "inspect": runInspect,
    "generate": runGenerate,
    "perplexity": runPerplexity,
    "run": runStudy,
    "sweep": runSweep,
    "spectrum": runSpectrum,
    "compress": runCompress,
]
let flagNames: Set<String> = ["json", "chat", "help", "details", "kv-balance", "uniform", "quiet", "latent", "factored"]
/// The options that take a value: every other `--name` the usage text lists.
let optionNames = optionsListed(in: usage).subtracting(flagNames)

@MainActor
func main() -> Int32 {
    var raw = Array(CommandLine.arguments.dropFirst())
    guard let name = raw.first else {
        writeStandardError(usage + "\n")
        return 2
    }
    if name == "--help" || name == "-h" || name == "help" {
        print(usage)
        return 0
    }
    if name == "--version" {
        print(Build.description)
        return 0
    }
    raw.removeFirst()
    guard let command = commands[name] else {
        printError("unknown command \"\(name)\"\n\n\(usage)")
        return 2
    }
    if raw.contains("--help") || raw.contains("-h") {
        print(usage)
        return 0
    }
    if !Build.fastKernels { printAlways(Build.slowBuildWarning) }
    do {
        var arguments = try Arguments(raw, flagNames: flagNames, optionNames: optionNames)
        try readGlobalOptions(&arguments)
        try command(&arguments)
        return 0
    } catch let error as UsageError {
        printError("\(error.description)\nrun `surgery --help` for the options")
        return 2
    } catch {
        printError(errorReason(error))
        return isBadInput(error) ? 2 : 1
    }
}

/// Errors that describe what was wrong with the arguments or the files given (exit status 2);
/// anything else (a failing disk, a numerical breakdown) is an unexpected failure (status 1).
func isBadInput(_ error: Error) -> Bool {
    error is CheckpointError || error is GGUFError || error is SafetensorsError || error is FileAccessError
        || error is TokenizerError || error is ChatTemplateError || error is SurgeryError || error is ExportError
        || error is EvaluationError || error is MissingTokenizer
}

func printError(_ message: String) {
    printAlways("surgery: error: \(message)")
}

exit(main())
