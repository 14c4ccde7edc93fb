// The project's generator against the published algorithms, re-implemented in Python from their
// definitions (Tools/reference/linalg.py): exact 64-bit outputs, and Gaussians to within the
// difference between this module's logarithm and the platform's.
import Testing
import Linalg
import Tensor

/// Our ln (atanh series, a few ulp) vs Python's math.log (≤ 1 ulp): the Gaussians differ by a few ulp.
let gaussianRelative = 1e-14

@Suite struct RandomTests {
    @Test(arguments: ["0", "1", "42", "18446744073709551615"])
    func matchesReference(seed: String) throws {
        let entry = (try LinalgFixtures.manifest()["rng"] as! [String: Any])[seed] as! [String: Any]
        var rng = Xoshiro256StarStar(seed: UInt64(seed)!)
        let expected = (entry["uint64"] as! [String]).map { UInt64($0)! }
        #expect((0..<8).map { _ in rng.next() } == expected)

        var gaussians = [Double](repeating: 0, count: 9)
        var fresh = Xoshiro256StarStar(seed: UInt64(seed)!)
        gaussians.withUnsafeMutableBufferPointer { fillGaussian($0, using: &fresh) }
        for (x, y) in zip(gaussians, entry["gaussian"] as! [Double]) {
            #expect(abs(x - y) <= gaussianRelative * max(abs(y), 1e-300))
        }
    }

    @Test func naturalLogIsAccurate() {
        var rng = Xoshiro256StarStar(seed: 4)
        for _ in 0..<10_000 {
            let x = uniform(using: &rng) + 1e-300
            let reference = log(x)
            #expect(abs(naturalLog(x) - reference) <= 4 * Double.ulpOfOne * abs(reference) + 1e-300)
        }
    }
}

import Foundation
