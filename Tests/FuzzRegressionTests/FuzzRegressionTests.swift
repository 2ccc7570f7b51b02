import Foundation
import FuzzTargets
import Testing
import TestSupport

/// Every input the fuzzers found a crash, hang or bad output with, kept as `Fuzz/regressions/<target>/<name>`.
let regressionInputs: [String] = {
  let root = packageRoot.appendingPathComponent("Fuzz/regressions").path
  var out: [String] = []
  for target in FuzzTarget.all.map(\.name) {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: root + "/" + target)) ?? []
    out += names.filter { !$0.hasPrefix(".") }.sorted().map { "\(target)/\($0)" }
  }
  return out
}()

@Suite("fuzz regressions")
struct FuzzRegressionTests {
  /// The replay build of the driver, next to the test bundle.
  static let driver = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    .appendingPathComponent("ome2zarr-fuzz").path

  @Test("every regression input lies in a target's folder", arguments: [0])
  func inputsAreKnown(_: Int) throws {
    let root = packageRoot.appendingPathComponent("Fuzz/regressions").path
    let folders = try FileManager.default.contentsOfDirectory(atPath: root).filter { !$0.hasPrefix(".") }
    #expect(Set(folders).subtracting(FuzzTarget.all.map(\.name)).isEmpty)
  }

  /// Each input runs in its own process (a trap there fails this test only) with a 20 s alarm.
  @Test("a fuzz regression input runs to completion", arguments: regressionInputs)
  func replay(_ input: String) throws {
    let target = String(input.prefix { $0 != "/" })
    let file = packageRoot.appendingPathComponent("Fuzz/regressions/\(input)").path
    let result = try runProcess(Self.driver, [target, "--timeout", "20", file])
    #expect(result.status == 0, "\(input): \(result.stderrText.suffix(2000))")
  }
}
