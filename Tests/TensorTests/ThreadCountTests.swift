// The thread count changes how fast, never what: GEMM at 1 and at 2 threads gives the same bits.
import Testing
import Tensor
import TestSupport

@Suite struct ThreadCountTests {
    @Test func gemmIsBitIdenticalAtOneAndTwoThreads() {
        var rng = Xoshiro256StarStar(seed: 12)
        for (m, n, k) in [(512, 576, 576), (37, 1536, 576), (1, 49_152, 576), (3, 577, 1000)] {
            let a = (0..<(m * k)).map { _ in Float.random(in: -1..<1, using: &rng) }
            let b = (0..<(n * k)).map { _ in Float.random(in: -1..<1, using: &rng) }
            func product(threads: Int) -> [UInt32] {
                limitThreads(to: threads)
                defer { limitThreads(to: activeProcessorCount) }
                var c = [Float](repeating: .nan, count: m * n)
                gemm(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: k, transposeB: true, c: &c, ldc: n)
                return c.map(\.bitPattern)
            }
            let one = product(threads: 1), two = product(threads: 2)
            #expect(elementDifference(one, two) == nil, "\(m)×\(n)×\(k)")
        }
    }

    @Test func threadCountIsClamped() {
        limitThreads(to: 0)
        #expect(threadCount == 1)
        limitThreads(to: activeProcessorCount + 5)
        #expect(threadCount == activeProcessorCount)
    }
}
