// What a command says about itself on stderr: the build (--version, the slow-build warning), the
// threads (--threads, SURGERY_THREADS; results the same for any count), and progress (a live line
// on a terminal, a few plain lines in a log, --quiet).
import Foundation
import Testing
import TestSupport

@Suite struct BuildAndThreadsTests {
    /// `--version` says what the build is; a build without the fast kernels warns once at the start.
    @Test func versionAndTheSlowBuildWarning() throws {
        let version = try surgery(["--version"])
        #expect(version.status == 0)
        let lines = version.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 4, "\(version.stdout)")
        #expect(lines.first?.hasPrefix("surgery ") == true)
        #expect(lines.contains { $0.hasPrefix("build: ") } && lines.contains { $0.hasPrefix("build flags: ") })
        let fast = lines.contains("fast kernels: on (built for a CPU with FMA)")
        #expect(fast || lines.contains { $0.hasPrefix("fast kernels: off") })
        let command = try surgery(["inspect", Fixtures.path("tiny/f32")])
        let warnings = command.stderr.split(separator: "\n").filter { $0.contains("built without FMA") }
        #expect(warnings.count == (fast ? 0 : 1), "\(command.stderr)")
    }

    @Test func threadsOutOfRange() throws {
        let flag = try surgery(["inspect", Fixtures.path("tiny/f32"), "--threads", "0"])
        #expect(flag.status == 2 && flag.stderr.contains("--threads must be an integer in 1…"), "\(flag.stderr)")
        let environment = try surgery(["inspect", Fixtures.path("tiny/f32")], environment: ["SURGERY_THREADS": "many"])
        #expect(environment.status == 2)
        #expect(environment.stderr.contains("SURGERY_THREADS must be an integer in 1…"), "\(environment.stderr)")
    }

    /// The same perplexity, to the last digit, at one thread (flag or environment) and at all of them.
    @Test func perplexityIsTheSameAtAnyThreadCount() throws {
        let text = try wikiExcerpt()
        let arguments = ["perplexity", Fixtures.modelPath, "--text", text, "--window", "128", "--windows", "2"]
        func perplexityLine(_ extra: [String], environment: [String: String] = [:]) throws -> String {
            let result = try surgery(arguments + extra, environment: environment)
            #expect(result.status == 0, "\(result.stderr)")
            return result.stdout.split(separator: "\n").first.map(String.init) ?? ""
        }
        let all = try perplexityLine([])
        #expect(all.hasPrefix("perplexity "))
        #expect(try perplexityLine(["--threads", "1"]) == all)
        #expect(try perplexityLine([], environment: ["SURGERY_THREADS": "1"]) == all)
    }
}

@Suite struct ProgressTests {
    /// In a log (stderr not a terminal): a line per quarter of a stage, then its summary; no
    /// carriage returns or escape codes.
    @Test func aLogGetsAFewPlainLines() throws {
        let out = try temporaryFolder().appendingPathComponent("spectrum").path
        let result = try surgery(["spectrum", Fixtures.path("tiny/f32"), "--out", out])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stderr.contains("\r") && !result.stderr.contains("\u{1B}"))
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.filter { $0.hasPrefix("decomposing ") }.map { $0.split(separator: " ")[1] } == ["2/8", "4/8", "6/8"],
                "\(result.stderr)")
        #expect(lines.contains { $0.hasPrefix("decomposing: 8 matrix groups in ") }, "\(result.stderr)")
    }

    /// `--quiet`: nothing on stderr but the slow-build warning (if this build has one); stdout unchanged.
    @Test func quietSilencesProgressAndStatus() throws {
        let out = try temporaryFolder()
        let loud = try surgery(["spectrum", Fixtures.path("tiny/f32"), "--out", out.appendingPathComponent("a").path])
        let quiet = try surgery(["spectrum", Fixtures.path("tiny/f32"), "--out", out.appendingPathComponent("b").path, "--quiet"])
        #expect(quiet.status == 0)
        #expect(quiet.stdout == loud.stdout)
        #expect(quiet.stderr.split(separator: "\n").allSatisfy { $0.contains("built without FMA") }, "\(quiet.stderr)")
        let error = try surgery(["inspect", "/nonexistent/model.gguf", "--quiet"])
        #expect(error.status == 2 && error.stderr.contains("surgery: error: /nonexistent/model.gguf"))
    }

    /// On a terminal (a pseudo-terminal from util-linux `script`): one line rewritten in place per
    /// stage, ending in the summary.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script"), "needs util-linux `script` for a terminal"))
    func aTerminalGetsOneLiveLine() throws {
        let out = try temporaryFolder().appendingPathComponent("spectrum").path
        let folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        var executable = folder.appendingPathComponent("surgery").path
        if !FileManager.default.isExecutableFile(atPath: executable) {
            executable = folder.deletingLastPathComponent().appendingPathComponent("surgery").path
        }
        // stdout to a file, so that the terminal shows stderr only.
        let command = "'\(executable)' spectrum '\(Fixtures.path("tiny/f32"))' --out '\(out)' > '\(out).csv'"
        let result = try runProgram("/usr/bin/script", ["-qec", command, "/dev/null"])
        #expect(result.status == 0, "\(result.stdout)")
        let decomposing = result.stdout.components(separatedBy: "\r\n").filter { $0.contains("decomposing") }
        #expect(decomposing.count == 1, "\(decomposing)")                 // one screen line for the stage
        #expect(decomposing.first?.hasPrefix("\r\u{1B}[Kdecomposing 1/8 · layer 0 q") == true, "\(decomposing)")
        #expect(decomposing.first?.contains("\r\u{1B}[Kdecomposing: 8 matrix groups in ") == true, "\(decomposing)")
    }
}
