import Foundation
import OMEZarrConvert
import ZarrIO

/// Seeds made with our own writers, for the targets whose inputs no fixture holds (encoded chunks
/// and shards, TIFF files, image descriptions); `ome2zarr-fuzz --write-seeds DIR` writes them.
public enum GeneratedSeeds {
  /// The seeds of `target` by file name.
  public static func seeds(for target: String) -> [(name: String, bytes: [UInt8])] {
    switch target {
    case "shard": return chunks(ChunkTarget.sharded, prefix: "shard")
    case "chunk": return chunks(ChunkTarget.unsharded, prefix: "chunk")
    case "omexml": return omeXML.enumerated().map { ("omexml-\($0)", Array($1.utf8)) }
    case "imagej": return imageJ.enumerated().map { ("imagej-\($0)", Array($1.utf8)) }
    case "tiff": return tiffs()
    default: return []
    }
  }

  /// One stored chunk per variant (the variant byte first), holding a ramp, and one holding a
  /// constant (sharded: inner chunks of fill value are left out of the shard).
  static func chunks(_ variants: [String], prefix: String) -> [(name: String, bytes: [UInt8])] {
    var out: [(String, [UInt8])] = []
    for (i, document) in variants.enumerated() {
      for (label, elements) in [("ramp", (0..<64).map { UInt16($0 * 1000 % 65_536) }), ("sparse", (0..<64).map { $0 < 16 ? UInt16(9) : 0 })] {
        let store = MemoryStore()
        guard (try? store.set("zarr.json", Array(document.utf8))) != nil, let array = try? ZarrArray.open(in: store),
          (try? array.write(elements, region: array.fullRegion)) != nil, let stored = try? store.get("c/0/0")
        else { continue }
        out.append(("\(prefix)-\(i)-\(label)", [UInt8(i)] + stored))
      }
    }
    return out
  }

  static let omeXML: [String] = [
    TIFFWriter.omeXML(sizeX: 16, sizeY: 8, sizeZ: 6, type: .uint16),
    TIFFWriter.omeXML(sizeX: 16, sizeY: 8, sizeZ: 3, sizeC: 2, type: .uint16, physicalSize: (0.5, 0.5, 2)),
    TIFFWriter.omeXML(sizeX: 16, sizeY: 8, sizeZ: 1, sizeC: 1, sizeT: 6, type: .uint16),
    """
    <?xml version="1.0" encoding="UTF-8"?>
    <OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06" UUID="urn:uuid:a">
    <Image ID="Image:0" Name="first"><Pixels ID="Pixels:0" DimensionOrder="XYCZT" Type="uint16" SizeX="16" SizeY="8" SizeZ="3" SizeC="1" SizeT="1" PhysicalSizeX="0.25" PhysicalSizeXUnit="µm" TimeIncrement="2" TimeIncrementUnit="s">
    <Channel ID="Channel:0:0" Name="DAPI" Color="-16776961" SamplesPerPixel="1"/>
    <TiffData FirstZ="0" IFD="0" PlaneCount="3"/></Pixels></Image>
    <Image ID="Image:1" Name="second"><Pixels ID="Pixels:1" DimensionOrder="XYZCT" Type="uint16" SizeX="16" SizeY="8" SizeZ="1" SizeC="3" SizeT="1" Interleaved="false" BigEndian="false">
    <Channel ID="Channel:1:0" SamplesPerPixel="1"/><Channel ID="Channel:1:1" SamplesPerPixel="1"/><Channel ID="Channel:1:2" SamplesPerPixel="1"/>
    <TiffData FirstC="0" IFD="3" PlaneCount="3"><UUID FileName="described.ome.tif">urn:uuid:a</UUID></TiffData></Pixels></Image>
    </OME>
    """,
    """
    <OME><Image ID="Image:0"><Pixels DimensionOrder="XYZCT" Type="uint16" SizeX="16" SizeY="8" SizeZ="2" SizeC="3" SizeT="1">
    <Channel SamplesPerPixel="3"/><TiffData IFD="1"/></Pixels></Image></OME>
    """,
  ]

  static let imageJ: [String] = [
    "ImageJ=1.54f\nimages=6\nchannels=2\nslices=3\nhyperstack=true\nunit=micron\nspacing=1.5\n",
    "ImageJ=1.53t\nimages=6\nframes=6\nfinterval=0.5\nunit=\\u00B5m\n",
    "ImageJ=1.54f\nimages=6\nslices=6\nloop=false\nmin=0.0\nmax=255.0\n",
    "ImageJ=1.54f\nimages=6\nchannels=3\nframes=2\nmode=composite\n",
  ]

  /// Small TIFFs: plain pages, OME-TIFF, ImageJ, tiled and compressed, BigTIFF, RGB.
  static func tiffs() -> [(name: String, bytes: [UInt8])] {
    func planes(_ n: Int, _ h: Int, _ w: Int, _ type: DataType, samples: Int = 1) -> [ArrayBuffer] {
      (0..<n).compactMap { p in
        var b = ArrayBuffer(shape: samples == 1 ? [h, w] : [h, w, samples], dataType: type)
        for i in b.bytes.indices { b.bytes[i] = UInt8(truncatingIfNeeded: i &* 7 &+ p) }
        return b
      }
    }
    var cases: [(String, [ArrayBuffer], TIFFWriter.Options)] = []
    var o = TIFFWriter.Options()
    cases.append(("plain-uint8", planes(3, 16, 12, .uint8), o))
    o.description = TIFFWriter.omeXML(sizeX: 12, sizeY: 10, sizeZ: 2, sizeC: 2, type: .uint16, physicalSize: (0.5, 0.5, 1))
    cases.append(("ome-uint16", planes(4, 10, 12, .uint16), o))
    o = TIFFWriter.Options()
    o.description = imageJ[0]
    o.pixelsPerCentimeter = 25_000
    cases.append(("imagej-hyperstack", planes(6, 8, 8, .uint8), o))
    o = TIFFWriter.Options()
    o.tileSize = 16
    o.compression = .deflate
    o.predictor = true
    cases.append(("tiled-deflate-uint16", planes(2, 32, 32, .uint16), o))
    o = TIFFWriter.Options()
    o.compression = .lzw
    o.rowsPerStrip = 3
    cases.append(("strips-lzw-float32", planes(2, 9, 7, .float32), o))
    o = TIFFWriter.Options()
    o.bigTIFF = true
    o.compression = .packBits
    cases.append(("bigtiff-packbits-int16", planes(2, 8, 8, .int16), o))
    o = TIFFWriter.Options()
    cases.append(("rgb-uint8", planes(1, 8, 8, .uint8, samples: 3), o))
    o.compression = .zstd
    cases.append(("zstd-uint32", planes(2, 8, 8, .uint32), o))

    var out: [(String, [UInt8])] = []
    for (name, pages, options) in cases {
      let path = TIFFExercise.directory + "/seed.tif"
      do {
        let writer = try TIFFWriter(path: path, options: options)
        for p in pages { try writer.append(p) }
      } catch {
        continue
      }
      if let data = FileManager.default.contents(atPath: path) { out.append(("tiff-\(name)", [UInt8](data))) }
    }
    return out
  }
}
