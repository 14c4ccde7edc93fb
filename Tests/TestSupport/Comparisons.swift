// Comparisons of long arrays that report briefly. `#expect(a == b)` on two arrays that differ makes
// Swift Testing print their difference, which it computes with an O(n·d) edit-distance search: on a
// model's logits (tokens × 49,152) that runs for hours. These compare element by element and say how
// many differ and where the first one is. They are inlinable so that each call is specialized to its
// element and collection types: unspecialized, the generic iteration costs ~1 µs per element.

/// nil when `a` and `b` hold the same bit patterns in the same order; otherwise what differs.
@inlinable public func bitDifference(_ a: some Collection<Float>, _ b: some Collection<Float>) -> String? {
    difference(a, b, describe: { "\($0) (0x\(String($0.bitPattern, radix: 16)))" }) { $0.bitPattern == $1.bitPattern }
}

/// nil when `a == b` element by element; otherwise what differs.
@inlinable public func elementDifference<T: Equatable>(_ a: some Collection<T>, _ b: some Collection<T>) -> String? {
    difference(a, b, describe: { "\($0)" }) { $0 == $1 }
}

@inlinable func difference<T>(_ a: some Collection<T>, _ b: some Collection<T>, describe: (T) -> String,
                           equal: (T, T) -> Bool) -> String? {
    if a.count != b.count { return "counts differ: \(a.count) and \(b.count)" }
    var differing = 0
    var first: (index: Int, a: T, b: T)? = nil
    var index = 0
    var i = a.startIndex, j = b.startIndex
    while i != a.endIndex {
        let x = a[i], y = b[j]
        if !equal(x, y) {
            differing += 1
            if first == nil { first = (index, x, y) }
        }
        index += 1
        a.formIndex(after: &i)
        b.formIndex(after: &j)
    }
    guard let first else { return nil }
    return "\(differing) of \(a.count) differ; the first at \(first.index): \(describe(first.a)) and \(describe(first.b))"
}
