// The fit kinds Surgery caches, as invariants: the uncentred fit is the SVD of the data as they are;
// kept scores reconstruct exactly as `reconstruction(of:)` does; t = 1 keeps every component.
import Testing
import Tensor
import Linalg

/// Two Float products of length ≤ 40 with |entries| ≲ 5: a few hundred ulps of the largest entry.
let scoresReconstructionMaxAbs: Float = 1e-4
/// σ of the uncentred fit vs `svd`: the same Double SVD of the same matrix, rounded once to Float.
let uncentredSingularValueRelative: Float = 1e-6

@Suite struct PCAKinds {
    static let shapes = [(2, 3), (5, 5), (9, 4), (4, 17), (33, 12)]

    @Test(arguments: shapes)
    func uncentredFitIsTheSVDOfTheData(_ shape: (Int, Int)) throws {
        var rng = Xoshiro256StarStar(seed: UInt64(shape.0 * 100 + shape.1))
        var x = gaussianTensor(shape: [shape.0, shape.1], using: &rng)
        for i in 0..<x.count { x.scalars[i] += 3 }                      // a mean the fit must not remove
        let pca = try PCA.fit(x, solver: .exact, centred: false, keepingScores: true)
        let reference = try singularValues(of: x)
        #expect(!pca.isCentred && pca.mean.allSatisfy { $0 == 0 })
        #expect(pca.singularValues.count == reference.count)
        for (ours, theirs) in zip(pca.singularValues, reference) {
            #expect(abs(ours - theirs) <= uncentredSingularValueRelative * reference[0])
        }
        #expect(abs(pca.cumulativeRatio.last! - 1) < 1e-12)
        let full = try pca.reconstruction(components: pca.componentCount, addingMean: true)
        for i in 0..<x.count { #expect(abs(full.scalars[i] - x.scalars[i]) <= scoresReconstructionMaxAbs) }
    }

    @Test(arguments: shapes)
    func keptScoresReconstructAsTheDataDo(_ shape: (Int, Int)) throws {
        var rng = Xoshiro256StarStar(seed: UInt64(shape.0 * 31 + shape.1))
        let x = gaussianTensor(shape: [shape.0, shape.1], using: &rng)
        let pca = try PCA.fit(x, solver: .exact, keepingScores: true)
        #expect(pca.scores?.shape == [shape.0, pca.componentCount])
        for n in 1...pca.componentCount {
            for addingMean in [false, true] {
                let fromScores = try pca.reconstruction(components: n, addingMean: addingMean)
                let fromData = try pca.reconstruction(of: x, components: n, addingMean: addingMean)
                for i in 0..<x.count {
                    #expect(abs(fromScores.scalars[i] - fromData.scalars[i]) <= scoresReconstructionMaxAbs, "n = \(n)")
                }
            }
        }
        let truncated = try pca.truncated(to: 1)
        #expect(truncated.scores?.shape == [shape.0, 1])
        #expect(throws: LinalgError.scoresNotKept) { try PCA.fit(x).reconstruction(components: 1, addingMean: true) }
    }

    /// A float32 running sum can reach 1.0 early or stop a hair below it; t = 1 still keeps all.
    @Test(arguments: shapes)
    func fullVarianceKeepsEveryComponent(_ shape: (Int, Int)) throws {
        var rng = Xoshiro256StarStar(seed: UInt64(shape.0 * 7 + shape.1))
        let x = gaussianTensor(shape: [shape.0, shape.1], using: &rng)
        for centred in [true, false] {
            let pca = try PCA.fit(x, solver: .exact, centred: centred)
            #expect(try pca.componentCount(forVariance: 1) == pca.componentCount)
        }
    }
}
