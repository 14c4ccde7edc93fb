// The one place that shares work across threads. Removing the parallelism (running the body for
// every index in order) gives the same result: each index writes only its own outputs.
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A raw pointer that may cross into the parallel loop's closure. Each index must touch a disjoint
/// part of the memory it points to.
package struct SharedPointer<Element>: @unchecked Sendable {
    package let base: UnsafeMutablePointer<Element>
    package init(_ base: UnsafeMutablePointer<Element>) { self.base = base }
    /// Wraps a read-only pointer; the loop body must only read through it.
    package init(readOnly base: UnsafePointer<Element>) { self.base = UnsafeMutablePointer(mutating: base) }
}

/// The number of processors the parallel loops plan for (online processors; 1 if unknown).
package let activeProcessorCount: Int = {
    #if canImport(Glibc) || canImport(Musl) || canImport(Darwin)
    return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    #else
    return 1
    #endif
}()

/// Runs `body(i)` for every `i` in `0..<count`, on all cores when `count > 1`.
package func parallelFor(_ count: Int, _ body: @Sendable (Int) -> Void) {
    if count <= 0 { return }
    if count == 1 { body(0); return }
    DispatchQueue.concurrentPerform(iterations: count, execute: body)
}
