// Safetensors writing (F32, F16, BF16 and string metadata), laid out byte for byte as the reference
// implementation (huggingface/safetensors `serialize`, v0.8) lays it out, so the Python package
// reads exactly what was meant — the test compares the bytes with a file that package wrote.
//
//   header JSON, compact:  {"__metadata__":{…},"<name>":{"dtype":"F32","shape":[…],"data_offsets":[b,e]},…}
//   tensor order:          larger dtype first (F32, then BF16, then F16), then name (UTF-8 byte order) —
//                          every tensor starts aligned to its element size
//   padding:               spaces after the JSON, up to a multiple of 8 bytes
//   strings:               serde_json escaping: \" \\ \b \f \n \r \t, other control characters \u00xx
//
// The output goes to a temporary file in the destination's folder, which is renamed onto the
// destination only when complete: a reader never sees a partial file.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Tensor

// MARK: - Entries

/// One tensor to write: values, an existing stored tensor, or a matrix made when it is written;
/// and the dtype to store them in.
package struct SafetensorsEntry {
    enum Source {
        case values([Float])
        case stored(StoredTensor)
        case matrix(WeightMatrix)
        case deferred(() throws -> WeightMatrix)
    }

    package let name: String
    package let shape: [Int]
    package let dtype: ScalarEncoding
    let source: Source

    /// `tensor`'s values, rounded to `dtype` (to nearest, ties to even).
    package init(name: String, tensor: Tensor, dtype: ScalarEncoding) {
        self.name = name
        self.shape = tensor.shape
        self.dtype = dtype
        self.source = .values(tensor.scalars)
    }

    /// `values` with `shape`, rounded to `dtype`. The count is checked when writing.
    package init(name: String, shape: [Int], values: [Float], dtype: ScalarEncoding) {
        self.name = name
        self.shape = shape
        self.dtype = dtype
        self.source = .values(values)
    }

    /// A stored tensor, copied byte for byte when `dtype` is its own encoding (the default).
    package init(name: String, stored: StoredTensor, dtype: ScalarEncoding? = nil) {
        self.name = name
        self.shape = stored.shape
        self.dtype = dtype ?? stored.encoding
        self.source = .stored(stored)
    }

    /// A matrix in any stored encoding: its bytes copied when `dtype` is that encoding, otherwise
    /// decoded and rounded a few rows at a time while writing (never all at once).
    package init(name: String, matrix: WeightMatrix, dtype: ScalarEncoding) {
        self.name = name
        self.shape = matrix.shape
        self.dtype = dtype
        self.source = .matrix(matrix)
    }

    /// A matrix of `shape` (rows, columns) that `make` returns when the writer reaches it, written as
    /// `init(name:matrix:dtype:)` writes one; so a file can hold more than memory does at once.
    package init(name: String, shape: [Int], dtype: ScalarEncoding, make: @escaping () throws -> WeightMatrix) {
        self.name = name
        self.shape = shape
        self.dtype = dtype
        self.source = .deferred(make)
    }

    var valueCount: Int {
        switch source {
        case .values(let v): v.count
        case .stored(let s): s.count
        case .matrix(let m): m.rows * m.columns
        case .deferred: shape.reduce(1, *)
        }
    }
}

// MARK: - Header

extension SafetensorsFile {
    /// Rank of a dtype in the reference writer's ordering (its `Dtype` enum order): larger first.
    static func writeOrder(_ dtype: ScalarEncoding) -> Int {
        switch dtype {
        case .float32: 0
        case .bfloat16: 1
        case .float16: 2
        }
    }

    /// The header bytes (JSON and padding) and the entries in the order their data follow.
    package static func header(for entries: [SafetensorsEntry], metadata: [String: String]) throws(SafetensorsError)
        -> (bytes: [UInt8], ordered: [SafetensorsEntry]) {
        var seen = Set<String>()
        for entry in entries {
            guard entry.name != "__metadata__", seen.insert(entry.name).inserted else {
                throw .duplicateTensor(file: "(output)", tensor: entry.name)
            }
            guard let count = Checked.product(entry.shape), Checked.multiply(count, entry.dtype.byteCount) != nil else {
                throw .shapeOverflow(file: "(output)", tensor: entry.name, shape: entry.shape, dtype: entry.dtype.rawValue)
            }
            guard count == entry.valueCount else {
                throw .valueCountMismatch(tensor: entry.name, shape: entry.shape, expected: count, found: entry.valueCount)
            }
        }
        let ordered = entries.sorted {
            let (a, b) = (writeOrder($0.dtype), writeOrder($1.dtype))
            return a != b ? a < b : $0.name.utf8.lexicographicallyPrecedes($1.name.utf8)
        }

        var json: [UInt8] = Array("{".utf8)
        if !metadata.isEmpty {
            json += Array("\"__metadata__\":{".utf8)
            let keys = metadata.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (i, key) in keys.enumerated() {
                if i > 0 { json.append(UInt8(ascii: ",")) }
                appendJSONString(key, to: &json)
                json.append(UInt8(ascii: ":"))
                appendJSONString(metadata[key]!, to: &json)
            }
            json += Array("}".utf8)
            if !ordered.isEmpty { json.append(UInt8(ascii: ",")) }
        }
        var offset = 0
        for (i, entry) in ordered.enumerated() {
            if i > 0 { json.append(UInt8(ascii: ",")) }
            let bytes = entry.valueCount * entry.dtype.byteCount
            appendJSONString(entry.name, to: &json)
            let shape = entry.shape.map(String.init).joined(separator: ",")
            json += Array(":{\"dtype\":\"\(entry.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + bytes)]}".utf8)
            offset += bytes
        }
        json.append(UInt8(ascii: "}"))
        while json.count % 8 != 0 { json.append(UInt8(ascii: " ")) }
        return (json, ordered)
    }

    /// A JSON string as serde_json writes it.
    static func appendJSONString(_ text: String, to json: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        json.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): json += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): json += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x08: json += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x0C: json += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            case 0x0A: json += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: json += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: json += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x00..<0x20: json += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: json.append(byte)
            }
        }
        json.append(UInt8(ascii: "\""))
    }

    // MARK: - Writing

    /// Writes `entries` and `metadata` as a safetensors file at `path`, through a temporary file in
    /// the same folder renamed into place when complete. An existing file at `path` is an error
    /// unless `replacing` is true.
    package static func write(_ entries: [SafetensorsEntry], metadata: [String: String] = [:],
                             to path: String, replacing: Bool = false) throws {
        let (header, ordered) = try header(for: entries, metadata: metadata)
        if !replacing, access(path, F_OK) == 0 { throw FileAccessError.destinationExists(file: path) }

        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[..<$0]) } ?? "."
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        var template = Array("\(folder.isEmpty ? "/" : folder)/.\(base).partial-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        if fd < 0 { throw FileAccessError.cannotWrite(file: path, reason: systemErrorMessage()) }
        let temporary = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        var finished = false
        defer {
            if !finished { close(fd); unlink(temporary) }
        }

        var output = FileOutput(fd: fd, path: path)
        try output.write((0..<8).map { UInt8(truncatingIfNeeded: UInt64(header.count) >> (8 * $0)) })
        try output.write(header)
        for entry in ordered { try output.write(entry) }
        try output.flush()
        guard fsync(fd) == 0, close(fd) == 0 else {
            throw FileAccessError.cannotWrite(file: path, reason: systemErrorMessage())
        }
        finished = true
        if !replacing, access(path, F_OK) == 0 {                   // appeared while writing
            unlink(temporary)
            throw FileAccessError.destinationExists(file: path)
        }
        guard rename(temporary, path) == 0 else {
            let reason = systemErrorMessage()
            unlink(temporary)
            throw FileAccessError.cannotWrite(file: path, reason: reason)
        }
    }
}

// MARK: - Buffered output

/// Buffered writes to a file descriptor, encoding Float values to the entry's dtype on the way.
private struct FileOutput {
    let fd: Int32
    let path: String
    var buffer: [UInt8] = []
    static let capacity = 1 << 20

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
        buffer.reserveCapacity(Self.capacity)
    }

    mutating func write(_ bytes: [UInt8]) throws {
        buffer += bytes
        if buffer.count >= Self.capacity { try flush() }
    }

    mutating func write(_ entry: SafetensorsEntry) throws {
        switch entry.source {
        case .stored(let stored) where stored.encoding == entry.dtype:
            if stored.bytes.count < Self.capacity {
                buffer += stored.bytes
                if buffer.count >= Self.capacity { try flush() }
            } else {                                              // large: straight from the mapping
                try flush()
                try writeAll(stored.bytes)
            }
        case .stored(let stored):
            var chunk = [Float](repeating: 0, count: 65_536)
            var start = 0
            while start < stored.count {
                let n = min(chunk.count, stored.count - start)
                chunk.withUnsafeMutableBufferPointer { stored.decode(from: start, into: UnsafeMutableBufferPointer(rebasing: $0[0..<n])) }
                try encode(chunk[0..<n], as: entry.dtype)
                start += n
            }
        case .values(let values):
            try encode(values[...], as: entry.dtype)
        case .matrix(let matrix) where matrix.encoding == WeightEncoding(entry.dtype):
            try flush()
            try matrix.withBytes { try writeAll(UnsafeRawBufferPointer(start: $0, count: matrix.byteCount)) }
        case .matrix(let matrix):
            try matrix.forEachDecodedChunk { values, _ in try encode(values, as: entry.dtype) }
        case .deferred(let make):
            let matrix = try make()
            guard matrix.shape == entry.shape else {
                throw SafetensorsError.valueCountMismatch(tensor: entry.name, shape: entry.shape, expected: entry.valueCount,
                                                          found: matrix.rows * matrix.columns)
            }
            try write(SafetensorsEntry(name: entry.name, matrix: matrix, dtype: entry.dtype))
        }
    }

    /// Little-endian encoding: F32 as is; F16 and BF16 rounded to nearest, ties to even.
    mutating func encode(_ values: ArraySlice<Float>, as dtype: ScalarEncoding) throws {
        for value in values {
            switch dtype {
            case .float32:
                let bits = value.bitPattern
                buffer += [UInt8(truncatingIfNeeded: bits), UInt8(truncatingIfNeeded: bits >> 8),
                           UInt8(truncatingIfNeeded: bits >> 16), UInt8(truncatingIfNeeded: bits >> 24)]
            case .float16:
                let bits = halfBits(from: value)
                buffer += [UInt8(truncatingIfNeeded: bits), UInt8(truncatingIfNeeded: bits >> 8)]
            case .bfloat16:
                let bits = bfloat16Bits(from: value)
                buffer += [UInt8(truncatingIfNeeded: bits), UInt8(truncatingIfNeeded: bits >> 8)]
            }
            if buffer.count >= Self.capacity { try flush() }
        }
    }

    mutating func flush() throws {
        try buffer.withUnsafeBytes { try writeAll($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    /// `write(2)` until every byte is out (it may take several calls, or be interrupted).
    func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        var written = 0
        while written < bytes.count {
            let n = systemWrite(fd, bytes.baseAddress! + written, bytes.count - written)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileAccessError.cannotWrite(file: path, reason: systemErrorMessage())
            }
            written += n
        }
    }
}

/// POSIX `write` (named apart from `FileOutput.write`).
private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, bytes, count)
}
