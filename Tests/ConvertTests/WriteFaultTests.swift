import Foundation
import OMEZarr
import TestSupport
import Testing
import ZarrIO
@testable import OMEZarrConvert

/// A store that fails part way through a conversion: the conversion throws, the output never looks
/// complete, and `resume` then finishes with the bytes of an uninterrupted run.
@Suite("Convert: write faults")
struct WriteFaultTests {
  static func options(resume: Bool = false) -> ConvertOptions {
    var o = ConvertOptions()
    o.threads = 2
    o.chunkShape = [4, 32, 32]
    o.shardShape = [4, 64, 64]
    o.resume = resume
    return o
  }

  static func stack() throws -> String {
    let tiff = try Corpus.dir().appendingPathComponent("stack.tif").path
    try Corpus.write(tiff, try Corpus.planes(12, 150, 130))
    return tiff
  }

  /// Complete means: image metadata present and no marker of an unfinished run.
  static func looksComplete(_ store: any Store) -> Bool {
    (try? OMENode.open(in: store))?.kind == .image && (try? store.exists(Converter.markerKey)) == false
  }

  @Test func aFailedWriteAnywhereLeavesNothingCompleteAndResumeFinishesIdentically() throws {
    let tiff = try Self.stack()
    let reference = FaultyStore(MemoryStore())
    try Converter.convert(try TIFFSource(path: tiff), into: reference, named: "reference", options: Self.options())
    let expected = try #require(reference.base as? MemoryStore).snapshot
    let total = reference.writes
    #expect(total > 20, "the conversion is too small to interrupt at many points (\(total) writes)")
    // The first writes, points spread over the run, and the last ones (metadata, marker removal).
    let points = Set([1, 2, 3] + stride(from: 4, to: total, by: max(1, total / 9)).map { $0 } + [total - 2, total - 1])
    for point in points.sorted() {
      let memory = MemoryStore()
      let store = FaultyStore(memory, failingWrite: point, persistent: true)
      #expect(throws: ZarrError.self, "write \(point) of \(total) failed; the conversion must fail") {
        try Converter.convert(try TIFFSource(path: tiff), into: store, named: "out", options: Self.options())
      }
      #expect(!Self.looksComplete(memory), "write \(point) of \(total) failed, yet the output looks complete")
      store.heal()
      let summary = try Converter.convert(
        try TIFFSource(path: tiff), into: store, named: "out", options: Self.options(resume: true))
      #expect(summary.resumed || point == 1, "write \(point): the second run did not resume")
      #expect(Self.looksComplete(memory))
      #expect(memory.snapshot == expected, "write \(point) of \(total): the resumed output differs")
    }
  }

  @Test func aSingleTransientFailureIsNotSwallowed() throws {
    let tiff = try Self.stack()
    for seed in UInt64(1)...4 {
      let memory = MemoryStore()
      let store = FaultyStore(memory, seed: seed, writeFailureRate: 0.05)
      var failed = false
      do {
        try Converter.convert(try TIFFSource(path: tiff), into: store, named: "out", options: Self.options())
      } catch {
        failed = true
      }
      #expect(failed == (store.failures > 0), "seed \(seed): \(store.failures) injected failures, conversion failed: \(failed)")
      #expect(Self.looksComplete(memory) == !failed)
    }
  }

  @Test func failedReadsWhileResumingAreErrorsNotSkips() throws {
    let tiff = try Self.stack()
    let memory = MemoryStore()
    let first = FaultyStore(memory, failingWrite: 30, persistent: true)
    #expect(throws: ZarrError.self) {
      try Converter.convert(try TIFFSource(path: tiff), into: first, named: "out", options: Self.options())
    }
    // The resumed run cannot read back what is stored: it fails rather than trusting or losing it.
    let reading = FaultyStore(memory, failingRead: 1, persistent: true)
    #expect(throws: ZarrError.self) {
      try Converter.convert(try TIFFSource(path: tiff), into: reading, named: "out", options: Self.options(resume: true))
    }
    #expect(!Self.looksComplete(memory))
  }
}
