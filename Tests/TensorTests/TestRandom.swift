// Random test inputs from the project's seeded generator, so every run and platform sees the same
// matrices.
import Tensor

extension Array where Element == Float {
    /// `count` values uniform in [-1, 1).
    static func random(_ count: Int, using rng: inout Xoshiro256StarStar) -> [Float] {
        (0..<count).map { _ in Float.random(in: -1..<1, using: &rng) }
    }
}
