// Each fast kernel against its plain reference twin, over sweeps of odd shapes (STYLE.md §2).
import Testing
import TestSupport
import Tensor
import Linalg

/// Fast and reference kernels differ only in summation order: a few ulp of the operands' scale.
let kernelRelative = 1e-13

@Suite struct KernelTests {
    @Test(arguments: [false, true], [false, true])
    func gemmMatchesReference(transposeA: Bool, transposeB: Bool) {
        let sizes = [1, 2, 7, 8, 9, 16, 17, 33, 100, 300]
        var seed: UInt64 = 1
        for m in sizes { for n in sizes { for k in [1, 5, 16, 31, 257, 300] {
            seed += 1
            let a = randomMatrix(transposeA ? k : m, transposeA ? m : k, seed: seed)
            let b = randomMatrix(transposeB ? n : k, transposeB ? k : n, seed: seed + 1000)
            var fast = randomMatrix(m, n, seed: seed + 2000)
            var slow = fast
            for (alpha, beta) in [(1.0, 0.0), (-0.5, 1.0)] {
                a.scalars.withUnsafeBufferPointer { pa in
                    b.scalars.withUnsafeBufferPointer { pb in
                        fast.scalars.withUnsafeMutableBufferPointer { pc in
                            gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                                 a: pa.baseAddress!, lda: a.columns, b: pb.baseAddress!, ldb: b.columns,
                                 beta: beta, c: pc.baseAddress!, ldc: n)
                        }
                        slow.scalars.withUnsafeMutableBufferPointer { pc in
                            gemmReference(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                                          alpha: alpha, a: pa.baseAddress!, lda: a.columns, b: pb.baseAddress!,
                                          ldb: b.columns, beta: beta, c: pc.baseAddress!, ldc: n)
                        }
                    }
                }
                #expect(maxAbsDifference(fast, slow) <= kernelRelative * Double(k), "m \(m) n \(n) k \(k)")
            }
        } } }
    }

    /// Sizes through the 4-row groups, the SIMD8 columns and their remainders (0…17), and a few large
    /// ones; `first` offsets the block inside the triangle.
    @Test func packedSymmetricProductMatchesReference() {
        let sizes = Array(0...17) + [31, 64, 255, 300, 517]
        for m in sizes { for first in [0, 3] {
            let order = m + first
            let packed = randomMatrix(1, max(order * (order + 1) / 2, 1), seed: UInt64(7 * m + first)).scalars
            let x = randomMatrix(1, max(m, 1), seed: UInt64(11 * m + first)).scalars
            var fast = [Double](repeating: .nan, count: m), slow = fast
            packed.withUnsafeBufferPointer { p in
                x.withUnsafeBufferPointer { x in
                    packedSymmetricProduct(p.baseAddress!, first: first, count: m, x: x.baseAddress!,
                                           into: &fast)
                    packedSymmetricProductReference(p.baseAddress!, first: first, count: m, x: x.baseAddress!, into: &slow)
                }
            }
            // Sums of m products of unit-scale Gaussians: summation order moves them by ~√m ulp.
            // (allSatisfy, not max: a NaN left in `fast` must fail.)
            #expect(zip(fast, slow).allSatisfy { abs($0 - $1) <= kernelRelative * Double(max(m, 1)) },
                    "m \(m) first \(first)")
        } }
    }

    /// Both orientations, across the 256-row blocks (255, 256, 257, 600) and odd small shapes.
    @Test func gramMatrixMatchesTheFullProduct() {
        for (r, c) in [(1, 1), (3, 7), (7, 3), (40, 17), (17, 255), (300, 256), (257, 40), (600, 90), (90, 600)] {
            let x = randomMatrix(r, c, seed: UInt64(r * 1000 + c))
            for ofColumns in [true, false] {
                let g = gramMatrix(x, ofColumns: ofColumns)
                let full = multiply(x, x, transposeA: ofColumns, transposeB: !ofColumns)
                let depth = Double(ofColumns ? r : c)
                #expect(maxAbsDifference(g, full) <= kernelRelative * depth, "\(r)×\(c) ofColumns \(ofColumns)")
                #expect(elementDifference(g.scalars, g.transposed().scalars) == nil, "\(r)×\(c): exactly symmetric")
            }
        }
    }

    @Test func blockedQRMatchesReference() {
        for (m, n) in [(1, 1), (5, 3), (3, 5), (40, 40), (100, 33), (33, 100), (130, 70), (70, 130)] {
            let a = randomMatrix(m, n, seed: UInt64(m * 1000 + n))
            let fast = householderQR(a), slow = householderQRReference(a)
            #expect(maxAbsDifference(fast.factors, slow.factors) <= kernelRelative * Double(m), "\(m)×\(n)")
            #expect(zip(fast.tau, slow.tau).allSatisfy { abs($0 - $1) <= kernelRelative }, "\(m)×\(n)")
        }
    }

    @Test func fusedBidiagonalizationMatchesReference() {
        // 300×200 and 400×256 start above `sweepParallelMinimum`: their first steps sweep in pieces.
        for (m, n) in [(1, 1), (2, 1), (5, 5), (17, 9), (64, 64), (200, 150), (300, 3), (300, 200), (400, 256)] {
            let a = randomMatrix(m, n, seed: UInt64(m * 1000 + n))
            let fast = bidiagonalize(a), slow = bidiagonalizeReference(a)
            let scale = Double(m + n)
            #expect(zip(fast.d, slow.d).allSatisfy { abs($0 - $1) <= kernelRelative * scale }, "\(m)×\(n)")
            #expect(zip(fast.e, slow.e).allSatisfy { abs($0 - $1) <= kernelRelative * scale }, "\(m)×\(n)")
            #expect(maxAbsDifference(fast.factors, slow.factors) <= kernelRelative * scale, "\(m)×\(n)")
        }
    }

    /// The pieces of a sweep are fixed, not one per thread: the same bits on one thread as on all.
    @Test func bidiagonalizationIsBitIdenticalOnOneThread() {
        let a = randomMatrix(400, 256, seed: 41)
        #expect((a.rows - 1) * (a.columns - 1) >= sweepParallelMinimum)
        let all = bidiagonalize(a)
        limitThreads(to: 1)
        defer { limitThreads(to: activeProcessorCount) }
        let one = bidiagonalize(a)
        #expect(one.d.map(\.bitPattern) == all.d.map(\.bitPattern) && one.e.map(\.bitPattern) == all.e.map(\.bitPattern))
        #expect(elementDifference(one.factors.scalars.map(\.bitPattern), all.factors.scalars.map(\.bitPattern)) == nil)
    }

    @Test func batchedRotationsMatchReference() {
        var rng = Xoshiro256StarStar(seed: 9)
        for (rows, columns) in [(2, 1), (9, 31), (64, 100), (100, 257), (50, 64), (3, 64), (40, 192)] {
            var batch = RotationBatch()
            for _ in 0..<(rows * 20) {
                let i = Int(rng.next() % UInt64(rows))
                var j = Int(rng.next() % UInt64(rows))
                if j == i { j = (i + 1) % rows }
                let angle = uniform(using: &rng) * 6.283
                batch.append(i, j, c: cos(angle), s: sin(angle))
            }
            // …and QR-sweep chains (k, k+1), (k+1, k+2), …, which the fast path keeps in registers.
            for start in 0..<(rows / 2) {
                for k in start..<(rows - 1) {
                    let angle = uniform(using: &rng) * 6.283
                    batch.append(k, k + 1, c: cos(angle), s: sin(angle))
                }
            }
            // …and pairs of identical sweeps over one block, which the fast path applies together.
            for _ in 0..<3 {
                let lo = Int(rng.next() % UInt64(rows / 2 + 1)), hi = max(lo + 1, rows - 1 - Int(rng.next() % 3))
                for _ in 0..<2 {
                    for k in lo..<min(hi, rows - 1) {
                        let angle = uniform(using: &rng) * 6.283
                        batch.append(k, k + 1, c: cos(angle), s: sin(angle))
                    }
                }
            }
            var fast = randomMatrix(rows, columns, seed: 5), slow = fast
            batch.apply(to: &fast)
            batch.applyReference(to: &slow)
            #expect(elementDifference(fast.scalars, slow.scalars) == nil, "\(rows)×\(columns): same operations in the same order")
        }
    }
}

import Foundation
