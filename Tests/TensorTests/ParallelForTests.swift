// parallelFor runs every index exactly once: back-to-back jobs, jobs after the workers fall asleep,
// nested loops (which run serially) and loops started from several threads at once.
import Dispatch
import Synchronization
import Testing
import Tensor

/// Counts visits per index.
private final class Visits: Sendable {
    final class Counter: Sendable { let value = Atomic<Int>(0) }
    let counts: [Counter]
    init(_ n: Int) { counts = (0..<n).map { _ in Counter() } }
    func visit(_ i: Int) { counts[i].value.add(1, ordering: .relaxed) }
    var allOnce: Bool { counts.allSatisfy { $0.value.load(ordering: .relaxed) == 1 } }
}

@Test func parallelForVisitsEveryIndexOnceInBackToBackJobs() {
    var failures = 0
    for round in 0..<3000 {
        let n = 1 + round % 67
        let visits = Visits(n)
        parallelFor(n) { visits.visit($0) }
        if !visits.allOnce { failures += 1 }
    }
    #expect(failures == 0)
}

@Test func parallelForWorksAfterTheWorkersSleep() {
    for _ in 0..<5 {
        usleepMilliseconds(2)                                   // longer than the workers spin
        let visits = Visits(40)
        parallelFor(40) { visits.visit($0) }
        #expect(visits.allOnce)
    }
}

@Test func nestedAndConcurrentParallelForsVisitEveryIndexOnce() {
    let outer = 9, inner = 13
    let visits = Visits(outer * inner)
    parallelFor(outer) { i in
        parallelFor(inner) { j in visits.visit(i * inner + j) }
    }
    #expect(visits.allOnce)

    let threads = 4, perThread = 200
    let concurrent = Visits(threads * perThread * 7)
    DispatchQueue.concurrentPerform(iterations: threads) { t in
        for r in 0..<perThread {
            let base = (t * perThread + r) * 7
            parallelFor(7) { concurrent.visit(base + $0) }
        }
    }
    #expect(concurrent.allOnce)
}

private func usleepMilliseconds(_ ms: Int) {
    let end = DispatchTime.now().uptimeNanoseconds + UInt64(ms) * 1_000_000
    let semaphore = DispatchSemaphore(value: 0)
    _ = semaphore.wait(timeout: DispatchTime(uptimeNanoseconds: end))
}
