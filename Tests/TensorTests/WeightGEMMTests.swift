// The stored-encoding projection (`linear`) against its twin (`linearReference`: decode W to Float,
// then the triple loop), for every encoding, on both fast paths (few rows: blocks decoded in
// registers; many rows: rows decoded, then the packed GEMM). The decoding itself is checked exactly
// with one-hot inputs, and `dequantizeBlocks` against `gguf.quants` in GGMLQuantsTests.
import Testing
import Tensor
import TestSupport

/// Two summation orders of k products differ by at most 2·k·u·Σ|w||x| (u = 2⁻²⁴; Higham, §3.1).
/// Both sides multiply the same decoded values, so this bound is rigorous.
private func tolerance(k: Int) -> Double { 2 * Double(k) * 0x1p-24 }

/// Random bytes for `rows` rows of `columns` values, with every f16 scale field set to a finite
/// value in ±[2⁻¹², 2⁻⁴] (random bits would give ∞ and NaN scales) and f16/bf16 values drawn from
/// [-1, 1) (subnormal halves included at the small end).
private func randomBytes(_ encoding: WeightEncoding, rows: Int, columns: Int, rng: inout Xoshiro256StarStar) -> [UInt8] {
    let count = rows * columns
    switch encoding {
    case .f32, .f16, .bf16:
        var bytes: [UInt8] = []
        for _ in 0..<count {
            let v = Float.random(in: -1..<1, using: &rng) * (Bool.random(using: &rng) ? 1 : 0x1p-20)
            switch encoding {
            case .f32: withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 }
            case .f16: withUnsafeBytes(of: halfBits(from: v).littleEndian) { bytes += $0 }
            default: withUnsafeBytes(of: bfloat16Bits(from: v).littleEndian) { bytes += $0 }
            }
        }
        return bytes
    default:
        let blocks = count / encoding.blockSize
        var bytes = (0..<(blocks * encoding.blockBytes)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let scaleFields: [Int] = switch encoding {
        case .q8_0, .q4_0, .q5_0: [0]
        case .q4_1, .q5_1, .q4_K, .q5_K: [0, 2]
        case .q6_K: [208]
        default: []
        }
        for b in 0..<blocks {
            for field in scaleFields {
                let magnitude = Float(bitPattern: UInt32.random(in: 0x3980_0000...0x3D80_0000, using: &rng))
                let bits = halfBits(from: Bool.random(using: &rng) ? magnitude : -magnitude)
                bytes[b * encoding.blockBytes + field] = UInt8(truncatingIfNeeded: bits)
                bytes[b * encoding.blockBytes + field + 1] = UInt8(truncatingIfNeeded: bits >> 8)
            }
        }
        return bytes
    }
}

/// The matrix over a copy of `bytes` starting at `misalignment` bytes past an aligned address.
private final class Stored {
    let storage: UnsafeMutableRawPointer
    let matrix: WeightMatrix
    init(_ bytes: [UInt8], rows: Int, columns: Int, encoding: WeightEncoding, misalignment: Int = 0) {
        storage = .allocate(byteCount: bytes.count + 64, alignment: 64)
        let start = storage + misalignment
        bytes.withUnsafeBytes { start.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        matrix = WeightMatrix(rows: rows, columns: columns, encoding: encoding,
                              bytes: UnsafeRawBufferPointer(start: start, count: bytes.count), owner: nil)
    }
    deinit { storage.deallocate() }
}

private func run(_ kernel: (Int, UnsafePointer<Float>, WeightMatrix, UnsafeMutablePointer<Float>) -> Void,
                 m: Int, x: [Float], weight: WeightMatrix) -> [Float] {
    var y = [Float](repeating: .nan, count: m * weight.rows)
    x.withUnsafeBufferPointer { xp in
        y.withUnsafeMutableBufferPointer { kernel(m, xp.baseAddress!, weight, $0.baseAddress!) }
    }
    return y
}

@Suite struct WeightGEMMTests {
    /// Columns per encoding: whole blocks, and for f16/bf16 also widths that are not whole 32-value
    /// blocks (those take the row-decoding path).
    static func widths(_ encoding: WeightEncoding) -> [Int] {
        switch encoding.blockSize {
        case 256: [256, 512]
        case 32: [32, 96, 576]
        default: [1, 7, 32, 96, 100, 576]
        }
    }

    @Test(arguments: WeightEncoding.allCases)
    func fastEqualsReference(encoding: WeightEncoding) {
        var rng = Xoshiro256StarStar(seed: 11)
        for k in Self.widths(encoding) {
            for n in [1, 9, 65, 200] {
                for m in [1, 2, 4, 5, 9, 16, 17] {
                    let stored = Stored(randomBytes(encoding, rows: n, columns: k, rng: &rng), rows: n, columns: k,
                                        encoding: encoding, misalignment: encoding == .f32 ? 0 : 1)
                    let w = stored.matrix
                    let x = [Float].random(m * k, using: &rng)
                    let fast = run(linear, m: m, x: x, weight: w), reference = run(linearReference, m: m, x: x, weight: w)
                    let dense = w.decoded()
                    var worst = 0.0
                    for i in 0..<m {
                        for j in 0..<n {
                            var absolute = 0.0
                            for p in 0..<k { absolute += abs(Double(x[i * k + p]) * Double(dense.scalars[j * k + p])) }
                            let difference = abs(Double(fast[i * n + j]) - Double(reference[i * n + j]))
                            #expect(difference <= tolerance(k: k) * absolute,
                                    "\(encoding) m \(m) n \(n) k \(k) at (\(i), \(j)): \(fast[i * n + j]) vs \(reference[i * n + j])")
                            worst = max(worst, absolute > 0 ? difference / absolute : difference)
                        }
                    }
                    #expect(worst.isFinite)
                }
            }
        }
    }

    /// With x = e_p, y_j is the one product W[j, p] · 1 (all others are exact zeros): the fast
    /// decoding in registers must give `decodeRows`' value bit for bit.
    @Test(arguments: WeightEncoding.allCases)
    func oneHotInputsReadTheDecodedValuesExactly(encoding: WeightEncoding) {
        var rng = Xoshiro256StarStar(seed: 12)
        let k = Self.widths(encoding).last!, n = 70
        let stored = Stored(randomBytes(encoding, rows: n, columns: k, rng: &rng), rows: n, columns: k, encoding: encoding)
        let dense = stored.matrix.decoded()
        for p in [0, 1, 15, 16, 17, 31, k - 1] {
            var x = [Float](repeating: 0, count: k)
            x[p] = 1
            let y = run(linear, m: 1, x: x, weight: stored.matrix)
            for j in 0..<n {
                #expect(y[j].bitPattern == dense.scalars[j * k + p].bitPattern || (y[j] == 0 && dense.scalars[j * k + p] == 0),
                        "\(encoding) row \(j) column \(p): \(y[j]) vs \(dense.scalars[j * k + p])")
            }
        }
    }

    /// f16 ∞ and NaN, which the register decoding builds without a select, come out as ∞ and NaN.
    /// The same on the many-rows path (W decoded piece by piece into packed B): with row i of x
    /// equal to e_{p_i}, y[i, j] is W[j, p_i] exactly, for columns in every depth block of 256.
    @Test(arguments: WeightEncoding.allCases)
    func oneHotRowsReadTheDecodedValuesExactlyWhenPacked(encoding: WeightEncoding) {
        var rng = Xoshiro256StarStar(seed: 13)
        let k = Self.widths(encoding).last!, n = 70
        let stored = Stored(randomBytes(encoding, rows: n, columns: k, rng: &rng), rows: n, columns: k, encoding: encoding)
        let dense = stored.matrix.decoded()
        let columns = [0, 1, 17, 31, min(k - 1, 255), min(k - 1, 256), k - 1]
        var x = [Float](repeating: 0, count: columns.count * k)
        for (i, p) in columns.enumerated() { x[i * k + p] = 1 }
        let y = run(linear, m: columns.count, x: x, weight: stored.matrix)
        for (i, p) in columns.enumerated() {
            for j in 0..<n {
                let got = y[i * n + j], expected = dense.scalars[j * k + p]
                #expect(got.bitPattern == expected.bitPattern || (got == 0 && expected == 0),
                        "\(encoding) row \(j) column \(p): \(got) vs \(expected)")
            }
        }
    }

    @Test func halfInfinityAndNaNSurviveTheRegisterPath() {
        let k = 64
        for (bits, check) in [(UInt16(0x7C00), { (y: Float) in y == .infinity }), (0xFC00, { $0 == -.infinity }),
                              (0x7E01, { $0.isNaN }), (0x0001, { $0 == 0x1p-24 }), (0x7BFF, { $0 == 65504 })] {
            var halves = [UInt16](repeating: 0, count: k)
            halves[33] = bits
            var bytes: [UInt8] = []
            for h in halves { withUnsafeBytes(of: h.littleEndian) { bytes += $0 } }
            let stored = Stored(bytes, rows: 1, columns: k, encoding: .f16)
            var x = [Float](repeating: 0, count: k)
            x[33] = 1
            let y = run(linear, m: 1, x: x, weight: stored.matrix)
            #expect(check(y[0]), "f16 bits \(String(bits, radix: 16)) gave \(y[0])")
        }
    }

    /// A Float matrix and the same values stored as F32 bytes (aligned) take the same GEMM.
    @Test func floatMatrixAndStoredF32Agree() {
        var rng = Xoshiro256StarStar(seed: 13)
        let n = 40, k = 48, m = 3
        let values = [Float].random(n * k, using: &rng)
        var bytes: [UInt8] = []
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
        let stored = Stored(bytes, rows: n, columns: k, encoding: .f32)
        let x = [Float].random(m * k, using: &rng)
        #expect(run(linear, m: m, x: x, weight: stored.matrix)
                == run(linear, m: m, x: x, weight: WeightMatrix(Tensor(shape: [n, k], scalars: values))))
    }

    @Test func gatheringRowsMovesWholeRows() {
        var rng = Xoshiro256StarStar(seed: 14)
        let n = 6, k = 64
        let stored = Stored(randomBytes(.q4_1, rows: n, columns: k, rng: &rng), rows: n, columns: k, encoding: .q4_1)
        let order = [3, 0, 5, 1, 4, 2]
        let gathered = stored.matrix.gatheringRows(order).decoded(), dense = stored.matrix.decoded()
        for (to, from) in order.enumerated() {
            #expect(elementDifference(gathered.scalars[(to * k)..<((to + 1) * k)], dense.scalars[(from * k)..<((from + 1) * k)]) == nil)
        }
    }
}
