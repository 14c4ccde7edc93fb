// y = x · Wᵀ with W a WeightMatrix in its stored encoding: the projections of the forward pass.
// The reference decodes W to Float and runs gemmReference. The fast path depends on the rows of x:
//
//   few rows (decode, a short prompt): each 32-value block of W is decoded into two SIMD16 registers
//     and multiplied straight into the accumulators (four rows of x share a decode), so a step reads
//     the file's bytes once and writes no Floats.
//     Values are decoded exactly as `dequantizeBlocks` does (same roundings), so the result equals the
//     reference up to summation order. The arithmetic stays in Float: no integer dot products against
//     quantized activations (llama.cpp's q8 path), whose rounding of x would change perplexity, and
//     which Swift cannot reach (no VNNI intrinsics; SIMD widening calls are slow, DESIGN.md).
//   many rows (prefill): the packed GEMM decodes W a piece at a time (≤ 32 rows × one depth block)
//     while packing it, so the Floats never leave L1 before they are packed; decoding is O(n·k)
//     against the GEMM's O(m·n·k).
//
//   m rows of x and y · n rows of W (outputs) · k columns of W (inputs)

// MARK: - Reference

/// y (m × n) = x (m × k) · Wᵀ, W (n × k) decoded to Float first.
package func linearReference(m: Int, x: UnsafePointer<Float>, weight w: WeightMatrix, y: UnsafeMutablePointer<Float>) {
    let dense = w.decoded()
    dense.scalars.withUnsafeBufferPointer { b in
        gemmReference(m: m, n: w.rows, k: w.columns, a: x, lda: w.columns, b: b.baseAddress!, ldb: w.columns,
                      transposeB: true, c: y, ldc: w.rows)
    }
}

// MARK: - Fast: dispatch

/// Same contract as `linearReference`: y is overwritten. Equal to it up to summation order.
package func linear(m: Int, x: UnsafePointer<Float>, weight w: WeightMatrix, y: UnsafeMutablePointer<Float>) {
    let n = w.rows, k = w.columns
    if m <= 0 || n <= 0 { return }
    if w.encoding == .f32 && w.withBytes({ Int(bitPattern: $0) % MemoryLayout<Float>.alignment == 0 }) {
        w.withBytes { base in
            gemm(m: m, n: n, k: k, a: x, lda: k, b: base.bindMemory(to: Float.self, capacity: n * k), ldb: k,
                 transposeB: true, c: y, ldc: n)
        }
    } else if m <= storedGEMVMaximumRows {
        storedGEMV(m: m, x: x, weight: w, y: y)
    } else {
        decodedGEMM(m: m, x: x, weight: w, y: y)
    }
}

// MARK: - Fast: many rows

/// The packed GEMM with W's pieces decoded as it packs them (`gemm(…decodingB:…)`): each piece of
/// ≤ 32 rows × one depth block goes from the stored bytes to Float in L1 and on into packed B.
private func decodedGEMM(m: Int, x: UnsafePointer<Float>, weight w: WeightMatrix, y: UnsafeMutablePointer<Float>) {
    // Depth blocks start on multiples of kc = 256, which every block size (1, 32 or 256) divides.
    precondition(GEMMBlocking.kc % w.encoding.blockSize == 0, "depth blocks must be whole \(w.encoding) blocks")
    gemm(m: m, n: w.rows, k: w.columns, a: x, lda: w.columns, decodingB: { j0, rows, p0, kb, piece in
        w.decode(rows: j0..<(j0 + rows), columns: p0..<(p0 + kb), into: piece)
    }, c: y, ldc: w.rows)
}

// MARK: - Fast: few rows

/// Rows of W per parallel job, about: enough work to be worth handing out (~10 µs), few enough that
/// two threads balance (`balancedJobs` evens them out).
private let gemvRowsPerJob = 64

/// Up to this many rows of x (a decode step, a short prompt), W is decoded in registers and read
/// once; more go through `decodedGEMM`. Measured on a bf16 4096² W (`Benchmarks tensor`, quiet):
/// 9, 12, 16 rows ran at 56, 62, 65 GFLOP/s here against 13, 44, 47 through `decodedGEMM`, which
/// wins from about 32 rows (76).
private let storedGEMVMaximumRows = 16

/// y (m × n) for m ≤ `storedGEMVMaximumRows`: W's rows split into jobs, each row decoded block by
/// block in registers against every row of x.
private func storedGEMV(m: Int, x: UnsafePointer<Float>, weight w: WeightMatrix, y: UnsafeMutablePointer<Float>) {
    let n = w.rows, k = w.columns
    let interleaved = w.encoding == .bf16 && k % 32 == 0
    // bf16 blocks decode as even and odd values (two halves of each 32-bit lane): x is laid out the
    // same way, per 32 values [x0, x2, …, x30, x1, x3, …, x31].
    Scratch.withFloats(interleaved ? m * k : 1) { deinterleaved in
        if interleaved {
            for i in 0..<m {
                let src = x + i * k, dst = deinterleaved + i * k
                for b in 0..<(k / 32) {
                    for l in 0..<16 {
                        dst[32 * b + l] = src[32 * b + 2 * l]
                        dst[32 * b + 16 + l] = src[32 * b + 2 * l + 1]
                    }
                }
            }
        }
        let xIn = SharedPointer(readOnly: interleaved ? UnsafePointer(deinterleaved) : x), out = SharedPointer(y)
        let (jobs, rowsPerJob) = balancedJobs(n, preferred: gemvRowsPerJob)
        w.withBytes { base in
            nonisolated(unsafe) let bytes = base
            let job: @Sendable (Int) -> Void = { job in
                let rows = (job * rowsPerJob)..<min(n, (job + 1) * rowsPerJob)
                let rowBytes = w.rowBytes
                switch w.encoding {
                case .bf16 where interleaved:
                    blockRows(BF16Block.self, rows: rows, k: k, w: bytes, rowBytes: rowBytes, m: m, x: xIn.base, y: out.base, ldy: n)
                case .f16 where k % 32 == 0:
                    blockRows(F16Block.self, rows: rows, k: k, w: bytes, rowBytes: rowBytes, m: m, x: xIn.base, y: out.base, ldy: n)
                case .q8_0:
                    blockRows(Q8_0Block.self, rows: rows, k: k, w: bytes, rowBytes: rowBytes, m: m, x: xIn.base, y: out.base, ldy: n)
                case .q4_0:
                    blockRows(Q4_0Block.self, rows: rows, k: k, w: bytes, rowBytes: rowBytes, m: m, x: xIn.base, y: out.base, ldy: n)
                case .q4_1:
                    blockRows(Q4_1Block.self, rows: rows, k: k, w: bytes, rowBytes: rowBytes, m: m, x: xIn.base, y: out.base, ldy: n)
                default:
                    decodedRows(rows: rows, weight: w, m: m, x: xIn.base, y: out.base, ldy: n)
                }
            }
            if m * n * k >= parallelMinimumWork { parallelFor(jobs, job) } else { for j in 0..<jobs { job(j) } }
        }
    }
}

/// Any encoding: each row decoded to Float (`decodeRows`), then dotted with every row of x.
private func decodedRows(rows: Range<Int>, weight w: WeightMatrix, m: Int, x: UnsafePointer<Float>,
                         y: UnsafeMutablePointer<Float>, ldy: Int) {
    let k = w.columns
    Scratch.withFloats(k) { row in
        for j in rows {
            w.decodeRows(j, count: 1, into: row)
            for i in 0..<m { y[i * ldy + j] = dot(row, x + i * k, count: k) }
        }
    }
}

/// Σ a[p] b[p] over `count` values, SIMD16 with two accumulators.
@inline(__always)
private func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
    typealias V = SIMD16<Float>
    var s0 = V(), s1 = V()
    var p = 0
    let ar = UnsafeRawPointer(a), br = UnsafeRawPointer(b)
    while p + 32 <= count {
        s0 = s0.addingProduct(ar.loadUnaligned(fromByteOffset: 4 * p, as: V.self), br.loadUnaligned(fromByteOffset: 4 * p, as: V.self))
        s1 = s1.addingProduct(ar.loadUnaligned(fromByteOffset: 4 * p + 64, as: V.self),
                              br.loadUnaligned(fromByteOffset: 4 * p + 64, as: V.self))
        p += 32
    }
    var t = laneSum(s0 + s1)
    while p < count { t += a[p] * b[p]; p += 1 }
    return t
}

// MARK: - Fast: blocks in registers

/// One 32-value block of an encoding, decoded into two SIMD16 vectors that multiply x's values
/// `first` (0..<16) and `second` (16..<32) of the block, in the order x is laid out for it.
private protocol RegisterBlock {
    static var bytes: Int { get }
    static func values(_ block: UnsafeRawPointer) -> (first: SIMD16<Float>, second: SIMD16<Float>)
}

/// y[i, j] = Σ_b ⟨block b of W row j, block b of x row i⟩ for j in `rows`, every i < m. Rows of x
/// four at a time share each decoded block (eight accumulators); the rest one at a time.
@inline(__always)
private func blockRows<B: RegisterBlock>(_: B.Type, rows: Range<Int>, k: Int, w: UnsafeRawPointer, rowBytes: Int,
                                         m: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, ldy: Int) {
    typealias V = SIMD16<Float>
    let blocks = k / 32, xBytes = 4 * k
    for j in rows {
        let row = w + j * rowBytes
        var i = 0
        while i + 4 <= m {
            let x0 = UnsafeRawPointer(x + i * k)
            var a0 = V(), b0 = V(), a1 = V(), b1 = V(), a2 = V(), b2 = V(), a3 = V(), b3 = V()
            for b in 0..<blocks {
                let (first, second) = B.values(row + b * B.bytes)
                let o = 128 * b
                a0 = a0.addingProduct(first, x0.loadUnaligned(fromByteOffset: o, as: V.self))
                b0 = b0.addingProduct(second, x0.loadUnaligned(fromByteOffset: o + 64, as: V.self))
                a1 = a1.addingProduct(first, x0.loadUnaligned(fromByteOffset: xBytes + o, as: V.self))
                b1 = b1.addingProduct(second, x0.loadUnaligned(fromByteOffset: xBytes + o + 64, as: V.self))
                a2 = a2.addingProduct(first, x0.loadUnaligned(fromByteOffset: 2 * xBytes + o, as: V.self))
                b2 = b2.addingProduct(second, x0.loadUnaligned(fromByteOffset: 2 * xBytes + o + 64, as: V.self))
                a3 = a3.addingProduct(first, x0.loadUnaligned(fromByteOffset: 3 * xBytes + o, as: V.self))
                b3 = b3.addingProduct(second, x0.loadUnaligned(fromByteOffset: 3 * xBytes + o + 64, as: V.self))
            }
            y[i * ldy + j] = laneSum(a0 + b0)
            y[(i + 1) * ldy + j] = laneSum(a1 + b1)
            y[(i + 2) * ldy + j] = laneSum(a2 + b2)
            y[(i + 3) * ldy + j] = laneSum(a3 + b3)
            i += 4
        }
        while i < m {
            let xr = UnsafeRawPointer(x + i * k)
            var s0 = V(), s1 = V()
            for b in 0..<blocks {
                let (first, second) = B.values(row + b * B.bytes)
                s0 = s0.addingProduct(first, xr.loadUnaligned(fromByteOffset: 128 * b, as: V.self))
                s1 = s1.addingProduct(second, xr.loadUnaligned(fromByteOffset: 128 * b + 64, as: V.self))
            }
            y[i * ldy + j] = laneSum(s0 + s1)
            i += 1
        }
    }
}

private typealias Lanes = SIMD16<UInt32>

/// 16 bytes, each widened to a 32-bit lane. A lane-by-lane loop: LLVM turns it into one zero-extend,
/// where the library's SIMD `truncatingIfNeeded` conversion is a call per vector here.
@inline(__always)
private func widenedBytes(_ p: UnsafeRawPointer) -> Lanes {
    let bytes = p.loadUnaligned(as: SIMD16<UInt8>.self)
    var lanes = Lanes()
    for i in 0..<16 { lanes[i] = UInt32(bytes[i]) }
    return lanes
}

/// Small integers q (0 ≤ q < 2²³) in lanes as Floats minus `offset`, exactly: the bits 2²³'s
/// exponent | q read as the Float 2²³ + q (no conversion instruction needed).
@inline(__always)
private func floats(_ q: Lanes, minus offset: Float) -> SIMD16<Float> {
    unsafeBitCast(q | 0x4B00_0000, to: SIMD16<Float>.self) - SIMD16<Float>(repeating: 0x1p23 + offset)
}

/// An f16 scale field, widened exactly: through `Float16`, one conversion instruction on a CPU
/// with F16C (a third faster than the bit arithmetic here), where the type exists.
@inline(__always)
private func halfScale(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
    let bits = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    #if arch(x86_64) && !os(macOS)
    return Float(Float16(bitPattern: bits))
    #else
    return floatFromHalfBitsBranchFree(bits)
    #endif
}

/// BF16: 32 values in 64 bytes; each 32-bit lane holds two, the even one in its low half.
private enum BF16Block: RegisterBlock {
    static var bytes: Int { 64 }
    @inline(__always) static func values(_ block: UnsafeRawPointer) -> (first: SIMD16<Float>, second: SIMD16<Float>) {
        let u = block.loadUnaligned(as: Lanes.self)
        return (unsafeBitCast(u &<< 16, to: SIMD16<Float>.self), unsafeBitCast(u & 0xFFFF_0000, to: SIMD16<Float>.self))
    }
}

/// F16: 32 values in 64 bytes, in order; each widened exactly through `Float16` (a lane loop LLVM
/// turns into one F16C conversion per 16 values) where the type exists.
private enum F16Block: RegisterBlock {
    static var bytes: Int { 64 }
    @inline(__always) static func values(_ block: UnsafeRawPointer) -> (first: SIMD16<Float>, second: SIMD16<Float>) {
        (widen(block), widen(block + 32))
    }
    @inline(__always) private static func widen(_ p: UnsafeRawPointer) -> SIMD16<Float> {
        let halves = p.loadUnaligned(as: SIMD16<UInt16>.self)
        var values = SIMD16<Float>()
        for i in 0..<16 {
            #if arch(x86_64) && !os(macOS)
            values[i] = Float(Float16(bitPattern: UInt16(littleEndian: halves[i])))
            #else
            values[i] = floatFromHalfBitsBranchFree(UInt16(littleEndian: halves[i]))
            #endif
        }
        return values
    }
}

/// Q8_0: d:f16 | 32 × i8.   y = q · d   (q + 128 read as an unsigned byte, then 128 taken off)
private enum Q8_0Block: RegisterBlock {
    static var bytes: Int { 34 }
    @inline(__always) static func values(_ block: UnsafeRawPointer) -> (first: SIMD16<Float>, second: SIMD16<Float>) {
        let d = SIMD16<Float>(repeating: halfScale(block, 0))
        let q0 = floats(widenedBytes(block + 2) ^ 0x80, minus: 128), q1 = floats(widenedBytes(block + 18) ^ 0x80, minus: 128)
        return (q0 * d, q1 * d)
    }
}

/// Q4_0: d:f16 | 16 bytes; low nibbles are values 0..<16, high nibbles 16..<32.   y = d · (q − 8)
private enum Q4_0Block: RegisterBlock {
    static var bytes: Int { 18 }
    @inline(__always) static func values(_ block: UnsafeRawPointer) -> (first: SIMD16<Float>, second: SIMD16<Float>) {
        let d = SIMD16<Float>(repeating: halfScale(block, 0))
        let q = widenedBytes(block + 2)
        return (d * floats(q & 0xF, minus: 8), d * floats(q &>> 4, minus: 8))
    }
}

/// Q4_1: d:f16 | m:f16 | 16 bytes as Q4_0.   y = d · q + m (two roundings, as the reference)
private enum Q4_1Block: RegisterBlock {
    static var bytes: Int { 20 }
    @inline(__always) static func values(_ block: UnsafeRawPointer) -> (first: SIMD16<Float>, second: SIMD16<Float>) {
        let d = SIMD16<Float>(repeating: halfScale(block, 0)), m = SIMD16<Float>(repeating: halfScale(block, 2))
        let q = widenedBytes(block + 4)
        return (d * floats(q & 0xF, minus: 0) + m, d * floats(q &>> 4, minus: 0) + m)
    }
}
