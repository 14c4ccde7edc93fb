// The plan's checks and validation: one test per error case. (The CLI's strings: SurgeryCLITests.)
import Testing
import Llama
import Tensor
import Surgery

@Suite struct PlanChecks {
    @Test func targetsAreInCanonicalOrder() throws {
        #expect(try SurgeryPlan(targets: [.v, .k, .q], grouping: .sharedKV, selection: .variance(0.9)).targets == [.q, .k, .v])
        #expect(try SurgeryPlan(targets: [.down, .q, .gate], grouping: .separate, selection: .variance(0.9)).targets == [.q, .gate, .down])
    }

    @Test func duplicateTarget() {
        #expect(throws: SurgeryError.duplicateTarget("k")) {
            try SurgeryPlan(targets: [.k, .q, .k], grouping: .separate, selection: .variance(0.9))
        }
    }

    @Test func noTargets() {
        #expect(throws: SurgeryError.noTargets) { try SurgeryPlan(targets: [], grouping: .separate, selection: .variance(0.9)) }
    }

    @Test func modeNames() {
        #expect(Grouping.sharedKVLayers(groupSize: 5).description == "shared-kv-layers:5")
        #expect(Grouping.sharedKVLayers(groupSize: nil).description == "shared-kv-layers")
        #expect(Centring.allCases.map(\.rawValue) == ["pca", "seed", "none"])
    }

    @Test func layerGroupNotPositive() {
        #expect(throws: SurgeryError.layerGroupNotPositive(0)) {
            try SurgeryPlan(grouping: .sharedKVLayers(groupSize: 0), selection: .variance(0.9))
        }
    }

    @Test(arguments: [0.0, -0.1, 1.0000001, 2])
    func thresholdOutsideUnitInterval(t: Double) {
        #expect(throws: SurgeryError.thresholdOutOfRange(t)) { try SurgeryPlan(grouping: .sharedKV, selection: .variance(t)) }
    }

    @Test func nanThreshold() {
        #expect(throws: SurgeryError.self) { try SurgeryPlan(grouping: .sharedKV, selection: .variance(.nan)) }
    }

    @Test func selectionErrors() throws {
        #expect(try SurgeryPlan(grouping: .sharedKV, selection: .variance(1)).selection == .variance(1))
        #expect(throws: SurgeryError.rankNotPositive(0)) { try SurgeryPlan(grouping: .sharedKV, selection: .rank(0)) }
    }

    @Test func planDescription() throws {
        let plan = try SurgeryPlan(targets: [.v, .k, .q], grouping: .sharedKV, selection: .variance(0.9), centring: .seed)
        #expect(plan.description == "q,k,v · shared-kv · variance 0.9 · centring seed")
    }

    @Test func sharedModesNeedKAndV() {
        #expect(throws: SurgeryError.sharedKVNeedsKAndV(mode: "shared-kv", targets: ["q", "k"])) {
            try SurgeryPlan(targets: [.q, .k], grouping: .sharedKV, selection: .variance(0.9))
        }
        #expect(throws: SurgeryError.sharedKVNeedsKAndV(mode: "shared-kv-layers", targets: ["v"])) {
            try SurgeryPlan(targets: [.v], grouping: .sharedKVLayers(groupSize: nil), selection: .variance(0.9))
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
        broken.layers[1].v = WeightMatrix(Tensor(zeros: [0, 16]))      // the stored property: the subscript checks shapes
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
