// Pins the public surface of Tensor through a plain import: the dense tensor, products, halves and
// the seeded generator. If this file stops compiling, the API changed.
import Testing
import Tensor

@Suite struct TensorPublicAPI {
    @Test func publicSurface() {
        var rng = Xoshiro256StarStar(seed: 3)
        let _: UInt64 = rng.next()
        let _: Double = rng.nextUnitDouble()
        let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let b = Tensor(zeros: [4, 3])
        #expect(a.rows == 2 && a.columns == 3 && a.rank == 2 && a.count == 6 && a[1, 2] == 6)
        #expect(a.transposed().shape == [3, 2] && a.reshaped([3, 2]).shape == [3, 2])
        #expect(matmulTransposed(a, b).shape == [2, 4])                  // (2, 3) × (4, 3)ᵀ
        #expect(matmul(a, a.transposed()).shape == [2, 2])               // (2, 3) × (3, 2)
        #expect(floatFromBFloat16Bits(bfloat16Bits(from: 1.5)) == 1.5)
        #expect(floatFromHalfBits(halfBits(from: 0.25)) == 0.25)
        let _: [ScalarEncoding] = ScalarEncoding.allCases
    }
}
