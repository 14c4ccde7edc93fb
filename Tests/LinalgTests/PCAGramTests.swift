// The Gram eigen-route (`PCA.Solver.covariance`) against the same scikit-learn 1.9.1 fixtures as
// PCATests (Tests/Fixtures/linalg/pca, Tools/reference/linalg.py): counts at every threshold exactly,
// ratios, σ and the leading components within PCATests' tolerances, except where forming the Gram
// costs accuracy (σ ≈ 0 of a centred wide matrix), which is stated below.
import Testing
import Tensor
import Linalg

/// σ of a centred wide matrix's null direction: the reference has ~1e-14·σ₁; the Gram route gives
/// √(|λ| rounding) ≈ √(ε·min(n, f))·σ₁ ≲ 1e-6·σ₁.
let gramZeroSingularValue = 1e-6

/// σ and the ratios of a Gram-route fit (or spectrum) against the scikit-learn fixture `entry`, with
/// PCATests' tolerances except at σ ≈ 0 (`gramZeroSingularValue`).
func expectGramRouteSpectrum(_ sigma: [Float], _ ratios: [Float], matches entry: [String: Any], _ c: PCACase) throws {
    let s = try LinalgFixtures.doubles(entry["singular_values_f64"] as! String)
    let ratio = try LinalgFixtures.doubles(entry["explained_variance_ratio_f64"] as! String)
    #expect(sigma.count == s.count && ratios.count == ratio.count, "\(c): counts")
    for i in 0..<min(sigma.count, s.count) {
        if s[i] <= zeroSingularValue * s[0] {
            #expect(Double(sigma[i]) <= gramZeroSingularValue * s[0], "\(c): null σ\(i)")
        } else {
            #expect(abs(Double(sigma[i]) - s[i]) <= pcaSingularValueRelative * s[i] + 1e-13 * s[0], "\(c): σ\(i)")
        }
        #expect(abs(Double(ratios[i]) - ratio[i]) <= ratioRelative * ratio[i] + 1e-12, "\(c): ratio\(i)")
    }
}

@Suite struct PCAGramTests {
    @Test(arguments: pcaCases)
    func matchesScikitLearn(_ c: PCACase) throws {
        let entry = (try LinalgFixtures.manifest()["pca"] as! [String: Any])[c.key] as! [String: Any]
        let x = try c.matrix()
        let pca = try PCA.fit(x, solver: .covariance)
        let n = x.shape[0], f = x.shape[1], k = min(n, f)
        #expect(pca.componentCount == k && pca.isComplete)
        try expectGramRouteSpectrum(pca.singularValues, pca.explainedVarianceRatio, matches: entry, c)
        let head = try LinalgFixtures.floats(entry["components_f64_head"] as! String)
        for i in 0..<(head.count / f) {
            let worst = (0..<f).map { abs(pca.components[i, $0] - head[i * f + $0]) }.max()!
            #expect(Double(worst) <= componentMaxAbs, "\(c): component \(i)")
        }
        // Orthonormal rows, the null direction of a wide matrix included (Float-rounded: ≈ √f·6e-8).
        for i in stride(from: 0, to: k, by: 7) {
            for j in stride(from: i, to: k, by: 5) {
                var dot = 0.0
                for t in 0..<f { dot += Double(pca.components[i, t]) * Double(pca.components[j, t]) }
                #expect(abs(dot - (i == j ? 1 : 0)) <= 1e-5, "\(c): ⟨c\(i), c\(j)⟩")
            }
        }
    }

    /// Counts at every threshold (0.1 … 0.99) exactly scikit-learn's, by both rules.
    @Test(arguments: pcaCases)
    func componentCountsEqualScikitLearnExactly(_ c: PCACase) throws {
        let entry = (try LinalgFixtures.manifest()["pca"] as! [String: Any])[c.key] as! [String: Any]
        let pca = try PCA.fit(try c.matrix(), solver: .covariance)
        let thresholds = entry["thresholds"] as! [Double]
        let study = entry["counts_study"] as! [Int], sklearn = entry["counts_sklearn"] as! [Int]
        for (i, t) in thresholds.enumerated() {
            #expect(try pca.componentCount(forVariance: t, rule: .reaches) == study[i], "\(c) t=\(t)")
            #expect(try pca.componentCount(forVariance: t, rule: .exceeds) == sklearn[i], "\(c) t=\(t)")
        }
    }

    /// 100% of the variance reconstructs the input (scores kept), wide and square.
    @Test func fullRankReconstructsTheInput() throws {
        for name in ["k_proj", "q_proj"] {
            let x = try realWeight(layer: 15, name: name)
            let pca = try PCA.fit(x, solver: .covariance, keepingScores: true)
            let back = try pca.reconstruction(components: pca.componentCount, addingMean: true)
            var error = 0.0, norm = 0.0
            for (a, b) in zip(back.scalars, x.scalars) { error += Double(a - b) * Double(a - b); norm += Double(b) * Double(b) }
            #expect((error / norm).squareRoot() <= 1e-6, "\(name)")
        }
    }
}
