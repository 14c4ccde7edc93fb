// A small command-line parser: one subcommand, positional arguments, `--name value`, `--name=value`
// and boolean `--flag`s. Every malformed or unknown argument is a `UsageError` that names it.

struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The parsed arguments of one command. Options are consumed as they are read, so `finish()` can
/// reject any that the command does not know.
struct Arguments {
    private(set) var positionals: [String] = []
    private var options: [String: String] = [:]
    private var flags: Set<String> = []
    private var readNames: Set<String> = []

    /// `flagNames` are the options that take no value (for example `--json`), `optionNames` those
    /// that take one. Any other `--name` is unknown, whatever follows it; a known option followed by
    /// another option has no value (`--prompt --chat`; write `--prompt=--chat` to mean the text).
    init(_ arguments: [String], flagNames: Set<String>, optionNames: Set<String>) throws {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("--"), argument.count > 2 else {
                positionals.append(argument)
                continue
            }
            var name = String(argument.dropFirst(2))
            var value: String?
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            guard flagNames.contains(name) || optionNames.contains(name) else { throw UsageError("unknown option --\(name)") }
            if flagNames.contains(name) {
                if value != nil { throw UsageError("--\(name) takes no value") }
                flags.insert(name)
                continue
            }
            if value == nil {
                guard index < arguments.count, !Self.isOption(arguments[index], flagNames.union(optionNames)) else {
                    throw UsageError("--\(name) needs a value")
                }
                value = arguments[index]
                index += 1
            }
            if options[name] != nil { throw UsageError("--\(name) is given twice") }
            options[name] = value
        }
    }

    private static func isOption(_ argument: String, _ names: Set<String>) -> Bool {
        guard argument.hasPrefix("--") else { return false }
        return names.contains(String(argument.dropFirst(2).prefix { $0 != "=" }))
    }

    mutating func flag(_ name: String) -> Bool {
        readNames.insert(name)
        return flags.contains(name)
    }

    mutating func string(_ name: String) -> String? {
        readNames.insert(name)
        return options[name]
    }

    mutating func int(_ name: String, default value: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let text = string(name) else { return value }
        guard let parsed = Int(text), range.contains(parsed) else {
            throw UsageError("--\(name) must be an integer in \(range.lowerBound)…\(range.upperBound), got \"\(text)\"")
        }
        return parsed
    }

    mutating func optionalInt(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard string(name) != nil else { return nil }
        return try int(name, default: 0, in: range)
    }

    /// A number in `range`; `openLower` excludes the lower bound, as in (0, 1].
    mutating func double(_ name: String, default value: Double, in range: ClosedRange<Double>,
                         openLower: Bool = false) throws -> Double {
        guard let text = string(name) else { return value }
        return try Self.parseDouble(text, name: name, in: range, openLower: openLower)
    }

    mutating func optionalDouble(_ name: String, in range: ClosedRange<Double>, openLower: Bool = false) throws -> Double? {
        guard let text = string(name) else { return nil }
        return try Self.parseDouble(text, name: name, in: range, openLower: openLower)
    }

    /// Any finite number, for a value whose range the library checks (and names) itself.
    mutating func optionalNumber(_ name: String) throws -> Double? {
        guard let text = string(name) else { return nil }
        return try Self.parseNumber(text, name: name)
    }

    static func parseNumber(_ text: String, name: String) throws -> Double {
        guard let parsed = Double(text), parsed.isFinite else { throw UsageError("--\(name) must be a number, got \"\(text)\"") }
        return parsed
    }

    /// A comma-separated list, for example `--variances 0.99,0.9`.
    mutating func list(_ name: String) -> [String]? {
        string(name).map { $0.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmed } }
    }

    static func parseDouble(_ text: String, name: String, in range: ClosedRange<Double>, openLower: Bool) throws -> Double {
        let interval = "\(openLower ? "(" : "[")\(range.lowerBound), \(range.upperBound)]"
        guard let parsed = Double(text), parsed.isFinite, range.contains(parsed),
              !(openLower && parsed == range.lowerBound) else {
            throw UsageError("--\(name) must be a number in \(interval), got \"\(text)\"")
        }
        return parsed
    }

    /// Rejects options and flags the command never asked for, and extra positionals.
    func finish(maxPositionals: Int) throws {
        for name in options.keys.sorted() where !readNames.contains(name) {
            throw UsageError("unknown option --\(name)")
        }
        for name in flags.sorted() where !readNames.contains(name) {
            throw UsageError("unknown option --\(name)")
        }
        if positionals.count > maxPositionals {
            throw UsageError("unexpected argument \"\(positionals[maxPositionals])\"")
        }
    }
}

/// Every `--name` in `text`: the options the usage text lists, so that one it does not list is unknown.
func optionsListed(in text: String) -> Set<String> {
    var names: Set<String> = []
    var rest = Substring(text)
    while let start = rest.firstRange(of: "--") {
        let name = rest[start.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "-" }
        if let first = name.first, first.isLetter { names.insert(String(name)) }
        rest = rest[start.upperBound...].dropFirst(name.count)
    }
    return names
}

extension String {
    var trimmed: String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}
