// The one place that shares work across threads. Removing the parallelism (running the body for
// every index in order) gives the same result: each index writes only its own outputs.
import Dispatch

/// A raw pointer that may cross into the parallel loop's closure. Each index must touch a disjoint
/// part of the memory it points to.
package struct SharedPointer<Element>: @unchecked Sendable {
    package let base: UnsafeMutablePointer<Element>
    package init(_ base: UnsafeMutablePointer<Element>) { self.base = base }
}

/// Runs `body(i)` for every `i` in `0..<count`, on all cores when `count > 1`.
package func parallelFor(_ count: Int, _ body: @Sendable (Int) -> Void) {
    if count <= 0 { return }
    if count == 1 { body(0); return }
    DispatchQueue.concurrentPerform(iterations: count, execute: body)
}
