// `surgery sweep [MODEL] --variances … --modes … [--centrings …] --out DIR`: one surgery and one
// evaluation per (mode, centring, threshold), each matrix decomposed once; the report (Markdown, CSV,
// JSON, SVG plots) is rewritten after every row, so an interrupted sweep keeps what it finished.
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
    guard let out = arguments.string("out") else { throw UsageError("sweep needs --out DIR") }
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
    try refuseNonEmptyFolder(out, argument: "--out")

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
    var report = SweepReport(base: baseResult, targets: sweep.targets, context: context)
    try report.write(to: out)
    let surgeon = Surgeon(base: loaded.model.weights, calibration: statistics)
    let probe = hasBudget && !uniform
        ? BaseEvaluation(model: loaded.model, windows: Array(calibrationWindows.prefix(PreparedSurgery.probeWindows))) : nil
    var done = 0
    try sweep.run(on: surgeon, base: baseResult, evaluate: { weights in
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
        report.rows.append(row)
        try report.write(to: out)
        status("\(row.point): perplexity \(fixed(row.evaluation.perplexity, 3)) · KL \(fixed(row.evaluation.meanKL, 4))"
               + " · top-1 \(fixed(100 * row.evaluation.top1Agreement, 1))% · KV cache \(fixed(100 * row.kvCacheFraction, 1))%")
    })
    print(report.markdown())
    status("wrote \(SweepReport.fileNames.joined(separator: ", ")) to \(out)")
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
    try spectrum.write(to: out)
    print(spectrum.csv(), terminator: "")
    status("wrote spectrum.csv and the SVG curves to \(out)")
}
