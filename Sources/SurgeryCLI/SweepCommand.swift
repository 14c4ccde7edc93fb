// `surgery sweep [MODEL] --variances … --modes … [--centrings …] --out DIR`: one surgery and one
// evaluation per (mode, centring, threshold), each matrix decomposed once; the report (Markdown, CSV,
// JSON, SVG plots) is rewritten after every row, so an interrupted sweep keeps what it finished, and
// the same command with `--resume DIR` instead of `--out DIR` computes only the rows still missing.
// `surgery spectrum [MODEL] --out DIR`: explained-variance curves per layer and components needed.
import Llama
import Surgery

func runSweep(_ arguments: inout Arguments) throws {
    let selections = try sweepSelections(&arguments)
    let bases = try basisList(&arguments)
    let uniform = arguments.flag("uniform")
    let modes = try groupingList(&arguments, default: [.separate, .sharedKV])
    let centrings = try centringList(&arguments, default: [.pca])
    let targets = try targetList(&arguments, "targets")
    let (fresh, resume) = (arguments.string("out"), arguments.string("resume"))
    if fresh != nil && resume != nil { throw UsageError("give --out DIR for a new sweep or --resume DIR to go on with one, not both") }
    guard let out = fresh ?? resume else { throw UsageError("sweep needs --out DIR (or --resume DIR, to go on with an interrupted sweep)") }
    var evaluation = try EvaluationRequest(&arguments)
    let sweep = try Sweep(targets: targets, points: SweepPoint.grid(bases: bases, modes: modes, centrings: centrings,
                                                                    selections: selections))
    let plans = try sweep.plans
    let hasBudget = plans.contains { if case .kvBudget = $0.selection { true } else { false } }
    if uniform && !hasBudget { throw UsageError("--uniform goes with --kv-budgets (it keeps each budget's ranks the same in every layer)") }
    let needsCalibration = plans.contains { PreparedSurgery.needsCalibration($0, uniform: uniform) }
    var calibration = try CalibrationRequest(&arguments, needed: needsCalibration)
    try arguments.finish(maxPositionals: 1)
    try evaluation.readText()
    try calibration.readText()
    let path = modelPath(arguments)
    let previous = try resume.map { try SweepReport.read(from: $0) }
    if let previous {
        try checkResumable(previous, in: out, targets: targets, points: sweep.points,
                           context: [("model", path), ("text", evaluation.source), ("window", "\(evaluation.window)")])
    } else {
        try refuseNonEmptyFolder(out, argument: "--out")
    }

    let loaded = try loadModel(path)
    for plan in plans { try plan.validate(for: loaded.model.weights) }
    let text = try evaluation.windows(loaded)
    let base = BaseEvaluation(model: loaded.model, windows: text.windows,
                              progress: windowProgress("base model", tokensPerWindow: text.window))
    let baseResult = EvaluationResult(base.score)
    status("base perplexity \(fixed(base.score.perplexity, 3))")

    let calibrationWindows = needsCalibration ? try calibration.windows(loaded, evaluation: evaluation, evaluated: text) : []
    let statistics = plans.contains { $0.basis.usesCalibration } ? calibration.statistics(loaded, windows: calibrationWindows) : nil
    var context: [(key: String, value: String)] = [
        ("model", path), ("text", evaluation.source), ("window", "\(text.window)"),
        ("windows", "\(text.windows.count)"), ("tokens scored", "\(base.score.scoredTokens)"),
    ]
    if let statistics { context.append(("calibration", "\(calibration.source), \(statistics.tokenCount) tokens")) }
    if hasBudget { context.append(("budget ranks", uniform ? "uniform" : "allocated by each layer's KL alone on \(PreparedSurgery.probeWindows) calibration windows")) }
    var finished: [SweepPoint: SweepRow] = [:]
    if let previous {
        try checkResumable(previous, in: out, context: context, basePerplexity: baseResult.perplexity)
        finished = Dictionary(previous.rows.map { ($0.point, $0) }, uniquingKeysWith: { first, _ in first })
    }
    let missing = sweep.points.filter { finished[$0] == nil }
    var report = SweepReport(base: baseResult, rows: sweep.points.compactMap { finished[$0] }, targets: sweep.targets,
                             context: context)
    try report.write(to: out)
    if previous != nil {
        status("resuming \(out): \(finished.count) of \(sweep.points.count) rows done, \(missing.count) to compute")
    }
    guard !missing.isEmpty else {
        print(report.markdown())
        status("nothing left to compute; rewrote \(SweepReport.fileNames.joined(separator: ", ")) in \(out)")
        return
    }
    let surgeon = Surgeon(base: loaded.model.weights, calibration: statistics)
    let probe = hasBudget && !uniform
        ? BaseEvaluation(model: loaded.model, windows: Array(calibrationWindows.prefix(PreparedSurgery.probeWindows))) : nil
    var done = finished.count
    try Sweep(targets: sweep.targets, points: missing).run(on: surgeon, base: baseResult, evaluate: { weights in
        done += 1
        let score = base.compare(loaded.model.replacingWeights(weights),
                                 progress: windowProgress("surgery \(done)/\(sweep.points.count)", tokensPerWindow: text.window))
        return EvaluationResult(score)
    }, allocate: probe.map { probe in { plan in
        let allocation = try surgeon.allocate(plan, probe: { probe.compare(loaded.model.replacingWeights($0)).meanKL }) { i, all in
            reportProgress(Stage(name: "allocating \(plan.selection): probing", steps: "layers"), done: i, total: all)
        }
        status("allocated: \(allocation.plan.selection)")
        return allocation.plan
    } }, progress: surgeryProgress, onRow: { row in
        finished[row.point] = row
        report.rows = sweep.points.compactMap { finished[$0] }                  // in the sweep's order
        try report.write(to: out)
        status("\(row.point): perplexity \(fixed(row.evaluation.perplexity, 3)) · KL \(fixed(row.evaluation.meanKL, 4))"
               + " · top-1 \(fixed(100 * row.evaluation.top1Agreement, 1))% · KV cache \(fixed(100 * row.kvCacheFraction, 1))%")
    })
    print(report.markdown())
    status("wrote \(SweepReport.fileNames.joined(separator: ", ")) to \(out)")
}

/// `--resume DIR` goes on only with the sweep that wrote DIR: the same targets, every row one of this
/// sweep's points, and the same context (model, text, windows, calibration, budget ranks). Called
/// before the model loads with what is known then, and again with the whole context and the base
/// perplexity, which must agree to the last bit (another model file or text would not).
func checkResumable(_ previous: SweepReport, in folder: String, targets: [SurgeryTarget]? = nil, points: [SweepPoint]? = nil,
                    context: [(key: String, value: String)], basePerplexity: Double? = nil) throws {
    let advice = "resume with the arguments of the sweep that wrote it, or start a new one with --out"
    if let targets, targets != previous.targets {
        throw UsageError("--resume \(folder): that sweep's targets are \(previous.targets.map(\.rawValue).joined(separator: ",")), "
                         + "this one's \(targets.map(\.rawValue).joined(separator: ",")); \(advice)")
    }
    if let points, let stray = previous.rows.first(where: { !points.contains($0.point) }) {
        throw UsageError("--resume \(folder): its row \"\(stray.point)\" is not a point of this sweep "
                         + "(check --variances, --ranks, --kv-budgets, --bases, --modes, --centrings); \(advice)")
    }
    let stored = Dictionary(previous.context.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
    // In the order the report lists them; with the whole context, also keys only the stored one has.
    var keys = context.map(\.key)
    if basePerplexity != nil { keys += previous.context.map(\.key).filter { !keys.contains($0) } }
    let given = Dictionary(context.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
    for key in keys {
        let (then, now) = (stored[key], given[key])
        let same = key == "model" ? then.map { sameFile($0, now ?? "") } ?? false : then == now
        if !same {
            throw UsageError("--resume \(folder): that sweep's \(key) was \(then ?? "not set"), this one's is \(now ?? "not set"); \(advice)")
        }
    }
    if let basePerplexity, basePerplexity != previous.base.perplexity {
        throw UsageError("--resume \(folder): its base perplexity is \(exact(previous.base.perplexity)), this model's on this text "
                         + "\(exact(basePerplexity)): a different model file or text; \(advice)")
    }
}

func runSpectrum(_ arguments: inout Arguments) throws {
    let targets = try targetList(&arguments, "targets")
    let centring = try parseCentring(arguments.string("centring") ?? Centring.pca.rawValue, flag: "--centring")
    guard let out = arguments.string("out") else { throw UsageError("spectrum needs --out DIR") }
    try arguments.finish(maxPositionals: 1)
    let path = modelPath(arguments)
    try refuseNonEmptyFolder(out, argument: "--out")
    let (_, model) = try loadWeights(path)
    let spectrum = try Spectrum(surgeon: Surgeon(base: model.weights), targets: targets, centring: centring,
                                progress: surgeryProgress)
    try spectrum.write(to: out, context: [("model", path), ("targets", targets.map(\.rawValue).joined(separator: ", "))])
    print(spectrum.csv(), terminator: "")
    status("wrote spectrum.csv, the SVG curves and report.html to \(out)")
}
