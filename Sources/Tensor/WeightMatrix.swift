// A weight matrix kept the way its file stores it (F32, F16, BF16 or a GGML block quantization),
// usually inside a memory mapping, so loading a model decodes nothing and a decode step reads the
// file's bytes. WeightGEMM.swift multiplies by it; `decoded()` gives Float for whoever needs values.

/// A row-major matrix (rows × columns, PyTorch's `[out, in]` for a projection) in `encoding`.
/// Each row is a whole number of blocks. Copies share the storage.
public struct WeightMatrix: @unchecked Sendable {
    public let rows: Int
    public let columns: Int
    public let encoding: WeightEncoding
    private let storage: Storage

    private enum Storage {
        case floats(Tensor)                                     // owned Float values
        case bytes(UnsafeRawBufferPointer, owner: AnyObject?)   // raw bytes kept alive by `owner`
    }

    /// A Float matrix; the tensor (rank 2) is shared, not copied.
    public init(_ tensor: Tensor) {
        precondition(tensor.rank == 2, "a weight matrix needs a rank-2 tensor, got shape \(tensor.shape)")
        rows = tensor.shape[0]
        columns = tensor.shape[1]
        encoding = .f32
        storage = .floats(tensor)
    }

    /// A view of `bytes` (owned by `owner`, for example a memory mapping). The caller has checked
    /// that `columns` is a whole number of blocks and `bytes.count` is `rows` rows of them.
    package init(rows: Int, columns: Int, encoding: WeightEncoding, bytes: UnsafeRawBufferPointer, owner: AnyObject?) {
        precondition(columns % encoding.blockSize == 0 && bytes.count == rows * encoding.byteCount(values: columns),
                     "\(rows) × \(columns) of \(encoding) cannot have \(bytes.count) bytes")
        self.rows = rows
        self.columns = columns
        self.encoding = encoding
        storage = .bytes(bytes, owner: owner)
    }

    /// `tensor` (rank 2) rounded to `scalar` (to nearest, ties to even) and kept in that encoding:
    /// half the memory of Float for bf16 and f16.
    public init(rounding tensor: Tensor, to scalar: ScalarEncoding) {
        if scalar == .float32 { self.init(tensor); return }
        precondition(tensor.rank == 2, "a weight matrix needs a rank-2 tensor, got shape \(tensor.shape)")
        let copy = OwnedBytes(count: tensor.count * 2)
        let halves = copy.pointer.bindMemory(to: UInt16.self, capacity: tensor.count)
        for (i, value) in tensor.scalars.enumerated() {
            halves[i] = (scalar == .bfloat16 ? bfloat16Bits(from: value) : halfBits(from: value)).littleEndian
        }
        self.init(rows: tensor.shape[0], columns: tensor.shape[1], encoding: WeightEncoding(scalar),
                  bytes: UnsafeRawBufferPointer(start: copy.pointer, count: tensor.count * 2), owner: copy)
    }

    public var shape: [Int] { [rows, columns] }

    /// Bytes of one row in `encoding`.
    public var rowBytes: Int { encoding.byteCount(values: columns) }

    /// Bytes the matrix occupies (in memory, or in its mapping).
    public var byteCount: Int { rows * rowBytes }

    /// The Float tensor behind a matrix made from one, without copying.
    package var floats: Tensor? {
        if case .floats(let t) = storage { return t }
        return nil
    }

    /// Runs `body` with the stored bytes (for a Float matrix, its scalars).
    package func withBytes<R>(_ body: (UnsafeRawPointer) throws -> R) rethrows -> R {
        switch storage {
        case .floats(let t): return try t.scalars.withUnsafeBytes { try body($0.baseAddress ?? UnsafeRawPointer(bitPattern: 64)!) }
        case .bytes(let b, _): return try body(b.baseAddress ?? UnsafeRawPointer(bitPattern: 64)!)
        }
    }

    /// Decodes rows `[first, first + count)` into `output` (count × columns Floats), exactly as
    /// `dequantizeBlocks` does.
    public func decodeRows(_ first: Int, count: Int, into output: UnsafeMutablePointer<Float>) {
        precondition(first >= 0 && count >= 0 && first + count <= rows, "rows \(first)..<\(first + count) outside \(rows)")
        if count == 0 { return }
        withBytes { base in
            dequantizeBlocks(encoding, from: base + first * rowBytes, blockCount: count * columns / encoding.blockSize,
                             into: output)
        }
    }

    /// Decodes the values of rows `rows` and columns `columns` (both ends on block boundaries) into
    /// `output`, row-major (rows.count × columns.count), exactly as `dequantizeBlocks` does.
    package func decode(rows: Range<Int>, columns: Range<Int>, into output: UnsafeMutablePointer<Float>) {
        let blockSize = encoding.blockSize
        precondition(rows.lowerBound >= 0 && rows.upperBound <= self.rows && columns.lowerBound >= 0
                     && columns.upperBound <= self.columns && columns.lowerBound % blockSize == 0
                     && columns.count % blockSize == 0,
                     "rows \(rows), columns \(columns) are not whole blocks of a \(self.rows) × \(self.columns) \(encoding) matrix")
        if columns.isEmpty { return }
        withBytes { base in
            let first = encoding.byteCount(values: columns.lowerBound), blocks = columns.count / blockSize
            for (i, row) in rows.enumerated() {
                dequantizeBlocks(encoding, from: base + row * rowBytes + first, blockCount: blocks,
                                 into: output + i * columns.count)
            }
        }
    }

    /// Calls `body` with the values in row order, whole rows of about 64K values decoded at a time
    /// (a Float matrix: all at once, unchopped), and the index of the first value passed.
    package func forEachDecodedChunk(_ body: (ArraySlice<Float>, Int) throws -> Void) rethrows {
        if let t = floats { return try body(t.scalars[...], 0) }
        let chunkRows = max(1, 65_536 / max(1, columns))
        var chunk = [Float](repeating: 0, count: chunkRows * columns)
        var row = 0
        while row < rows {
            let n = min(chunkRows, rows - row)
            chunk.withUnsafeMutableBufferPointer { decodeRows(row, count: n, into: $0.baseAddress!) }
            try body(chunk[0..<(n * columns)], row * columns)
            row += n
        }
    }

    /// All values as a Float tensor (for a Float matrix, its own tensor, shared). Large matrices are
    /// decoded a range of rows per core.
    public func decoded() -> Tensor {
        if let t = floats { return t }
        let chunkRows = max(1, 65_536 / max(1, columns))
        let chunks = (rows + chunkRows - 1) / chunkRows
        let scalars = [Float](unsafeUninitializedCapacity: rows * columns) { buffer, initialized in
            if let out = buffer.baseAddress {
                let shared = SharedPointer(out)
                parallelFor(chunks) { chunk in
                    let first = chunk * chunkRows
                    self.decodeRows(first, count: min(chunkRows, self.rows - first), into: shared.base + first * self.columns)
                }
            }
            initialized = rows * columns
        }
        return Tensor(shape: shape, scalars: scalars)
    }

    /// The matrix whose row i is row `order[i]` of this one, in the same encoding (an owned copy).
    package func gatheringRows(_ order: [Int]) -> WeightMatrix {
        precondition(order.count == rows && order.allSatisfy { (0..<rows).contains($0) }, "row order is not a permutation")
        if let t = floats {
            var out = [Float](repeating: 0, count: rows * columns)
            for (to, from) in order.enumerated() {
                for c in 0..<columns { out[to * columns + c] = t.scalars[from * columns + c] }
            }
            return WeightMatrix(Tensor(shape: shape, scalars: out))
        }
        let copy = OwnedBytes(count: byteCount)
        withBytes { base in
            for (to, from) in order.enumerated() {
                (copy.pointer + to * rowBytes).copyMemory(from: base + from * rowBytes, byteCount: rowBytes)
            }
        }
        return WeightMatrix(rows: rows, columns: columns, encoding: encoding,
                            bytes: UnsafeRawBufferPointer(start: copy.pointer, count: byteCount), owner: copy)
    }
}

/// Bytes this process allocated and frees with its owner.
private final class OwnedBytes: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    init(count: Int) { pointer = .allocate(byteCount: max(1, count), alignment: 64) }
    deinit { pointer.deallocate() }
}
