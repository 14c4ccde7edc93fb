// PCASpectrum (σ and the ratios from the Gram matrix's eigenvalues alone) against the scikit-learn
// 1.9.1 fixtures of PCATests (Tests/Fixtures/linalg/pca, Tools/reference/linalg.py) with the
// tolerances of PCAGramTests (the same Gram matrix, so the same loss at σ ≈ 0), its counts exactly
// scikit-learn's, and beside a complete fit of the same data.
import Testing
import Tensor
import Linalg

@Suite struct PCASpectrumTests {
    @Test(arguments: pcaCases)
    func matchesScikitLearn(_ c: PCACase) throws {
        let entry = (try LinalgFixtures.manifest()["pca"] as! [String: Any])[c.key] as! [String: Any]
        let x = try c.matrix()
        let spectrum = try PCASpectrum(of: x)
        let k = min(x.shape[0], x.shape[1])
        #expect(spectrum.componentCount == k && spectrum.isCentred)
        try expectGramRouteSpectrum(spectrum.singularValues, spectrum.explainedVarianceRatio, matches: entry, c)
        let thresholds = entry["thresholds"] as! [Double]
        let study = entry["counts_study"] as! [Int], sklearn = entry["counts_sklearn"] as! [Int]
        for (i, t) in thresholds.enumerated() {
            #expect(try spectrum.componentCount(forVariance: t, rule: .reaches) == study[i], "\(c) t=\(t)")
            #expect(try spectrum.componentCount(forVariance: t, rule: .exceeds) == sklearn[i], "\(c) t=\(t)")
        }
        #expect(try spectrum.componentCount(forVariance: 1) == k)
    }

    /// Beside the complete fit of the same data, centred and not: the running sums agree to a few
    /// Float roundings (the two tridiagonal solvers' eigenvalues differ by ~ε·‖G‖, below σ's Float
    /// rounding but able to flip it), and the counts of a grid of thresholds are the same.
    @Test(arguments: [true, false])
    func agreesWithTheFit(centred: Bool) throws {
        for c in pcaCases {
            let x = try c.matrix()
            let spectrum = try PCASpectrum(of: x, centred: centred)
            let fit = try PCA.fit(x, centred: centred)
            #expect(spectrum.isCentred == centred && spectrum.componentCount == fit.componentCount)
            let worst = zip(spectrum.cumulativeRatio, fit.cumulativeRatio).map { abs($0 - $1) }.max()!
            #expect(worst <= 1e-6, "\(c) centred \(centred): max |Δ cumulative| \(worst)")
            for t in stride(from: 0.05, through: 0.99, by: 0.01) {
                #expect(try spectrum.componentCount(forVariance: t) == fit.componentCount(forVariance: t), "\(c) t=\(t)")
            }
            let copied = PCASpectrum(fit)
            #expect(copied.cumulativeRatio == fit.cumulativeRatio && copied.singularValues == fit.singularValues)
        }
    }

    @Test func refusesBadInput() {
        #expect(throws: LinalgError.tooFewSamples(found: 1, needed: 2)) {
            try PCASpectrum(of: Tensor(shape: [1, 4], scalars: [1, 2, 3, 4]))
        }
        #expect(throws: LinalgError.nonFiniteValue(row: 1, column: 0)) {
            try PCASpectrum(of: Tensor(shape: [2, 2], scalars: [1, 2, .nan, 4]))
        }
        #expect(throws: LinalgError.invalidThreshold(1.5)) {
            try PCASpectrum(of: Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])).componentCount(forVariance: 1.5)
        }
    }
}
