// What this binary is: its version, how it was built, and whether the fast kernels are on.
// Swift has no `#if` on CPU features, so the Makefile says it: it builds with `-Xcc -march=native`
// (which gives the compiler a CPU with FMA) and `-Xswiftc -DSURGERY_FAST_KERNELS` beside it.
// Without a CPU with FMA, SIMD `addingProduct` becomes a call to `fmaf` per lane (DESIGN.md).

enum Build {
    static let version = "0.1.0"

    #if SURGERY_FAST_KERNELS
    static let fastKernels = true
    static let flags = "SURGERY_FAST_KERNELS set (as by the Makefile: -Xcc -march=native -Xswiftc -DSURGERY_FAST_KERNELS)"
    #else
    static let fastKernels = false
    static let flags = "SURGERY_FAST_KERNELS not set (no target CPU declared)"
    #endif

    #if DEBUG
    static let configuration = "debug (the kernel modules are optimized all the same)"
    #else
    static let configuration = "release"
    #endif

    #if arch(x86_64)
    static let architecture = "x86_64"
    #elseif arch(arm64)
    static let architecture = "arm64"
    #else
    static let architecture = "other"
    #endif

    /// What `surgery --version` prints.
    static var description: String {
        """
        surgery \(version)
        build: \(configuration), \(architecture)
        build flags: \(flags)
        fast kernels: \(fastKernels ? "on (built for a CPU with FMA)" : "off (no FMA: kernels ~100× slower; build with `make build`)")
        """
    }

    /// One line at the start of every command of a build without the fast kernels.
    static let slowBuildWarning = "surgery: warning: built without FMA: kernels ~100× slower; build with `make build`"
        + " (-Xcc -march=native -Xswiftc -DSURGERY_FAST_KERNELS)"
}
