// The study's commands as a user runs them: a small run and sweep on the real model, and the bad
// inputs the issue lists (each exits with status 2, names the argument, and writes nothing).
import Foundation
import Testing
import TestSupport

/// A short UTF-8 excerpt of WikiText-2, so the commands need not generate their built-in text.
func wikiExcerpt() throws -> String {
    let folder = try temporaryFolder()
    let text = try String(contentsOfFile: Fixtures.sharedData + "/wikitext-2-test.txt", encoding: .utf8)
    let path = folder.appendingPathComponent("excerpt.txt").path
    try String(text.prefix(4000)).write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

@Suite struct StudyCommandTests {
    @Test func runPrintsBothModelsAndGenerations() throws {
        let result = try surgery(["run", Fixtures.modelPath, "--variance", "0.99", "--mode", "shared-kv",
                                  "--text", try wikiExcerpt(), "--window", "128", "--windows", "1", "--max-tokens", "8"])
        #expect(result.status == 0, "\(result.stderr)")
        for needle in ["plan: q,k,v · shared-kv · variance 0.99 · centring pca", "| perplexity |",
                       "KL(base ‖ surgered)", "top-1 agreement", "### base (", "### surgered ("] {
            #expect(result.stdout.contains(needle), "missing \(needle)")
        }
    }

    /// `run --latent` evaluates and generates from the latent cache, and says how large it is.
    @Test func runFromTheLatent() throws {
        let result = try surgery(["run", Fixtures.modelPath, "--targets", "k,v", "--mode", "shared-kv", "--rank", "192",
                                  "--centring", "none", "--latent", "--text", try wikiExcerpt(), "--window", "128",
                                  "--windows", "1", "--max-tokens", "8"])
        #expect(result.status == 0, "\(result.stderr)")
        // 30 layers × 192 float32 latent values, against 30 × 2 × 192 dense keys and values.
        #expect(result.stdout.contains("ran from a cache of 23,040 bytes per token, 50.0% of the dense 46,080"), "\(result.stdout)")
        #expect(result.stdout.contains("### surgered, latent runtime ("))
    }

    /// `compress --factored` writes a folder that `inspect` reads as latent and `generate` runs.
    @Test func factoredFolderLoadsAndGenerates() throws {
        let out = try temporaryFolder().appendingPathComponent("factored").path
        let written = try surgery(["compress", Fixtures.modelPath, "--targets", "k,v", "--mode", "shared-kv", "--rank", "96",
                                   "--centring", "none", "--factored", "--out", out])
        #expect(written.status == 0, "\(written.stderr)")
        #expect(written.stdout.contains("factored: latent ranks 96 in every layer; KV cache 11,520 bytes per token (dense: 46,080)"))
        let inspected = try surgery(["inspect", out])
        #expect(inspected.status == 0, "\(inspected.stderr)")
        #expect(inspected.stdout.contains("LlamaLatentKVForCausalLM"))
        #expect(inspected.stdout.contains("model.layers.29.self_attn.kv_a_proj"))
        #expect(inspected.stdout.contains("latent K/V: ranks 96 in every layer"))
        let generated = try surgery(["generate", out, "--prompt", "The capital of France is", "--max-tokens", "8"])
        #expect(generated.status == 0, "\(generated.stderr)")
        #expect(!generated.stdout.isEmpty)
    }

    /// `run --json`: stdout is one JSON document with the plan, statistics, evaluation and generations.
    @Test func runPrintsJSON() throws {
        let result = try surgery(["run", Fixtures.modelPath, "--variance", "0.99", "--text", try wikiExcerpt(),
                                  "--window", "128", "--windows", "1", "--max-tokens", "4", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect((object["plan"] as? [String: Any])?["description"] as? String == "q,k,v · shared-kv · variance 0.99 · centring pca")
        #expect(((object["surgery"] as? [String: Any])?["per_matrix"] as? [Any])?.count == 90)
        let evaluation = try #require(object["evaluation"] as? [String: Any])
        #expect(evaluation["scored_tokens"] as? Int == 127)
        #expect((evaluation["base"] as? [String: Any])?["perplexity"] is Double)
        let replies = try #require((object["generations"] as? [String: Any])?["replies"] as? [[String: Any]])
        #expect(replies.map { $0["model"] as? String } == ["base", "surgered"])
    }

    @Test func sweepWritesEveryReport() throws {
        let out = try temporaryFolder().appendingPathComponent("sweep").path
        let result = try surgery(["sweep", Fixtures.modelPath, "--variances", "0.99,0.9", "--modes", "shared-kv",
                                  "--text", try wikiExcerpt(), "--window", "128", "--windows", "1", "--out", out])
        #expect(result.status == 0, "\(result.stderr)")
        for name in ["sweep.md", "sweep.csv", "sweep.json", "perplexity-vs-threshold.svg", "kl-vs-threshold.svg",
                     "perplexity-vs-parameters.svg", "kl-vs-parameters.svg"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + name), "missing \(name)")
        }
        let csv = try String(contentsOfFile: out + "/sweep.csv", encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 3)              // header + one row per threshold
    }

    /// An interrupted sweep goes on: `--resume DIR` computes only the missing rows and keeps the
    /// finished ones as they were; another text, model or grid is refused before any work.
    @Test func sweepResumesWhereItStopped() throws {
        let out = try temporaryFolder().appendingPathComponent("sweep").path
        let common = ["sweep", Fixtures.modelPath, "--modes", "shared-kv", "--text", try wikiExcerpt(), "--window", "128", "--windows", "1"]
        let first = try surgery(common + ["--variances", "0.99", "--out", out])
        #expect(first.status == 0, "\(first.stderr)")
        let firstRow = try String(contentsOfFile: out + "/sweep.csv", encoding: .utf8).split(separator: "\n")[1]

        let resumed = try surgery(common + ["--variances", "0.99,0.9", "--resume", out])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("resuming \(out): 1 of 2 rows done, 1 to compute"), "\(resumed.stderr)")
        #expect(!resumed.stderr.contains("shared-kv · pca · 0.99: perplexity"))         // not computed again
        let rows = try String(contentsOfFile: out + "/sweep.csv", encoding: .utf8).split(separator: "\n")
        #expect(rows.count == 3 && rows[1] == firstRow)

        let again = try surgery(common + ["--variances", "0.99,0.9", "--resume", out])
        #expect(again.status == 0 && again.stderr.contains("nothing left to compute"), "\(again.stderr)")

        let cases: [([String], String)] = [
            (common + ["--variances", "0.9", "--resume", out], "its row \"shared-kv · pca · 0.99\" is not a point of this sweep"),
            (common + ["--variances", "0.99,0.9", "--targets", "k,v", "--resume", out], "that sweep's targets are q,k,v, this one's k,v"),
            (["sweep", Fixtures.modelPath, "--modes", "shared-kv", "--variances", "0.99,0.9", "--resume", out], "that sweep's text was"),
            (common + ["--variances", "0.99", "--resume", out, "--out", out], "not both"),
            (common + ["--variances", "0.99", "--resume", try temporaryFolder().path], "sweep.json: cannot resume from it: no such file"),
        ]
        for (arguments, message) in cases {
            let result = try surgery(arguments)
            #expect(result.status == 2, "\(arguments)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            #expect(!result.stderr.contains("loading"), "\(arguments): refused only after loading the model")
        }
        #expect(try String(contentsOfFile: out + "/sweep.csv", encoding: .utf8).split(separator: "\n") == rows)
    }

    @Test func spectrumWritesCurvesAndTable() throws {
        let out = try temporaryFolder().appendingPathComponent("spectrum").path
        let result = try surgery(["spectrum", Fixtures.modelPath, "--out", out])
        #expect(result.status == 0, "\(result.stderr)")
        let csv = try String(contentsOfFile: out + "/spectrum.csv", encoding: .utf8)
        // 30 layers × (q, k, v, kv) × 8 thresholds, plus the header
        #expect(csv.split(separator: "\n").count == 1 + 30 * 4 * 8)
        for name in ["spectrum-q.svg", "spectrum-k.svg", "spectrum-v.svg", "spectrum-kv.svg"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + name), "missing \(name)")
        }
    }
}

@Suite struct StudyBadInputTests {
    @Test(arguments: [
        (["--variance", "1.5"], "variance threshold 1.5 is outside (0, 1]"),
        (["--variance", "0"], "variance threshold 0.0 is outside (0, 1]"),
        (["--variance", "abc"], "--variance"),
        (["--rank", "100000"], "rank"),
        (["--targets", "q,x"], "x"),
        (["--mode", "diagonal"], "diagonal"),
        (["--centring", "median"], "median"),
    ]) func runRejects(arguments: [String], message: String) throws {
        let result = try surgery(["run", Fixtures.modelPath, "--windows", "1"] + arguments)
        #expect(result.status == 2, "\(arguments): \(result.stderr)")
        #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        #expect(result.stdout.isEmpty || !result.stdout.contains("## Evaluation"), "\(arguments)")
    }

    @Test func sweepRefusesANonEmptyFolderAndWritesNothing() throws {
        let out = try temporaryFolder()
        let keep = out.appendingPathComponent("notes.txt")
        try Data("mine".utf8).write(to: keep)
        let result = try surgery(["sweep", Fixtures.modelPath, "--variances", "0.9", "--out", out.path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("not empty"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path) == ["notes.txt"])
    }

    @Test func sweepRejectsABadThresholdList() throws {
        let out = try temporaryFolder().appendingPathComponent("never").path
        let result = try surgery(["sweep", Fixtures.modelPath, "--variances", "0.9,1.2", "--out", out])
        #expect(result.status == 2)
        #expect(result.stderr.contains("1.2"))
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}
