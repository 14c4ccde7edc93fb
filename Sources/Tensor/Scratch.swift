// Reusable scratch memory for the kernels' packed copies. Allocating a multi-megabyte buffer on
// every call costs a page fault per 4 KB (the kernel hands out fresh, zeroed pages), which measured
// as more system time than compute time for repeated mid-sized GEMMs.
import Synchronization

/// A pool of 64-byte aligned buffers: a caller takes one (growing it if it is too small), uses it,
/// and gives it back. Safe to use from several threads at once; each caller gets its own buffer.
package enum Scratch {
    private struct Buffer: @unchecked Sendable {
        var base: UnsafeMutableRawPointer
        var byteCount: Int
    }

    /// Buffers larger than this are freed instead of kept, so one huge call does not pin its memory.
    private static let largestKeptByteCount = 64 << 20
    private static let idle = Mutex<[Buffer]>([])

    /// Runs `body` with `count` uninitialized Floats, 64-byte aligned.
    package static func withFloats<R>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        let byteCount = max(64, count * MemoryLayout<Float>.stride)
        var buffer = idle.withLock { $0.popLast() } ?? Buffer(base: .allocate(byteCount: byteCount, alignment: 64),
                                                              byteCount: byteCount)
        if buffer.byteCount < byteCount {
            buffer.base.deallocate()
            buffer = Buffer(base: .allocate(byteCount: byteCount, alignment: 64), byteCount: byteCount)
        }
        defer {
            if buffer.byteCount > largestKeptByteCount {
                buffer.base.deallocate()
            } else {
                let kept = buffer
                idle.withLock { $0.append(kept) }
            }
        }
        return try body(buffer.base.bindMemory(to: Float.self, capacity: count))
    }
}
