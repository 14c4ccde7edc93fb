// The plan's parsing and validation: one test per error case, and the strings the CLI passes.
import Testing
import Llama
import Tensor
@testable import Surgery

@Suite struct PlanParsing {
    @Test func targetsParseInCanonicalOrder() throws {
        #expect(try SurgeryTarget.parseList("q,k,v") == [.q, .k, .v])
        #expect(try SurgeryTarget.parseList(" down, Q ,gate") == [.q, .gate, .down])
        #expect(try SurgeryTarget.parseList("o,up") == [.o, .up])
    }

    @Test func unknownTarget() {
        #expect(throws: SurgeryError.unknownTarget("x", known: ["q", "k", "v", "o", "gate", "up", "down"])) {
            try SurgeryTarget.parseList("q,x")
        }
    }

    @Test func emptyItemIsNamedNotSkipped() {
        #expect(throws: SurgeryError.unknownTarget("", known: SurgeryTarget.allCases.map(\.rawValue))) {
            try SurgeryTarget.parseList("q,,v")
        }
    }

    @Test func duplicateTarget() {
        #expect(throws: SurgeryError.duplicateTarget("k")) { try SurgeryTarget.parseList("k,q,k") }
    }

    @Test func emptyTargetList() {
        #expect(throws: SurgeryError.emptyList(argument: "--targets")) { try SurgeryTarget.parseList("  ") }
    }

    @Test func modes() throws {
        #expect(try Grouping(parsing: "separate") == .separate)
        #expect(try Grouping(parsing: "shared-kv") == .sharedKV)
        #expect(try Grouping(parsing: "shared-kv-layers") == .sharedKVLayers(groupSize: nil))
        #expect(try Grouping(parsing: "shared-kv-layers", layerGroup: 6) == .sharedKVLayers(groupSize: 6))
        #expect(try Grouping(parsing: "shared-kv-layers:5") == .sharedKVLayers(groupSize: 5))
        #expect(Grouping.sharedKVLayers(groupSize: 5).description == "shared-kv-layers:5")
        #expect(try Grouping.parseList("separate,shared-kv,shared-kv-layers", layerGroup: 10)
                == [.separate, .sharedKV, .sharedKVLayers(groupSize: 10)])
    }

    @Test func unknownMode() {
        #expect(throws: SurgeryError.unknownMode("shared", known: Grouping.names)) { try Grouping(parsing: "shared") }
        #expect(throws: SurgeryError.unknownMode("separate:3", known: Grouping.names)) { try Grouping(parsing: "separate:3") }
    }

    @Test func layerGroupErrors() {
        #expect(throws: SurgeryError.layerGroupNotPositive(0)) { try Grouping(parsing: "shared-kv-layers", layerGroup: 0) }
        #expect(throws: SurgeryError.layerGroupWithoutLayerMode(mode: "shared-kv")) {
            try Grouping(parsing: "shared-kv", layerGroup: 4)
        }
        #expect(throws: SurgeryError.layerGroupWithoutLayerMode(mode: "separate,shared-kv")) {
            try Grouping.parseList("separate,shared-kv", layerGroup: 4)
        }
        #expect(throws: SurgeryError.notANumber(argument: "mode shared-kv-layers", found: "x")) {
            try Grouping(parsing: "shared-kv-layers:x")
        }
    }

    @Test func centrings() throws {
        #expect(try Centring(parsing: "pca") == .pca)
        #expect(try Centring(parsing: "SEED") == .seed)
        #expect(try Centring(parsing: "none") == .none)
        #expect(try Centring.parseList("pca,seed") == [.pca, .seed])
        #expect(throws: SurgeryError.unknownCentring("mean", known: ["pca", "seed", "none"])) { try Centring(parsing: "mean") }
    }

    @Test func thresholds() throws {
        #expect(try Selection.parseThresholds("0.99,0.95, 0.9,1") == [0.99, 0.95, 0.9, 1])
        #expect(throws: SurgeryError.notANumber(argument: "--variances", found: "abc")) { try Selection.parseThresholds("0.9,abc") }
        #expect(throws: SurgeryError.thresholdOutOfRange(1.5)) { try Selection.parseThresholds("0.9,1.5") }
        #expect(throws: SurgeryError.emptyList(argument: "--variances")) { try Selection.parseThresholds("") }
    }

    @Test(arguments: [0.0, -0.1, 1.0000001, 2])
    func thresholdOutsideUnitInterval(t: Double) {
        #expect(throws: SurgeryError.thresholdOutOfRange(t)) { try Selection(variance: t, rank: nil) }
    }

    @Test func nanThreshold() {
        #expect(throws: SurgeryError.self) { try Selection(variance: .nan, rank: nil) }
    }

    @Test func selectionErrors() throws {
        #expect(try Selection(variance: 1, rank: nil) == .variance(1))
        #expect(try Selection(parsingVariance: nil, rank: "12") == .rank(12))
        #expect(throws: SurgeryError.rankNotPositive(0)) { try Selection(variance: nil, rank: 0) }
        #expect(throws: SurgeryError.selectionMissing) { try Selection(variance: nil, rank: nil) }
        #expect(throws: SurgeryError.selectionConflict(variance: 0.9, rank: 3)) { try Selection(variance: 0.9, rank: 3) }
        #expect(throws: SurgeryError.notANumber(argument: "--variance", found: "ninety")) {
            try Selection(parsingVariance: "ninety", rank: nil)
        }
    }

    @Test func planFromStrings() throws {
        let plan = try SurgeryPlan.parse(targets: "v,k,q", mode: "shared-kv", variance: "0.9", rank: nil, centring: "seed")
        #expect(plan.targets == [.q, .k, .v])
        #expect(plan.grouping == .sharedKV)
        #expect(plan.selection == .variance(0.9))
        #expect(plan.centring == .seed)
        #expect(plan.description == "q,k,v · shared-kv · variance 0.9 · centring seed")
    }

    @Test func sharedModesNeedKAndV() {
        #expect(throws: SurgeryError.sharedKVNeedsKAndV(mode: "shared-kv", targets: ["q", "k"])) {
            try SurgeryPlan.parse(targets: "q,k", mode: "shared-kv", variance: "0.9", rank: nil)
        }
        #expect(throws: SurgeryError.sharedKVNeedsKAndV(mode: "shared-kv-layers", targets: ["v"])) {
            try SurgeryPlan.parse(targets: "v", mode: "shared-kv-layers", variance: "0.9", rank: nil)
        }
    }
}

@Suite struct PlanValidation {
    let weights = TinyModel.weights          // 3 layers; k, v (8, 16); q (16, 16); gate (24, 16)

    @Test func rankLargerThanAMatrixAllows() throws {
        let plan = try SurgeryPlan(grouping: .separate, selection: .rank(9))
        #expect(throws: SurgeryError.rankTooLarge(rank: 9, limit: 8, matrix: "layer 0 k")) { try plan.validate(for: weights) }
        // Stacked, k and v have 16 samples: rank 9 fits.
        try SurgeryPlan(grouping: .sharedKV, selection: .rank(9)).validate(for: weights)
        #expect(throws: SurgeryError.rankTooLarge(rank: 17, limit: 16, matrix: "layer 0 q")) {
            try SurgeryPlan(grouping: .sharedKV, selection: .rank(17)).validate(for: weights)
        }
        // gate (24, 16) is fitted on its transpose: 16 samples of 24 features.
        #expect(throws: SurgeryError.rankTooLarge(rank: 17, limit: 16, matrix: "layer 0 gate")) {
            try SurgeryPlan(targets: [.gate], grouping: .separate, selection: .rank(17)).validate(for: weights)
        }
    }

    @Test func layerGroupLargerThanTheModel() throws {
        let plan = try SurgeryPlan(grouping: .sharedKVLayers(groupSize: 4), selection: .variance(0.9))
        #expect(throws: SurgeryError.layerGroupTooLarge(groupSize: 4, layers: 3)) { try plan.validate(for: weights) }
    }

    @Test func modelWithoutTheTargetedTensor() throws {
        var broken = weights
        broken.layers[1].v = Tensor(zeros: [0, 16])      // the stored property: the subscript checks shapes
        let plan = try SurgeryPlan(grouping: .separate, selection: .variance(0.9))
        #expect(throws: SurgeryError.missingTensor(name: "model.layers.1.self_attn.v_proj.weight", shape: [0, 16])) {
            try plan.validate(for: broken)
        }
    }

    @Test func modelWithoutLayers() throws {
        var empty = weights
        empty.layers = []
        #expect(throws: SurgeryError.noLayers) {
            try SurgeryPlan(grouping: .separate, selection: .variance(0.9)).validate(for: empty)
        }
    }

    @Test func groupsAndOrientation() throws {
        let layers = try SurgeryPlan(targets: [.q, .k, .v, .gate], grouping: .sharedKVLayers(groupSize: 2),
                                     selection: .variance(0.9)).groups(for: weights)
        #expect(layers.map(\.label) == ["layer 0 q", "layers 0–1 k+v", "layer 0 gate", "layer 1 q", "layer 1 gate",
                                        "layer 2 q", "layer 2 k+v", "layer 2 gate"])
        let kv = layers[1]
        #expect(kv.members.map(\.description) == ["layer 0 k", "layer 0 v", "layer 1 k", "layer 1 v"])
        #expect(kv.orientation == .rows && kv.sampleCount == 32 && kv.featureCount == 16)
        #expect(layers[2].orientation == .columns && layers[2].sampleCount == 16 && layers[2].featureCount == 24)
    }
}
