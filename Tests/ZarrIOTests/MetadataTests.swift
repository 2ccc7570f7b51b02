import Testing
@testable import ZarrIO

@Suite("Array and group metadata")
struct MetadataTests {
  static let specExample = """
    {
      "zarr_format": 3,
      "node_type": "array",
      "shape": [10000, 1000],
      "dimension_names": ["rows", "columns"],
      "data_type": "float64",
      "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [1000, 100]}},
      "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
      "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
      "fill_value": "NaN",
      "attributes": {"foo": 42, "bar": "apples", "baz": [1, 2, 3, 4]}
    }
    """

  func parse(_ text: String) throws -> ArrayMetadata { try ArrayMetadata(v3: JSONValue.parse(text)) }

  func modified(_ edit: (inout JSONObject) -> Void) throws -> String {
    var o = try JSONValue.parse(Self.specExample).objectValue!
    edit(&o)
    return JSONValue.object(o).serialized()
  }

  @Test func parsesTheSpecExample() throws {
    let m = try parse(Self.specExample)
    #expect(m.shape == [10000, 1000])
    #expect(m.chunkShape == [1000, 100])
    #expect(m.dataType == .float64)
    #expect(m.fillValue.value(as: Double.self).isNaN)
    #expect(m.dimensionNames == ["rows", "columns"])
    #expect(m.gridShape == [10, 10])
    #expect(m.attributes["baz"] == [1, 2, 3, 4])
    #expect(m.chunkKeyEncoding.key([1, 23]) == "c/1/23")
    // Writing and reading back gives the same document.
    #expect(m.v3JSON == (try JSONValue.parse(Self.specExample)))
    #expect(try ArrayMetadata(v3: m.v3JSON) == m)
  }

  @Test func acceptsRealWorldVariations() throws {
    let text = try modified { o in
      o["chunk_key_encoding"] = ["name": "default"]
      o["storage_transformers"] = []
      o["dimension_names"] = .null
      o["codecs"] = [["name": "bytes", "configuration": ["endian": "little"]], "crc32c"]
    }
    let m = try parse(text)
    #expect(m.chunkKeyEncoding == .default(separator: .slash))
    #expect(m.dimensionNames == nil)
    #expect(m.codecs.map(\.name) == ["bytes", "crc32c"])
    // Written canonically: crc32c as an object.
    #expect(m.v3JSON["codecs"]?.arrayValue?[1] == ["name": "crc32c"])
    _ = try ZarrArray(store: MemoryStore(), path: "", metadata: m)
  }

  @Test func dimensionNamesWithNulls() throws {
    let m = try parse(try modified { $0["dimension_names"] = ["rows", .null] })
    #expect(m.dimensionNames == ["rows", nil])
    #expect(m.v3JSON["dimension_names"] == ["rows", .null])
  }

  @Test func unknownFieldsFailUnlessTheyMayBeIgnored() throws {
    do {
      _ = try parse(try modified { $0["spatial"] = ["x": 1] })
      Issue.record("unknown field accepted")
    } catch let e as ZarrError {
      #expect(e.code == .unsupported)
      #expect(e.pointer == "/spatial")
    }
    let ok = try parse(try modified { $0["spatial"] = ["must_understand": false, "x": 1] })
    #expect(ok.extraFields["spatial"]?["x"] == 1)
    #expect(ok.v3JSON["spatial"] == ["must_understand": false, "x": 1])
  }

  @Test func unknownStorageTransformerFails() throws {
    #expect(throws: ZarrError.self) {
      try parse(try modified { $0["storage_transformers"] = [["name": "unknown"]] })
    }
  }

  @Test func mustUnderstandFalseNotAllowedForKeyEncoding() throws {
    #expect(throws: ZarrError.self) {
      try parse(try modified { $0["chunk_key_encoding"] = ["name": "default", "must_understand": false] })
    }
  }

  @Test func errorsPointIntoTheDocument() throws {
    let cases: [(String, String)] = [
      (try modified { $0["shape"] = [10, -1] }, "/shape/1"),
      (try modified { $0["data_type"] = "float128" }, "/data_type"),
      (try modified { $0["chunk_grid"] = ["name": "rectilinear"] }, "/chunk_grid/name"),
      (try modified { $0["chunk_grid"] = ["name": "regular", "configuration": ["chunk_shape": [10]]] }, "/chunk_grid/configuration/chunk_shape"),
      (try modified { $0["fill_value"] = "x" }, "/fill_value"),
      (try modified { $0["codecs"] = [] }, "/codecs"),
      (try modified { $0["zarr_format"] = 2 }, "/zarr_format"),
      (try modified { $0["dimension_names"] = ["a"] }, "/dimension_names"),
      (try modified { $0["chunk_key_encoding"] = ["name": "default", "configuration": ["separator": "-"]] }, "/chunk_key_encoding/configuration/separator"),
    ]
    for (text, pointer) in cases {
      do {
        _ = try parse(text)
        Issue.record("accepted invalid metadata (expected error at \(pointer))")
      } catch let e as ZarrError {
        #expect(e.pointer == pointer, "\(e)")
      }
    }
  }

  @Test func codecChainErrorsPointToTheCodec() throws {
    let m = try parse(try modified { $0["codecs"] = [["name": "bytes", "configuration": ["endian": "little"]], ["name": "lzma"]] })
    do {
      _ = try ZarrArray(store: MemoryStore(), path: "a", metadata: m)
      Issue.record("unknown codec accepted")
    } catch {
      #expect(error.code == .unsupported)
      #expect(error.pointer == "/codecs/1/name")
      #expect(error.key == "a/zarr.json")
      #expect(error.description.contains("lzma"))
    }
    let order = try parse(try modified { $0["codecs"] = [["name": "gzip", "configuration": ["level": 1]], ["name": "bytes"]] })
    #expect(throws: ZarrError.self) { try ZarrArray(store: MemoryStore(), path: "", metadata: order) }
    let level = try parse(try modified { $0["codecs"] = [["name": "bytes"], ["name": "gzip", "configuration": ["level": 12]]] })
    do {
      _ = try ZarrArray(store: MemoryStore(), path: "", metadata: level)
      Issue.record("gzip level 12 accepted")
    } catch {
      #expect(error.pointer == "/codecs/1/configuration/level")
    }
  }

  @Test func chunkKeyEncodings() {
    #expect(ChunkKeyEncoding.default(separator: .slash).key([1, 23, 45]) == "c/1/23/45")
    #expect(ChunkKeyEncoding.default(separator: .dot).key([1, 23, 45]) == "c.1.23.45")
    #expect(ChunkKeyEncoding.default(separator: .slash).key([]) == "c")
    #expect(ChunkKeyEncoding.v2(separator: .dot).key([1, 23, 45]) == "1.23.45")
    #expect(ChunkKeyEncoding.v2(separator: .slash).key([1, 23]) == "1/23")
    #expect(ChunkKeyEncoding.v2(separator: .dot).key([]) == "0")
  }

  @Test func groupMetadata() throws {
    let g = try GroupMetadata(v3: JSONValue.parse(#"{"zarr_format": 3, "node_type": "group", "attributes": {"spam": "ham"}}"#))
    #expect(g.attributes["spam"] == "ham")
    #expect(throws: ZarrError.self) {
      try GroupMetadata(v3: JSONValue.parse(#"{"zarr_format": 3, "node_type": "group", "extra": 1}"#))
    }
    let consolidated = try GroupMetadata(v3: JSONValue.parse("""
      {"zarr_format": 3, "node_type": "group", "consolidated_metadata": {"kind": "inline", "must_understand": false,
       "metadata": {"a": {"zarr_format": 3, "node_type": "group"},
                    "a/b": {"zarr_format": 3, "node_type": "array", "shape": [2], "data_type": "int8",
                            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [2]}},
                            "chunk_key_encoding": {"name": "default"}, "fill_value": 0, "codecs": [{"name": "bytes"}]}}}}
      """))
    #expect(Set(consolidated.consolidated?.nodes.keys ?? [:].keys) == ["a", "a/b"])
  }

  @Test func v2ArrayMetadata() throws {
    let doc = try JSONValue.parse("""
      {"chunks": [1000, 1000], "compressor": {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1},
       "dtype": ">f8", "fill_value": "NaN", "filters": null, "order": "F", "shape": [10000, 10000], "zarr_format": 2,
       "dimension_separator": "/"}
      """)
    let m = try ArrayMetadata(v2: doc)
    #expect(m.zarrFormat == .v2)
    #expect(m.dataType == .float64)
    #expect(m.chunkKeyEncoding == .v2(separator: .slash))
    #expect(m.codecs.map(\.name) == ["transpose", "bytes", "blosc"])
    #expect(m.codecs[1].configuration["endian"] == "big")
    #expect(m.codecs[2].configuration["typesize"] == 8)
    let back = try m.v2JSON()
    #expect(back["dtype"] == ">f8")
    #expect(back["order"] == "F")
    #expect(back["compressor"]?["shuffle"] == 1)
    #expect(back["fill_value"] == "NaN")
    #expect(try ArrayMetadata(v2: back) == m)
  }

  @Test(arguments: [
    ("|b1", DataType.bool), ("<i1", .int8), ("|u1", .uint8), ("<i2", .int16), (">u2", .uint16), ("<i4", .int32),
    ("<u8", .uint64), ("<f2", .float16), ("<f4", .float32), (">f8", .float64), ("<c8", .complex64), ("<c16", .complex128),
  ])
  func v2DtypeStrings(_ s: String, _ type: DataType) throws {
    let (t, endian) = try #require(DataType.parseV2(s))
    #expect(t == type)
    if type.hasEndianness {
      #expect(t.v2Name(endian: endian!) == s)
    }
  }

  @Test func v2NullFillAndFilters() throws {
    let doc = try JSONValue.parse("""
      {"chunks": [4], "compressor": null, "dtype": "<u2", "fill_value": null, "filters": [], "order": "C",
       "shape": [10], "zarr_format": 2}
      """)
    let m = try ArrayMetadata(v2: doc)
    #expect(m.v2FillValueIsNull)
    #expect(try m.v2JSON()["fill_value"] == .null)
    let withFilter = try JSONValue.parse("""
      {"chunks": [4], "compressor": null, "dtype": "<u2", "fill_value": 0, "filters": [{"id": "delta", "dtype": "<u2"}],
       "order": "C", "shape": [10], "zarr_format": 2}
      """)
    #expect(throws: ZarrError.self) { try ArrayMetadata(v2: withFilter) }
  }
}
