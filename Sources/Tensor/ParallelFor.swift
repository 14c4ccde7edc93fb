// The one place that shares work across threads. Removing the parallelism (running the body for
// every index in order) gives the same result: each index writes only its own outputs.
//
// On Linux the loop runs on persistent worker threads that spin on an atomic counter between jobs
// (and sleep after a while idle), because `DispatchQueue.concurrentPerform` costs more than a job of
// under ~70 µs is worth (DESIGN.md: a decode-step GEMV ran slower on two threads than on one).
// Elsewhere it uses `concurrentPerform`.
import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Public surface

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

/// The threads a parallel loop runs on, the caller's included: every processor unless `limitThreads`
/// said fewer.
package var threadCount: Int { threadLimit.load(ordering: .relaxed) }

/// Runs the parallel loops on `count` threads (clamped to 1…`activeProcessorCount`). Results do not
/// change: each index writes only its own outputs, in an order that does not depend on the thread.
package func limitThreads(to count: Int) {
    threadLimit.store(min(max(1, count), activeProcessorCount), ordering: .relaxed)
}

private let threadLimit = Atomic<Int>(activeProcessorCount)

/// Runs `body` with the persistent workers kept spinning between jobs instead of going to sleep
/// after their idle spin (a generation: the gaps between decode steps — sampling, printing — would
/// otherwise put them to sleep, and waking one costs more than a small job). Holds nest.
package func keepingWorkersAwake<R>(_ body: () throws -> R) rethrows -> R {
    awakeHolds.add(1, ordering: .relaxed)
    defer { awakeHolds.subtract(1, ordering: .relaxed) }
    return try body()
}

private let awakeHolds = Atomic<Int>(0)

/// About the least work (in multiply-adds, or similarly cheap steps) for which splitting a job
/// across threads pays: starting a loop on the spinning workers costs ~1 µs, `concurrentPerform`
/// tens of µs.
package let parallelMinimumWork: Int = WorkerPool.shared == nil ? 2_000_000 : 250_000

/// Runs `body(i)` for every `i` in `0..<count`, on `threadCount` threads when `count > 1`. Indices
/// are handed out one at a time, so uneven indices balance. A `parallelFor` started inside another
/// one's body (or while another thread's is running) runs serially on its caller's thread.
package func parallelFor(_ count: Int, _ body: @Sendable (Int) -> Void) {
    if count <= 0 { return }
    let threads = threadCount
    if count == 1 || threads == 1 { for i in 0..<count { body(i) }; return }
    if let pool = WorkerPool.shared {
        if !pool.run(count, helpers: threads - 1, body) { for i in 0..<count { body(i) } }
    } else {
        // `threads` loops, each taking the next index until none is left.
        let next = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: min(threads, count)) { _ in
            while true {
                let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
                if i >= count { return }
                body(i)
            }
        }
    }
}

/// `count` units split into jobs of about `preferred` units each, the number of jobs rounded up to a
/// multiple of `threadCount` so that equal jobs end together: returns the jobs and the units per job
/// (the last job takes what is left). For example 192 rows by 64 on two threads: 4 jobs of 48, not
/// 3 of 64, of which one thread would do two while the other waits.
package func balancedJobs(_ count: Int, preferred: Int) -> (jobs: Int, perJob: Int) {
    let threads = threadCount
    var jobs = max(1, (count + preferred - 1) / preferred)
    if jobs > 1 && threads > 1 { jobs = (jobs + threads - 1) / threads * threads }
    let perJob = max(1, (count + jobs - 1) / jobs)
    return ((count + perJob - 1) / perJob, perJob)
}

// MARK: - Persistent workers
//
// One job at a time lives in the pool: a pointer to the caller's closure, the index count, how many
// workers may help (the first `helpers`; `limitThreads` keeps the rest out), and the next index to
// hand out. `state` packs the job's epoch (high 32 bits) with the number of workers
// inside the job (low 32 bits); an odd epoch is open to join, an even one closed (0 at start).
//
//   caller:  write job ─► epoch += 1 (open) ─► take indices ─► epoch += 1 (close) ─► wait inside = 0
//   worker:  see a new open epoch ─► inside += 1 (CAS, fails if closed meanwhile) ─► take indices
//            ─► inside -= 1
//
// The caller never waits for a worker to start — a worker that arrives after closing just skips the
// job — only for joined workers to finish the index each holds. While `inside` is 0 and the epoch is
// closed nobody reads the job, so the caller may rewrite it.

typealias LoopBody = @Sendable (Int) -> Void

final class WorkerPool: @unchecked Sendable {
    /// The pool, or nil where it is not available (one processor, or no pthreads).
    static let shared: WorkerPool? = {
        #if canImport(Glibc) || canImport(Musl)
        return activeProcessorCount > 1 ? WorkerPool(workers: activeProcessorCount - 1) : nil
        #else
        return nil
        #endif
    }()

    /// How long an idle worker spins before it sleeps: longer than the gaps between the kernels of
    /// one decode step, short enough not to hold a core while the program does something else.
    private static let spinNanoseconds: UInt64 = 300_000

    private let state = Atomic<UInt64>(0)
    private let busy = Atomic<Bool>(false)
    private let next = Atomic<Int>(0)
    // The job: written by the caller only while the epoch is closed and nobody is inside.
    private nonisolated(unsafe) var body: UnsafeRawPointer? = nil
    private nonisolated(unsafe) var count = 0
    private nonisolated(unsafe) var helpers = 0
    private let sleepers: [Sleeper]

    /// A worker's bed: it sets `asleep` and waits on `wake`; the caller signals it after publishing.
    private final class Sleeper: Sendable {
        let asleep = Atomic<Bool>(false)
        let wake = DispatchSemaphore(value: 0)
    }

    private init(workers: Int) {
        sleepers = (0..<workers).map { _ in Sleeper() }
        #if canImport(Glibc) || canImport(Musl)
        for index in 0..<workers {
            let context = Unmanaged.passRetained(WorkerStart(pool: self, index: index)).toOpaque()
            var thread = pthread_t()
            let started = pthread_create(&thread, nil, { raw in
                let start = Unmanaged<WorkerStart>.fromOpaque(raw!).takeRetainedValue()
                start.pool.workerLoop(start.index)
                return nil
            }, context)
            if started == 0 { pthread_detach(thread) } else { Unmanaged<WorkerStart>.fromOpaque(context).release() }
        }
        #endif
    }

    private final class WorkerStart {
        let pool: WorkerPool
        let index: Int
        init(pool: WorkerPool, index: Int) { self.pool = pool; self.index = index }
    }

    /// Runs the loop with the help of the first `helpers` workers; false (having run nothing) if the
    /// pool is busy.
    func run(_ count: Int, helpers: Int, _ body: LoopBody) -> Bool {
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        defer { busy.store(false, ordering: .releasing) }
        withoutActuallyEscaping(body) { escapable in
            withUnsafePointer(to: escapable) { pointer in
                // Closed and empty (the previous run ended so): nobody reads the job while we write it.
                self.body = UnsafeRawPointer(pointer)
                self.count = count
                self.helpers = helpers
                next.store(0, ordering: .relaxed)
                state.add(1 << 32, ordering: .sequentiallyConsistent)           // open
                for sleeper in sleepers.prefix(helpers) where sleeper.asleep.load(ordering: .sequentiallyConsistent) {
                    sleeper.wake.signal()
                }
                takeIndices(pointer.pointee, count)
                state.add(1 << 32, ordering: .sequentiallyConsistent)           // close
                var spins = 0
                while state.load(ordering: .acquiring) & 0xFFFF_FFFF != 0 { backOff(&spins) }
            }
        }
        return true
    }

    /// Not inlined, so every retain of the closure made while calling it is released before returning.
    @inline(never)
    private func takeIndices(_ body: LoopBody, _ count: Int) {
        while true {
            let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
            if i >= count { return }
            body(i)
        }
    }

    private func workerLoop(_ index: Int) {
        let sleeper = sleepers[index]
        var seen: UInt64 = 0                       // the last epoch this worker looked at
        var idleSince = monotonicNanoseconds()
        var spins = 0
        while true {
            let s = state.load(ordering: .acquiring)
            let epoch = s >> 32
            if epoch != seen && epoch & 1 == 1 {
                // A new open job: join it unless it closes first. Inside, the job cannot change, so
                // `helpers` says whether this worker takes part or leaves at once (and may sleep).
                if state.compareExchange(expected: s, desired: s + 1, ordering: .acquiringAndReleasing).exchanged {
                    let helping = index < helpers
                    if helping { takeIndices(self.body!.assumingMemoryBound(to: LoopBody.self).pointee, count) }
                    state.subtract(1, ordering: .releasing)
                    seen = epoch
                    if helping {
                        idleSince = monotonicNanoseconds()
                        spins = 0
                    }
                }
                continue
            }
            seen = epoch                             // a closed epoch (or the one just done): nothing to join
            spins += 1
            if spins & 255 == 0 && awakeHolds.load(ordering: .relaxed) == 0
                && monotonicNanoseconds() - idleSince > Self.spinNanoseconds {
                // Sleep. Setting `asleep` before re-reading the state (both sequentially consistent)
                // means a job published meanwhile is seen here, or its caller sees `asleep` and signals.
                sleeper.asleep.store(true, ordering: .sequentiallyConsistent)
                if state.load(ordering: .sequentiallyConsistent) >> 32 == seen { sleeper.wake.wait() }
                sleeper.asleep.store(false, ordering: .sequentiallyConsistent)
                idleSince = monotonicNanoseconds()
                spins = 0
            }
        }
    }
}

/// Waits a little: spins at first, then yields the processor (another process may need it).
private func backOff(_ spins: inout Int) {
    spins += 1
    #if canImport(Glibc) || canImport(Musl)
    if spins > 1000 { sched_yield() }
    #endif
}

private func monotonicNanoseconds() -> UInt64 {
    DispatchTime.now().uptimeNanoseconds
}
