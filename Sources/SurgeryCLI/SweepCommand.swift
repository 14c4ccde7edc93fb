// `surgery sweep [MODEL] --variances … --modes … [--centrings …] --out DIR`: one surgery and one
// evaluation per (mode, centring, threshold), each matrix decomposed once; the report (Markdown, CSV,
// JSON, SVG plots) is rewritten after every row, so an interrupted sweep keeps what it finished.
// `surgery spectrum [MODEL] --out DIR`: explained-variance curves per layer and components needed.
import Llama
import Surgery

func runSweep(_ arguments: inout Arguments) throws {
    let thresholds = try thresholdList(&arguments, default: Selection.studyThresholds)
    let modes = try groupingList(&arguments, default: [.separate, .sharedKV])
    let centrings = try centringList(&arguments, default: [.pca])
    let targets = try targetList(&arguments, "targets")
    guard let out = arguments.string("out") else { throw UsageError("sweep needs --out DIR") }
    var evaluation = try EvaluationRequest(&arguments)
    try arguments.finish(maxPositionals: 1)
    try evaluation.readText()
    let path = modelPath(arguments)
    let sweep = try Sweep(targets: targets, points: SweepPoint.grid(modes: modes, centrings: centrings, thresholds: thresholds))
    try refuseNonEmptyFolder(out, argument: "--out")

    let loaded = try loadModel(path)
    for plan in try sweep.plans { try plan.validate(for: loaded.model.weights) }
    let text = try evaluation.windows(loaded)
    let base = BaseEvaluation(model: loaded.model, windows: text.windows, progress: windowProgress("base model"))
    let baseResult = EvaluationResult(base.score)
    status("base perplexity \(fixed(base.score.perplexity, 3))")

    var report = SweepReport(base: baseResult, targets: sweep.targets, context: [
        ("model", path), ("text", evaluation.source), ("window", "\(text.window)"),
        ("windows", "\(text.windows.count)"), ("tokens scored", "\(base.score.scoredTokens)"),
    ])
    try report.write(to: out)
    let surgeon = Surgeon(base: loaded.model.weights)
    var done = 0
    try sweep.run(on: surgeon, base: baseResult, evaluate: { weights in
        done += 1
        let score = base.compare(loaded.model.replacingWeights(weights),
                                 progress: windowProgress("surgery \(done)/\(sweep.points.count)"))
        return EvaluationResult(score)
    }, progress: surgeryProgress, onRow: { row in
        report.rows.append(row)
        try report.write(to: out)
        status("\(row.point): perplexity \(fixed(row.evaluation.perplexity, 3)) · KL \(fixed(row.evaluation.meanKL, 4))"
               + " · top-1 \(fixed(100 * row.evaluation.top1Agreement, 1))%")
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
    let loaded = try loadModel(path)
    let spectrum = try Spectrum(surgeon: Surgeon(base: loaded.model.weights), targets: targets, centring: centring,
                                progress: surgeryProgress)
    try spectrum.write(to: out)
    print(spectrum.csv(), terminator: "")
    status("wrote spectrum.csv and the SVG curves to \(out)")
}
