// The dense SVD against numpy/LAPACK (dgesdd in float64 of the same float32 inputs), signs included.
// Fixtures: Tests/Fixtures/linalg/svd, written by Tools/reference/linalg.py.
import Testing
import Tensor
import Linalg

/// |σᵢ − σᵢ(LAPACK)| ≤ this·σ₁: both are backward stable in Double (error ≈ ε·‖A‖ times a small
/// factor of the size), so they agree normwise to ~1e-15·σ₁; 1e-13 leaves room for the factor.
let singularValueNormwise = 1e-13
/// Singular vectors with a gap gᵢ = min distance to the neighbouring σ: perturbation theory bounds the
/// error by ≈ ε·σ₁/gᵢ. The fixture keeps only vectors with gᵢ > 1e-6·σ₁, so ≤ 2e-10; 1e-8 is safe.
let singularVectorMaxAbs = 1e-8
/// Public Float results: each value rounded once, ≈ 6e-8 relative.
let floatSingularValueRelative = 2e-7

@Suite struct ReferenceSVDTests {
    static let cases = ["tall", "wide", "square", "rank_deficient", "row", "column", "ill_conditioned", "tall_big"]

    @Test(arguments: cases)
    func matchesLAPACK(name: String) throws {
        let manifest = try LinalgFixtures.manifest()
        let entry = (manifest["svd"] as! [String: Any])[name] as! [String: Any]
        let shape = entry["shape"] as! [Int]
        let m = shape[0], n = shape[1], k = min(m, n)
        let determined = entry["determined_vectors"] as! Int
        let a = Tensor(shape: shape, scalars: try LinalgFixtures.floats(entry["a"] as! String))
        let s = try LinalgFixtures.doubles(entry["s"] as! String)
        let u = try LinalgFixtures.doubles(entry["u"] as! String)       // m×k, signs by svd_flip(u-based)
        let vt = try LinalgFixtures.doubles(entry["vt"] as! String)     // k×n

        // Internal Double results: values normwise, vectors where they are determined.
        let result = try singularValueDecomposition(try Matrix(checking: a), vectors: .both)
        var ud = result.u!
        var vtd: Matrix? = result.vt!
        flipSignsByU(u: &ud, vt: &vtd)
        for i in 0..<k {
            #expect(abs(result.s[i] - s[i]) <= singularValueNormwise * s[0], "\(name): σ\(i)")
        }
        for j in 0..<determined {
            let uError = (0..<m).map { abs(ud[$0, j] - u[$0 * k + j]) }.max()!
            let vError = (0..<n).map { abs(vtd![j, $0] - vt[j * n + $0]) }.max()!
            #expect(uError <= singularVectorMaxAbs, "\(name): column \(j) of U")
            #expect(vError <= singularVectorMaxAbs, "\(name): row \(j) of Vᵀ")
        }

        // Public Float API: the same values, rounded.
        let public_ = try svd(a)
        for i in 0..<k where s[i] > 1e-3 * s[0] {
            #expect(abs(Double(public_.singularValues[i]) - s[i]) <= floatSingularValueRelative * s[i], "\(name): σ\(i)")
        }
        let valuesOnly = try singularValues(of: a)
        #expect(valuesOnly == public_.singularValues || zip(valuesOnly, public_.singularValues).allSatisfy {
            abs(Double($0) - Double($1)) <= singularValueNormwise * s[0] + floatSingularValueRelative * Double($1)
        })
    }
}
