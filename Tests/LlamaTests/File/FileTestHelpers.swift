// Helpers for the file-format tests: a scratch folder, little-endian byte builders for handcrafted
// (mostly broken) files, fixture manifests, and bit-exact comparison.
import Foundation
import Testing
import TestSupport

// MARK: - Scratch files

/// A fresh folder under the system's temporary directory; each call gets its own.
func scratchDirectory() throws -> String {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("surgery-file-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url.path
}

/// Writes `bytes` to a new file `name` in a fresh scratch folder and returns its path.
func scratchFile(_ bytes: [UInt8], name: String = "file.bin") throws -> String {
    let path = try scratchDirectory() + "/" + name
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
}

// MARK: - Little-endian bytes

struct LittleEndianBytes {
    var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func f32(_ v: Float) { u32(v.bitPattern) }
    mutating func raw(_ b: [UInt8]) { bytes.append(contentsOf: b) }
    mutating func pad(to alignment: Int) { while bytes.count % alignment != 0 { bytes.append(0) } }

    /// GGUF string: u64 length, UTF-8 bytes.
    mutating func string(_ s: String) { u64(UInt64(s.utf8.count)); raw(Array(s.utf8)) }

    /// GGUF header: magic, version, tensor count, metadata count.
    mutating func ggufHeader(version: UInt32 = 3, tensors: UInt64, metadata: UInt64) {
        raw(Array("GGUF".utf8)); u32(version); u64(tensors); u64(metadata)
    }

    /// One GGUF tensor info: name, dims (fastest first), type id, data offset.
    mutating func ggufTensorInfo(_ name: String, dims: [UInt64], type: UInt32, offset: UInt64) {
        string(name); u32(UInt32(dims.count)); for d in dims { u64(d) }; u32(type); u64(offset)
    }
}

/// A safetensors file: u64 header length, the header text, the data bytes.
func safetensorsBytes(header: String, data: [UInt8]) -> [UInt8] {
    var b = LittleEndianBytes()
    b.u64(UInt64(header.utf8.count))
    b.raw(Array(header.utf8))
    b.raw(data)
    return b.bytes
}

// MARK: - Fixtures

/// A JSON object fixture.
func jsonObject(_ relative: String) throws -> [String: Any] {
    try #require(try Fixtures.json(relative) as? [String: Any])
}

/// `count` floats from a raw float32 fixture, starting at element `offset`.
func floatSlice(_ all: [Float], offset: Int, count: Int) -> [Float] {
    Array(all[offset..<(offset + count)])
}

/// Bit-for-bit equality of two Float arrays (distinguishes −0 from +0; NaNs must match exactly).
func bitwiseEqual(_ a: [Float], _ b: [Float]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern }
}

/// Index of the first element where two arrays differ in bits, for messages.
func firstDifference(_ a: [Float], _ b: [Float]) -> String {
    guard a.count == b.count else { return "counts \(a.count) vs \(b.count)" }
    guard let i = a.indices.first(where: { a[$0].bitPattern != b[$0].bitPattern }) else { return "none" }
    return "element \(i): \(a[i]) vs \(b[i])"
}

/// Expects `actual` to equal `expected` bit for bit; on failure reports the first difference only.
func expectBitwiseEqual(_ actual: [Float], _ expected: [Float], _ label: String,
                        sourceLocation: SourceLocation = #_sourceLocation) {
    let same = bitwiseEqual(actual, expected)
    #expect(same, "\(label): first difference \(firstDifference(actual, expected))", sourceLocation: sourceLocation)
}
