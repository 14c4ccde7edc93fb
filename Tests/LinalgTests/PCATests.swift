// PCA against scikit-learn 1.9.1 on SmolLM2's real attention weights (layers 0 and 15: q_proj
// 576×576, k_proj 192×576, and k_proj stacked on v_proj 384×576, rows as samples), plus its
// invariants. Fixtures: Tests/Fixtures/linalg/pca, written by Tools/reference/linalg.py.
import Testing
import Tensor
import Linalg

/// Mean: per feature, our Double mean rounded to Float vs scikit-learn's float64 mean rounded to
/// Float: at most one rounding apart.
let meanRelative = 1.2e-7
let meanAbsolute = 1e-10
/// σ vs scikit-learn in float64 (accurate to ~ε₆₄·σ₁): our Float output is one rounding away.
let pcaSingularValueRelative = 1.2e-7
/// Explained-variance ratios vs float64 scikit-learn: computed in float32 from Float σ (sklearn's own
/// float32 arithmetic), ≈ 4 roundings ≈ 2.4e-7 relative.
let ratioRelative = 5e-7
/// Components vs float64 scikit-learn, entrywise: our Double vectors rounded once to Float (≤ 3e-8
/// for entries ≤ 1), plus the Double perturbation bound ε·σ₁/gap (≤ 1e-9 for the stored 64 rows).
let componentMaxAbs = 1e-7
/// Checksums cᵢ = componentᵢ·g (g: 576 stored Gaussians): 576 Float-rounded terms of |g| ≲ 4 give
/// ≈ √576·3e-8·4 ≈ 3e-6; plus ε·σ₁/gapᵢ·‖g‖ for nearly repeated σ (weighted by 1e3 for safety).
let checksumAbsolute = 1e-5
let checksumGapFactor = 1e3 * 2.2e-16 * 24.0
/// σ below this·σ₁ are numerically zero (the float64 reference puts them at ~1e-14·σ₁).
let zeroSingularValue = 1e-10
/// Components vs the study's own float32 fit (LAPACK sgesdd), first 16 rows: sgesdd's vectors err
/// by ≈ ε₃₂·σ₁/gap; the gaps among the first 17 σ are ≥ 5.9e-4·σ₁, so ≲ 1e-4 (the fixture's float32
/// and float64 fits differ by at most 1.4e-5 there); signs must agree.
let float32ComponentMaxAbs = 1e-4

struct PCACase: CustomStringConvertible, Sendable {
    let layer: Int
    let name: String          // q_proj, k_proj, kv_proj
    var key: String { "layer\(layer).\(name)" }
    var description: String { key }

    func matrix() throws -> Tensor {
        if name != "kv_proj" { return try realWeight(layer: layer, name: name) }
        // The study's shared K/V: np.vstack([k_proj, v_proj]) → (384, 576).
        let k = try realWeight(layer: layer, name: "k_proj"), v = try realWeight(layer: layer, name: "v_proj")
        return Tensor(shape: [k.shape[0] + v.shape[0], k.shape[1]], scalars: k.scalars + v.scalars)
    }
}

let pcaCases = [0, 15].flatMap { layer in ["q_proj", "k_proj", "kv_proj"].map { PCACase(layer: layer, name: $0) } }

@Suite struct PCATests {
    @Test(arguments: pcaCases)
    func matchesScikitLearn(_ c: PCACase) throws {
        let manifest = try LinalgFixtures.manifest()
        let entry = (manifest["pca"] as! [String: Any])[c.key] as! [String: Any]
        let x = try c.matrix()
        #expect(x.shape == entry["shape"] as! [Int])
        let pca = try PCA.fit(x, solver: .exact)
        let n = x.shape[0], f = x.shape[1], k = min(n, f)
        #expect(pca.componentCount == k && pca.isComplete && pca.sampleCount == n && pca.featureCount == f)

        let mean = try LinalgFixtures.floats(entry["mean"] as! String)
        for j in 0..<f {
            #expect(abs(pca.mean[j] - mean[j]) <= Float(meanRelative) * abs(mean[j]) + Float(meanAbsolute), "\(c): mean[\(j)]")
        }
        let s = try LinalgFixtures.doubles(entry["singular_values_f64"] as! String)
        let ratio = try LinalgFixtures.doubles(entry["explained_variance_ratio_f64"] as! String)
        let variance = try LinalgFixtures.doubles(entry["explained_variance_f64"] as! String)
        for i in 0..<k {
            #expect(abs(Double(pca.singularValues[i]) - s[i]) <= pcaSingularValueRelative * s[i] + 1e-13 * s[0], "\(c): σ\(i)")
            #expect(abs(Double(pca.explainedVariance[i]) - variance[i]) <= ratioRelative * variance[i] + 1e-12 * variance[0], "\(c): var\(i)")
            #expect(abs(Double(pca.explainedVarianceRatio[i]) - ratio[i]) <= ratioRelative * ratio[i] + 1e-12, "\(c): ratio\(i)")
        }

        // Components: the first 64 in full, every one through its checksum; signs included.
        let head = try LinalgFixtures.floats(entry["components_f64_head"] as! String)
        let rows = head.count / f
        for i in 0..<rows {
            let worst = (0..<f).map { abs(pca.components[i, $0] - head[i * f + $0]) }.max()!
            #expect(Double(worst) <= componentMaxAbs, "\(c): component \(i)")
        }
        let gauge = try LinalgFixtures.floats("pca/gauge.f32")
        let checksums = try LinalgFixtures.doubles(entry["component_checksums_f64"] as! String)
        // Centring leaves rank ≤ n − 1: with n < f the last σ is zero and its component is any unit
        // vector of an (f − n + 1)-dimensional null space — not determined, so not compared.
        let nonzero = s.filter { $0 > zeroSingularValue * s[0] }.count
        let nullity = f - nonzero
        for i in 0..<k where !(s[i] <= zeroSingularValue * s[0] && nullity > 1) {
            var sum = 0.0
            for j in 0..<f { sum += Double(pca.components[i, j]) * Double(gauge[j]) }
            let gap = min(i > 0 ? s[i - 1] - s[i] : .infinity, i + 1 < k ? s[i] - s[i + 1] : .infinity) / s[0]
            #expect(abs(sum - checksums[i]) <= checksumAbsolute + checksumGapFactor / gap, "\(c): checksum \(i), gap \(gap)")
        }
        // The study's own float32 fit: same signs, close values for the leading components.
        let head32 = try LinalgFixtures.floats(entry["components_f32_head"] as! String)
        for i in 0..<16 {
            let worst = (0..<f).map { abs(pca.components[i, $0] - head32[i * f + $0]) }.max()!
            #expect(Double(worst) <= float32ComponentMaxAbs, "\(c): float32 component \(i)")
        }
    }

    /// Counts at every threshold exactly equal to scikit-learn's on the study's float32 input: the
    /// study's argmax rule and scikit-learn's own PCA(n_components=t) rule.
    @Test(arguments: pcaCases)
    func componentCountsEqualScikitLearnExactly(_ c: PCACase) throws {
        let entry = (try LinalgFixtures.manifest()["pca"] as! [String: Any])[c.key] as! [String: Any]
        let pca = try PCA.fit(try c.matrix(), solver: .exact)
        let thresholds = entry["thresholds"] as! [Double]
        let study = entry["counts_study"] as! [Int], sklearn = entry["counts_sklearn"] as! [Int]
        for (i, t) in thresholds.enumerated() {
            #expect(try pca.componentCount(forVariance: t, rule: .reaches) == study[i], "\(c) t=\(t)")
            #expect(try pca.componentCount(forVariance: t, rule: .exceeds) == sklearn[i], "\(c) t=\(t)")
            // Fitting with a variance target keeps exactly that many (scikit-learn's n_components=t).
            #expect(try PCA.fit(try c.matrix(), keeping: .variance(t), solver: .exact).componentCount == study[i])
        }
    }

    /// The weight seam (RealWeights.swift) returns exactly the matrices scikit-learn was given:
    /// sums and norms agree up to the order of a Double summation (≈ 1e-12 relative).
    @Test(arguments: [0, 15], ["q_proj", "k_proj", "v_proj"])
    func realWeightsAreWhatScikitLearnSaw(layer: Int, name: String) throws {
        let entry = (try LinalgFixtures.manifest()["weights"] as! [String: Any])["layer\(layer).\(name)"] as! [String: Any]
        let w = try realWeight(layer: layer, name: name)
        #expect(w.shape == entry["shape"] as! [Int])
        var sum = 0.0, squares = 0.0
        for x in w.scalars { sum += Double(x); squares += Double(x) * Double(x) }
        let expectedSum = entry["sum"] as! Double, expectedNorm = entry["frobenius"] as! Double
        #expect(abs(sum - expectedSum) <= 1e-9 * expectedNorm * Double(w.count).squareRoot())
        #expect(abs(squares.squareRoot() - expectedNorm) <= 1e-12 * expectedNorm)
    }

    @Test func invariantsOnRealWeights() throws {
        let x = try realWeight(layer: 15, name: "k_proj")           // 192×576
        let pca = try PCA.fit(x)
        let sum = pca.explainedVarianceRatio.reduce(0, +)
        #expect(abs(sum - 1) <= 1e-5, "ratios sum to 1")
        #expect(zip(pca.singularValues, pca.singularValues.dropFirst()).allSatisfy { $0 >= $1 })
        // 100% of the variance reconstructs the input (to Float rounding of a 192-term sum).
        let back = try pca.inverseTransform(try pca.transform(x))
        let scale = x.scalars.map { abs($0) }.max()!
        #expect(zip(back.scalars, x.scalars).allSatisfy { abs($0 - $1) <= 1e-5 * scale })
        let full = try pca.reconstruction(of: x, components: pca.componentCount, addingMean: true)
        #expect(zip(full.scalars, back.scalars).allSatisfy { abs($0 - $1) <= 1e-6 * scale })
        // The study's reconstruction is the correct one minus the mean.
        let study = try pca.reconstruction(of: x, components: 20, addingMean: false)
        let correct = try pca.reconstruction(of: x, components: 20, addingMean: true)
        for i in 0..<x.shape[0] { for j in 0..<x.shape[1] {
            #expect(abs(correct[i, j] - study[i, j] - pca.mean[j]) <= 1e-6 * scale)
        } }
    }

    /// The float32 total variance is numpy's pairwise sum, bit for bit (recorded np.sum results).
    @Test func numpyPairwiseSumMatchesNumpyBitForBit() throws {
        let entry = try LinalgFixtures.manifest()["pairwise_sum"] as! [String: Any]
        let lengths = entry["lengths"] as! [Int]
        let values = try LinalgFixtures.floats(entry["values"] as! String)
        let sums = try LinalgFixtures.floats(entry["sums"] as! String)
        var start = 0
        for (i, n) in lengths.enumerated() {
            #expect(numpyPairwiseSum(Array(values[start..<(start + n)])) == sums[i], "n = \(n)")
            start += n
        }
    }

    @Test func badInputIsAnError() throws {
        #expect(throws: LinalgError.tooFewSamples(found: 1, needed: 2)) { try PCA.fit(Tensor(zeros: [1, 5])) }
        let pca = try PCA.fit(Tensor(shape: [3, 2], scalars: [1, 2, 3, 5, 4, 4]))
        #expect(throws: LinalgError.invalidThreshold(0)) { try pca.componentCount(forVariance: 0) }
        #expect(throws: LinalgError.invalidThreshold(1.5)) { try pca.componentCount(forVariance: 1.5) }
        #expect(throws: LinalgError.columnMismatch(found: 3, expected: 2)) { try pca.transform(Tensor(zeros: [1, 3])) }
        #expect(throws: LinalgError.invalidRank(requested: 3, maximum: 2)) { try pca.truncated(to: 3) }
        #expect(throws: LinalgError.invalidRank(requested: 0, maximum: 2)) { try PCA.fit(Tensor(zeros: [3, 2]), keeping: .count(0)) }
        let truncated = try pca.truncated(to: 1)
        #expect(throws: LinalgError.self) { try truncated.componentCount(forVariance: 1.0) }
    }
}

// MARK: - Randomized solver

/// Leading components from the randomized solver (64 kept, + 10 samples, 4 power iterations)
/// against the exact ones: the sampling error of component 8 shrinks like (σ₇₅/σ₈)^9. Measured
/// worst |Δ| over the first 8: 1.1e-3 (layer 15 kv_proj), ≤ 3e-7 for layer 0. Bound with ~2× margin:
let randomizedComponentMaxAbs = 2e-3
/// Their explained-variance ratios, relative: measured worst 9e-5 (layer 15 kv_proj).
let randomizedRatioRelative = 1e-3

@Suite struct RandomizedPCATests {
    @Test(arguments: pcaCases)
    func varianceTargetNeverKeepsFewerComponentsThanExact(_ c: PCACase) throws {
        let x = try c.matrix()
        let exact = try PCA.fit(x, solver: .exact)
        for t in [0.3, 0.5, 0.9, 0.95] {
            let randomized = try PCA.fit(x, keeping: .variance(t), solver: .randomized(seed: 3))
            let needed = try exact.componentCount(forVariance: t)
            #expect(randomized.componentCount >= needed, "\(c) t=\(t)")
            let allowed = needed + Int(adaptiveExcessFraction * Double(needed)) + adaptiveExcessAbsolute
            #expect(randomized.componentCount <= allowed, "\(c) t=\(t): \(randomized.componentCount) vs \(needed)")
            #expect(!randomized.isComplete || randomized.componentCount == min(x.shape[0], x.shape[1]))
        }
    }

    @Test(arguments: pcaCases)
    func fixedCountMatchesExactLeadingComponents(_ c: PCACase) throws {
        let x = try c.matrix()
        let exact = try PCA.fit(x, solver: .exact)
        let randomized = try PCA.fit(x, keeping: .count(64), solver: .randomized(seed: 5))
        #expect(randomized.componentCount == 64 && !randomized.isComplete)
        let f = x.shape[1]
        for i in 0..<8 {
            let worst = (0..<f).map { abs(randomized.components[i, $0] - exact.components[i, $0]) }.max()!
            #expect(Double(worst) <= randomizedComponentMaxAbs, "\(c): component \(i), signs included")
        }
        // Ratios are relative to the exact total variance, so they agree too.
        for i in 0..<8 {
            #expect(abs(randomized.explainedVarianceRatio[i] - exact.explainedVarianceRatio[i])
                    <= Float(randomizedRatioRelative) * exact.explainedVarianceRatio[i])
        }
    }

    /// `.auto` on a matrix above `autoExactLimit` whose target needs more than
    /// `autoRandomizedFraction` of the components abandons the randomized basis for the exact SVD:
    /// the count is then exactly the exact solver's.
    @Test func autoFallsBackToExactForLargeTargets() throws {
        var rng = Xoshiro256StarStar(seed: 12)
        let x = gaussianTensor(shape: [PCA.autoExactLimit + 60, PCA.autoExactLimit + 6], using: &rng)
        let exact = try PCA.fit(x, solver: .exact)
        let auto = try PCA.fit(x, keeping: .variance(0.9), solver: .auto)
        let needed = try exact.componentCount(forVariance: 0.9)
        #expect(Double(needed) > PCA.autoRandomizedFraction * Double(PCA.autoExactLimit + 6))
        #expect(auto.componentCount == needed)
        #expect(auto.singularValues == Array(exact.singularValues[0..<needed]))
    }
}
