import OMEZarrConvert
import Testing

/// The split of a conversion into parts that own disjoint, shard-aligned runs of planes.
struct PartPlanTests {
  /// 256 planes of 1024 x 1024 halved in every axis down to 16 planes (5 levels), shards 64 deep.
  static let shapes = [[256, 1024, 1024], [128, 512, 512], [64, 256, 256], [32, 128, 128], [16, 64, 64]]
  static let factors = [[1, 1, 1], [2, 2, 2], [2, 2, 2], [2, 2, 2], [2, 2, 2]]
  static let shards = [[64, 512, 512], [64, 512, 512], [64, 256, 256], [32, 128, 128], [16, 64, 64]]

  func plan(_ parts: Int, context: Int = 0, shapes: [[Int]] = shapes, factors: [[Int]] = factors, shards: [[Int]] = shards,
            axis: Int = 0) throws -> PartPlan {
    try PartPlan(levelShapes: shapes, factors: factors, shardShapes: shards, axis: axis, parts: parts, context: context)
  }

  @Test func onePartOwnsEveryLevel() throws {
    let p = try plan(1)
    #expect(p.ownedLevels == 5 && p.parts.map { $0.map(\.planes) } == [[0..<256]])
    #expect((0..<5).map { p.shards(of: 0, level: $0).map(\.shards) } == [[0..<4], [0..<2], [0..<1], [0..<1], [0..<1]])
  }

  @Test func morePartsThanLevelZeroBlocksStillOwnTheLevelsWithAsManyBlocks() throws {
    // The standard benchmark stack: level 1 halves only y and x, so its shards cover the same 64
    // planes as level 0's. Eight parts (four blocks) own both levels, as four parts do.
    let shapes = [[256, 1024, 1024], [256, 512, 512], [128, 256, 256], [64, 128, 128], [32, 64, 64]]
    let factors = [[1, 1, 1], [1, 2, 2], [2, 2, 2], [2, 2, 2], [2, 2, 2]]
    let shards = [[64, 512, 512], [64, 512, 512], [64, 256, 256], [64, 128, 128], [32, 64, 64]]
    for parts in [4, 8] {
      let p = try plan(parts, shapes: shapes, factors: factors, shards: shards)
      #expect(p.ownedLevels == 2 && p.blockPlanes == 64, "\(parts) parts")
      #expect(p.parts.filter { !$0.isEmpty }.count == 4)
    }
  }

  @Test func partsOwnTheLevelsTheirBlocksCover() throws {
    let two = try plan(2)
    // Level 1 shards cover 128 level-0 planes: two blocks, one per part; levels 2-4 are finalize's.
    #expect(two.ownedLevels == 2 && two.blockPlanes == 128)
    #expect(two.parts.map { $0.map(\.planes) } == [[0..<128], [128..<256]])
    #expect(two.shards(of: 1, level: 0).map(\.shards) == [2..<4] && two.shards(of: 1, level: 1).map(\.shards) == [1..<2])
    #expect(two.shards(of: 1, level: 2).isEmpty)
    let three = try plan(3)
    #expect(three.ownedLevels == 1 && three.parts.map { $0.map(\.planes) } == [[0..<64], [64..<128], [128..<256]])
    // More parts than blocks: the last ones have nothing to do.
    let six = try plan(6)
    #expect(six.parts.map(\.count) == [0, 1, 1, 0, 1, 1])
    #expect(Set(six.parts.flatMap { $0.map(\.planes) }) == [0..<64, 64..<128, 128..<192, 192..<256])
  }

  @Test func everyShardOfEveryOwnedLevelHasExactlyOneWriter() throws {
    for parts in 1...9 {
      let p = try plan(parts)
      for level in 0..<p.ownedLevels {
        var writers = [Int](repeating: 0, count: 64)
        for part in 0..<parts {
          for (_, shards) in p.shards(of: part, level: level) { for s in shards { writers[s] += 1 } }
        }
        let expected = (Self.shapes[level][0] + Self.shards[level][0] - 1) / Self.shards[level][0]
        #expect(writers.prefix(expected).allSatisfy { $0 == 1 } && writers.dropFirst(expected).allSatisfy { $0 == 0 },
          "\(parts) parts, level \(level): \(writers.prefix(expected))")
      }
    }
  }

  @Test func streamsBeforeTheAxisAreDealtOutToo() throws {
    // Two channels of 100 planes (the last shard shorter), shards 32 deep, no pyramid along z.
    let shapes = [[2, 100, 64, 64], [2, 100, 32, 32]]
    let p = try plan(3, shapes: shapes, factors: [[1, 1, 1, 1], [1, 1, 2, 2]], shards: [[1, 32, 64, 64], [1, 32, 32, 32]], axis: 1)
    #expect(p.ownedLevels == 2 && p.blockPlanes == 32)
    #expect(p.parts.map { $0.map { "\($0.stream):\($0.planes)" } } == [["0:0..<64"], ["0:64..<100", "1:0..<32"], ["1:32..<100"]])
    #expect(p.shards(of: 1, level: 0).map(\.shards) == [2..<4, 0..<1])
  }

  @Test func gaussianPartsReadContextBeyondTheirPlanes() throws {
    let p = try plan(2, context: 1)
    // Level 1 from level 0 needs one level-0 plane past each side.
    #expect(p.inputPlanes(of: 0).map(\.planes) == [0..<129] && p.inputPlanes(of: 1).map(\.planes) == [127..<256])
    let one = try plan(1, context: 1)
    #expect(one.inputPlanes(of: 0).map(\.planes) == [0..<256])
  }

  @Test func misalignedShardsKeepTheirLevelsForFinalize() throws {
    // Level 1 shards of 48 planes (96 level-0 planes) do not fall on level-0 shard boundaries (64).
    let p = try plan(1, shapes: [[256, 64, 64], [128, 32, 32]], factors: [[1, 1, 1], [2, 2, 2]], shards: [[64, 64, 64], [48, 32, 32]])
    #expect(p.ownedLevels == 1 && p.blockPlanes == 64)
    #expect(throws: ConvertError.self) { try plan(0) }
  }
}
