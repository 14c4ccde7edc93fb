// Foundation's errors as the end of a sentence ("cannot read FILE: no such file"). A `CocoaError`,
// `POSIXError` or `DecodingError` describes itself as a dump of its type, code and user info; every
// place that puts a caught error into a message passes it through `errorReason` instead.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What went wrong, in lower-case words, without the file's name (the message names it):
/// "no such file", "permission denied", "not valid JSON", "key \"model.vocab\" is missing".
/// Errors of this project describe themselves already and are passed through.
package func errorReason(_ error: any Error) -> String {
    switch error {
    case let error as CocoaError: reason(error)
    case let error as POSIXError: systemReason(error.code.rawValue)
    case let error as DecodingError: reason(error)
    case let error as EncodingError: reason(error)
    default: String(describing: error)
    }
}

private func reason(_ error: CocoaError) -> String {
    switch error.code {
    case .fileNoSuchFile, .fileReadNoSuchFile: return "no such file"
    case .fileReadNoPermission, .fileWriteNoPermission: return "permission denied"
    case .fileWriteOutOfSpace: return "no space left on the device"
    case .fileWriteVolumeReadOnly: return "the file system is read-only"
    case .fileWriteFileExists: return "a file of that name exists"
    case .fileReadTooLarge: return "the file is too large to read"
    case .fileReadCorruptFile: return "the file is damaged"
    case .fileReadInapplicableStringEncoding, .fileWriteInapplicableStringEncoding: return "not text in the expected encoding"
    case .fileReadInvalidFileName, .fileWriteInvalidFileName: return "not a valid file name"
    default:
        // Foundation wraps the system's error (a POSIXError) for most of the rest, EISDIR among them.
        if let underlying = error.userInfo["NSUnderlyingError"] as? POSIXError { return systemReason(underlying.code.rawValue) }
        return "the file system refused (Foundation error \(error.code.rawValue))"
    }
}

/// strerror's message, lower-cased: "no such file or directory", "is a directory".
private func systemReason(_ code: Int32) -> String {
    let message = String(cString: strerror(code))
    return message.prefix(1).lowercased() + message.dropFirst()
}

private func reason(_ error: DecodingError) -> String {
    func key(_ context: DecodingError.Context, _ last: (any CodingKey)? = nil) -> String {
        let path = (context.codingPath + (last.map { [$0] } ?? [])).map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
        return path.reduce("") { $0.isEmpty || $1.hasPrefix("[") ? $0 + $1 : $0 + "." + $1 }
    }
    switch error {
    case .dataCorrupted(let context) where context.codingPath.isEmpty:
        return "not valid JSON"                 // the document itself (no decoder here throws at the top)
    case .dataCorrupted(let context):
        return "\"\(key(context))\": \(sentence(context.debugDescription))"
    case .keyNotFound(let missing, let context):
        return "key \"\(key(context, missing))\" is missing"
    case .typeMismatch(let type, let context):
        return "\"\(key(context))\" is not \(typeName(type))"
    case .valueNotFound(let type, let context):
        return "\"\(key(context))\" is null, expected \(typeName(type))"
    @unknown default:
        return "not the expected JSON"
    }
}

private func reason(_ error: EncodingError) -> String {
    switch error {
    case .invalidValue(_, let context): sentence(context.debugDescription)
    @unknown default: "a value cannot be encoded"
    }
}

/// Foundation's "The given data was not valid JSON." as the end of a message.
private func sentence(_ text: String) -> String {
    let trimmed = text.hasSuffix(".") ? text.dropLast() : Substring(text)
    return trimmed.prefix(1).lowercased() + trimmed.dropFirst()
}

/// `Int` → "an integer", `String` → "a string", … as a reader of a JSON file says it.
private func typeName(_ type: Any.Type) -> String {
    switch type {
    case is String.Type: "a string"
    case is Bool.Type: "true or false"
    case is Int.Type, is Int32.Type, is Int64.Type, is UInt.Type, is UInt32.Type, is UInt64.Type: "an integer"
    case is Double.Type, is Float.Type: "a number"
    default:
        "\(type)".hasPrefix("Array") ? "an array" : "\(type)".hasPrefix("Dictionary") ? "an object" : "a \(type)"
    }
}
