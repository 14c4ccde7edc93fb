// Where the test suite finds its recorded reference values, the real model and the shared data.
// Fixtures are written by Tools/reference (independent implementations), never by this project.
import Foundation

public enum Fixtures {
    /// `Tests/Fixtures` in this checkout.
    public static let directory: String = {
        var url = URL(fileURLWithPath: #filePath)      // …/Tests/TestSupport/Fixtures.swift
        url.deleteLastPathComponent()
        url.deleteLastPathComponent()
        return url.appendingPathComponent("Fixtures").path
    }()

    /// The checkout's root (the folder holding Package.swift).
    public static let repositoryRoot: String = {
        URL(fileURLWithPath: directory).deletingLastPathComponent().deletingLastPathComponent().path
    }()

    /// `../shared/data` beside the checkout (WikiText-2 lives there).
    public static let sharedData: String = {
        URL(fileURLWithPath: repositoryRoot).deletingLastPathComponent()
            .appendingPathComponent("shared/data").path
    }()

    /// The absolute path of a fixture file, given relative to `Tests/Fixtures`.
    public static func path(_ relative: String) -> String {
        directory + "/" + relative
    }

    /// The real model: `$SURGERY_MODEL`, else the cache `make model` fills. `make test` fetches it.
    public static var modelPath: String {
        if let path = ProcessInfo.processInfo.environment["SURGERY_MODEL"], !path.isEmpty { return path }
        return NSHomeDirectory() + "/.cache/surgery/models/SmolLM2-135M-Instruct.Q4_1.gguf"
    }

    public static func data(_ relative: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: path(relative)))
    }

    /// A raw little-endian float32 array.
    public static func floats(_ relative: String) throws -> [Float] {
        let bytes = try data(relative)
        return bytes.withUnsafeBytes { raw in
            (0..<(raw.count / 4)).map { Float(bitPattern: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self).littleEndian) }
        }
    }

    /// A raw little-endian array of 16-bit patterns.
    public static func uint16s(_ relative: String) throws -> [UInt16] {
        let bytes = try data(relative)
        return bytes.withUnsafeBytes { raw in
            (0..<(raw.count / 2)).map { raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self).littleEndian }
        }
    }

    /// A raw little-endian int32 array (token ids, counts).
    public static func int32s(_ relative: String) throws -> [Int32] {
        let bytes = try data(relative)
        return bytes.withUnsafeBytes { raw in
            (0..<(raw.count / 4)).map { raw.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self).littleEndian }
        }
    }

    /// A JSON document, decoded to Foundation objects.
    public static func json(_ relative: String) throws -> Any {
        try JSONSerialization.jsonObject(with: data(relative))
    }
}
