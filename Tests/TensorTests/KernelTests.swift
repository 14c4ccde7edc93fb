// RMSNorm, softmax (and its log, NLL, KL), SiLU/SwiGLU and RoPE: each fast kernel against its scalar
// twin on odd sizes, and both against PyTorch/transformers on the recorded inputs.
import Foundation
import Testing
import Tensor

// MARK: - Tolerances

/// RMSNorm: Float throughout; the mean of squares is summed in another order than torch's (relative
/// error ≲ dim·u in the scale, u = 2⁻²⁴), plus the rounding of 1/√ and two products.
private let rmsNormRelative: Float = 1e-5
private let rmsNormAbsolute: Float = 1e-6
/// Softmax: vectorExp is within 2 ulp of eˣ, sums in another order; results below ~2e-38 flush to 0.
private let softmaxRelative: Float = 1e-5
private let softmaxAbsolute: Float = 1e-30
/// Log-domain values (log-softmax, log-sum-exp, NLL): the log of a sum accurate to ~1e-6 relative,
/// added to values of magnitude up to ~100.
private let logAbsolute: Float = 2e-5
private let logRelative: Float = 2e-6
/// KL: a sum of ~1000 terms that partly cancel; Float accumulation error ~ √n · u · Σ|terms|.
private let klAbsolute: Float = 2e-5
/// SiLU: x / (1 + e⁻ˣ) with a 2-ulp exp and one division.
private let siluRelative: Float = 1e-6
/// RoPE tables: cos/sin of the same Float angle, each within an ulp (values ≤ 1).
private let ropeTableAbsolute: Float = 2e-7
/// RoPE output: two products and a sum of values ~N(0, 1), each factor within an ulp of torch's.
private let ropeAbsolute: Float = 2e-6

private func randomFloats(_ count: Int, scale: Float, seed: UInt64) -> [Float] {
    var rng = Xoshiro256StarStar(seed: seed)
    return (0..<count).map { _ in Float.random(in: -1..<1, using: &rng) * scale }
}

// MARK: - RMSNorm

@Test func rmsNormMatchesTransformers() throws {
    let cases = try KernelCase.all("rmsnorm")
    try #require(!cases.isEmpty)
    for c in cases {
        let x = try c.floats("x"), w = try c.floats("weight"), want = try c.floats("y")
        let rows = c.int("rows"), dim = c.int("dim"), eps = c.float("epsilon")
        for kernel in [rmsNorm, rmsNormReference] {
            var y = [Float](repeating: .nan, count: rows * dim)
            kernel(x, w, rows, dim, eps, &y)
            #expect(firstMismatch(y, want, atol: rmsNormAbsolute, rtol: rmsNormRelative) == nil, "\(c.name)")
        }
    }
}

@Test func rmsNormMatchesItsTwinAndWorksInPlace() {
    for dim in [1, 5, 15, 16, 17, 33, 64, 100, 576] {
        let rows = 3
        let x = randomFloats(rows * dim, scale: 4, seed: UInt64(dim)), w = randomFloats(dim, scale: 1, seed: 99)
        var fast = [Float](repeating: 0, count: rows * dim), slow = fast
        rmsNorm(x, weight: w, rows: rows, dim: dim, epsilon: 1e-5, into: &fast)
        rmsNormReference(x, weight: w, rows: rows, dim: dim, epsilon: 1e-5, into: &slow)
        #expect(firstMismatch(fast, slow, atol: rmsNormAbsolute, rtol: rmsNormRelative) == nil, "dim \(dim)")
        var inPlace = x
        inPlace.withUnsafeMutableBufferPointer { p in
            rmsNorm(p.baseAddress!, weight: w, rows: rows, dim: dim, epsilon: 1e-5, into: p.baseAddress!)
        }
        #expect(inPlace == fast, "in place, dim \(dim)")
    }
}

// MARK: - Softmax, log-sum-exp, NLL, KL

@Test func softmaxFamilyMatchesTorch() throws {
    let cases = try KernelCase.all("softmax")
    try #require(!cases.isEmpty)
    for c in cases {
        let x = try c.floats("x"), rows = c.int("rows"), columns = c.int("columns")
        var fast = x
        softmaxRows(&fast, rows: rows, columns: columns)
        var slow = x
        for r in 0..<rows { slow.withUnsafeMutableBufferPointer { softmaxReference($0.baseAddress! + r * columns, count: columns) } }
        let want = try c.floats("softmax")
        #expect(firstMismatch(fast, want, atol: softmaxAbsolute, rtol: softmaxRelative) == nil, "\(c.name) softmax")
        #expect(firstMismatch(slow, want, atol: softmaxAbsolute, rtol: softmaxRelative) == nil, "\(c.name) reference")

        var logs = [Float](repeating: 0, count: rows * columns)
        var lse = [Float](), lseReference = [Float]()
        x.withUnsafeBufferPointer { px in
            logs.withUnsafeMutableBufferPointer { py in
                for r in 0..<rows {
                    logSoftmax(px.baseAddress! + r * columns, count: columns, into: py.baseAddress! + r * columns)
                    lse.append(logSumExp(px.baseAddress! + r * columns, count: columns))
                    lseReference.append(logSumExpReference(px.baseAddress! + r * columns, count: columns))
                }
            }
        }
        #expect(firstMismatch(logs, try c.floats("logsoftmax"), atol: logAbsolute, rtol: logRelative) == nil, "\(c.name) log-softmax")
        #expect(firstMismatch(lse, try c.floats("logsumexp"), atol: logAbsolute, rtol: logRelative) == nil, "\(c.name) log-sum-exp")
        #expect(firstMismatch(lseReference, try c.floats("logsumexp"), atol: logAbsolute, rtol: logRelative) == nil, "\(c.name) reference")
    }
}

@Test func nllAndKLMatchTorch() throws {
    let cases = try KernelCase.all("divergence")
    try #require(cases.count == 1)
    let c = cases[0]
    let p = try c.floats("p"), q = try c.floats("q"), columns = c.int("columns"), targets = c.ints("targets")
    var nll = [Float](), kl = [Float](), klSlow = [Float]()
    p.withUnsafeBufferPointer { pp in
        q.withUnsafeBufferPointer { pq in
            for (r, target) in targets.enumerated() {
                let rowP = pp.baseAddress! + r * columns, rowQ = pq.baseAddress! + r * columns
                nll.append(negativeLogLikelihood(logits: rowP, count: columns, target: target))
                kl.append(klDivergence(logitsP: rowP, logitsQ: rowQ, count: columns))
                klSlow.append(klDivergenceReference(logitsP: rowP, logitsQ: rowQ, count: columns))
            }
        }
    }
    #expect(firstMismatch(nll, try c.floats("nll"), atol: logAbsolute, rtol: logRelative) == nil)
    #expect(firstMismatch(kl, try c.floats("kl"), atol: klAbsolute, rtol: 0) == nil)
    #expect(firstMismatch(klSlow, try c.floats("kl"), atol: klAbsolute, rtol: 0) == nil)
}

@Test func softmaxFamilyMatchesItsTwinsOnOddSizes() {
    for count in [1, 2, 15, 16, 17, 31, 100, 1001] {
        let x = randomFloats(count, scale: 20, seed: UInt64(count) &+ 7)
        var fast = x, slow = x
        softmax(&fast, count: count)
        softmaxReference(&slow, count: count)
        #expect(firstMismatch(fast, slow, atol: softmaxAbsolute, rtol: softmaxRelative) == nil, "softmax \(count)")
        #expect(abs(logSumExp(x, count: count) - logSumExpReference(x, count: count)) <= logAbsolute, "lse \(count)")
        let y = randomFloats(count, scale: 20, seed: UInt64(count) &+ 8)
        #expect(abs(klDivergence(logitsP: x, logitsQ: y, count: count) - klDivergenceReference(logitsP: x, logitsQ: y, count: count))
                <= klAbsolute * Float(count).squareRoot(), "kl \(count)")
        #expect(abs(klDivergence(logitsP: x, logitsQ: x, count: count)) <= klAbsolute, "kl(p ‖ p) = 0, \(count)")
    }
}

@Test func softmaxEdgeCases() {
    var masked: [Float] = [1, -.infinity, 2, -.infinity]
    softmax(&masked, count: 4)
    #expect(masked[1] == 0 && masked[3] == 0 && abs(masked[0] + masked[2] - 1) < 1e-6)
    var single: [Float] = [-1e30]
    softmax(&single, count: 1)
    #expect(single == [1])
    let allMasked: [Float] = [-.infinity, -.infinity]
    #expect(logSumExp(allMasked, count: 2) == -.infinity)
    #expect(logSumExp([Float](), count: 0) == -.infinity)
    #expect(logSumExp([1, .infinity], count: 2) == .infinity)
}

// MARK: - SiLU and SwiGLU

@Test func siluAndSwigluMatchTorch() throws {
    let s = try #require(try KernelCase.all("silu").first)
    let x = try s.floats("x"), want = try s.floats("y")
    var fast = x, slow = x
    silu(&fast, count: x.count)
    siluReference(&slow, count: x.count)
    #expect(firstMismatch(fast, want, atol: 0, rtol: siluRelative) == nil)
    #expect(firstMismatch(slow, want, atol: 0, rtol: siluRelative) == nil)

    let g = try #require(try KernelCase.all("swiglu").first)
    let gate = try g.floats("gate"), up = try g.floats("up"), wantProduct = try g.floats("y")
    var product = [Float](repeating: .nan, count: gate.count), productSlow = product
    swiglu(gate: gate, up: up, count: gate.count, into: &product)
    swigluReference(gate: gate, up: up, count: gate.count, into: &productSlow)
    #expect(firstMismatch(product, wantProduct, atol: 0, rtol: siluRelative) == nil)
    #expect(firstMismatch(productSlow, wantProduct, atol: 0, rtol: siluRelative) == nil)
}

@Test func siluAndSwigluMatchTheirTwinsOnOddSizes() {
    for count in [1, 7, 16, 17, 40, 1537] {
        let x = randomFloats(count, scale: 30, seed: UInt64(count) &+ 100), u = randomFloats(count, scale: 2, seed: 5)
        var fast = x, slow = x
        silu(&fast, count: count)
        siluReference(&slow, count: count)
        #expect(firstMismatch(fast, slow, atol: 0, rtol: siluRelative) == nil, "silu \(count)")
        var product = [Float](repeating: 0, count: count), productSlow = product
        swiglu(gate: x, up: u, count: count, into: &product)
        swigluReference(gate: x, up: u, count: count, into: &productSlow)
        #expect(firstMismatch(product, productSlow, atol: 0, rtol: siluRelative) == nil, "swiglu \(count)")
    }
}

// MARK: - RoPE

@Test func ropeMatchesTransformers() throws {
    let cases = try KernelCase.all("rope")
    try #require(cases.count == 2)
    for c in cases {
        let heads = c.int("heads"), headDim = c.int("headDim"), positions = c.ints("positions")
        let table = RoPETable(headDim: headDim, theta: c.float("theta"), positions: positions.max()! + 1)
        let half = headDim / 2
        let ourCos = positions.flatMap { table.cosines[($0 * half)..<($0 * half + half)] }
        let ourSin = positions.flatMap { table.sines[($0 * half)..<($0 * half + half)] }
        #expect(firstMismatch(ourCos, try c.floats("cos"), atol: ropeTableAbsolute, rtol: 0) == nil, "\(c.name) cos")
        #expect(firstMismatch(ourSin, try c.floats("sin"), atol: ropeTableAbsolute, rtol: 0) == nil, "\(c.name) sin")

        let x = try c.floats("x"), want = try c.floats("y")
        var fast = x, slow = x
        let row = heads * headDim
        for (t, position) in positions.enumerated() {
            fast.withUnsafeMutableBufferPointer { applyRoPE($0.baseAddress! + t * row, heads: heads, position: position, table: table) }
            slow.withUnsafeMutableBufferPointer { applyRoPEReference($0.baseAddress! + t * row, heads: heads, position: position, table: table) }
        }
        #expect(fast == slow, "\(c.name): fast and reference differ")
        #expect(firstMismatch(fast, want, atol: ropeAbsolute, rtol: 0) == nil, "\(c.name)")
    }
}

@Test func ropeOverConsecutiveTokensEqualsPerToken() {
    let table = RoPETable(headDim: 64, theta: 100_000, positions: 64)
    let tokens = 5, heads = 3, stride = 4 * 64           // rows wider than the heads rotated (k inside qkv)
    let x = randomFloats(tokens * stride, scale: 1, seed: 11)
    var all = x, each = x
    applyRoPE(&all, tokens: tokens, rowStride: stride, heads: heads, firstPosition: 10, table: table)
    for t in 0..<tokens {
        each.withUnsafeMutableBufferPointer { applyRoPE($0.baseAddress! + t * stride, heads: heads, position: 10 + t, table: table) }
    }
    #expect(all == each)
    #expect(all[(3 * 64)..<(4 * 64)] == x[(3 * 64)..<(4 * 64)], "the fourth head of each row is left alone")
    // Position 0 is the identity.
    var zero = x
    applyRoPE(&zero, heads: heads, position: 0, table: table)
    #expect(zero == x)
}

// MARK: - vectorExp

/// vectorExp against libm's double-precision exp rounded to Float.
@Test func vectorExpIsWithinTwoUlpsOverItsRange() {
    var worst: Float = 0
    var worstX: Float = 0
    var x: Float = -86.9
    while x < 88.72 {
        var lanes = SIMD16<Float>()
        for i in 0..<16 { lanes[i] = x + Float(i) * 0.000_37 }
        let got = vectorExp(lanes)
        for i in 0..<16 {
            let want = Float(Foundation.exp(Double(lanes[i])))
            let ulps = abs(got[i] - want) / want.ulp
            if ulps > worst { worst = ulps; worstX = lanes[i] }
        }
        x += 16 * 0.000_37 + 0.001_3
    }
    #expect(worst <= 2, "worst \(worst) ulp at x = \(worstX)")
    let special = vectorExp(SIMD16<Float>([-.infinity, .infinity, .nan, -1000, 1000, 0, -87.5, 88.8,
                                          1, -1, 0.5, 10, -10, 80, -80, 88.7]))
    #expect(special[0] == 0 && special[1] == .infinity && special[2].isNaN && special[3] == 0)
    #expect(special[4] == .infinity && special[5] == 1 && special[6] == 0 && special[7] == .infinity)
    #expect(special[15].isFinite && special[15] > 3e38)
}

// MARK: - GEMM against numpy

/// numpy's float32 matmul (OpenBLAS) against ours: both round k = 29 products; see GEMMTests.
private let gemmFixtureAbsolute: Float = 2 * 29 * 0x1p-24 * 29

@Test func gemmMatchesNumpy() throws {
    let c = try #require(try KernelCase.all("gemm").first)
    let m = c.int("m"), n = c.int("n"), k = c.int("k")
    let a = Tensor(shape: [m, k], scalars: try c.floats("a"))
    let b = Tensor(shape: [k, n], scalars: try c.floats("b"))
    let bT = Tensor(shape: [n, k], scalars: try c.floats("bT"))
    let want = try c.floats("c")
    #expect(firstMismatch(matmul(a, b).scalars, want, atol: gemmFixtureAbsolute, rtol: 0) == nil)
    #expect(firstMismatch(matmulTransposed(a, bT).scalars, want, atol: gemmFixtureAbsolute, rtol: 0) == nil)
    var reference = [Float](repeating: 0, count: m * n)
    gemmReference(m: m, n: n, k: k, a: a.scalars, lda: k, b: b.scalars, ldb: n, transposeB: false, c: &reference, ldc: n)
    #expect(firstMismatch(reference, want, atol: gemmFixtureAbsolute, rtol: 0) == nil)
}
