// Pins the public surface other modules call (Surgery, the CLI): only `public` declarations here.
// If this file stops compiling, the API changed.
import Testing
import Tensor
import Linalg

@Suite struct PublicAPITests {
    @Test func publicSurface() throws {
        var rng = Xoshiro256StarStar(seed: 1)
        let a: Tensor = gaussianTensor(shape: [12, 7], using: &rng)

        let factorization: QR = try qr(a)
        let _: (Tensor, Tensor) = (factorization.q, factorization.r)

        let full: SVD = try svd(a)
        let _: (Tensor, [Float], Tensor, Int) = (full.u, full.singularValues, full.vt, full.rank)
        let _: [Float] = try singularValues(of: a)
        let _: SVD = try randomizedSVD(of: a, rank: 3, oversampling: 2, powerIterations: 1, using: &rng)
        let _: SVD = try randomizedSVD(of: a, energy: 0.8, blockSize: 2, powerIterations: 1, using: &rng)

        let pca: PCA = try PCA.fit(a, keeping: PCA.Keep.all, solver: PCA.Solver.exact)
        let _: ([Float], Tensor, [Float], [Float], [Float]) =
            (pca.mean, pca.components, pca.explainedVariance, pca.explainedVarianceRatio, pca.singularValues)
        let _: (Int, Int, Int, Bool) = (pca.sampleCount, pca.featureCount, pca.componentCount, pca.isComplete)
        let n: Int = try pca.componentCount(forVariance: 0.9, rule: VarianceRule.reaches)
        #expect(try n == pca.componentCount(forVariance: 0.9))
        let _: Int = try pca.componentCount(forVariance: 0.9, rule: .exceeds)
        let y: Tensor = try pca.transform(a, components: n)
        let _: Tensor = try pca.inverseTransform(y)
        let _: Tensor = try pca.reconstruction(of: a, components: n, addingMean: false)
        let _: PCA = try pca.truncated(to: n)
        let _: PCA = try PCA.fit(a, keeping: .count(2), solver: .randomized(oversampling: 3, powerIterations: 1, seed: 9))
        let _: PCA = try PCA.fit(a, keeping: .variance(0.5), solver: .auto)
        let _: (Int, Double) = (PCA.autoExactLimit, PCA.autoRandomizedFraction)

        let eigen: SymmetricEigen = try SymmetricEigen(Tensor(shape: [2, 2], scalars: [2, 1, 1, 3]))
        let _: ([Double], Int, Tensor, [Double]) = (eigen.values, eigen.dimension, eigen.floatVectors, eigen.vector(0))
        let _: Double = SymmetricEigen.symmetryTolerance
        let _: [LinalgError] = [.notSquare(rows: 2, columns: 3), .notSymmetric(row: 0, column: 1, difference: 1, tolerance: 0)]

        let error: LinalgError = .invalidThreshold(2)
        #expect(error == .invalidThreshold(2))
    }
}
