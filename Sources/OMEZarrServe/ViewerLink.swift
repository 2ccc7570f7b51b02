import Foundation
import OMEZarr
import ZarrIO

/// Viewer URLs for an image served at a URL: a neuroglancer state that shows what the metadata
/// says (neuroglancer does not read `omero` or find `labels/` by itself), and vizarr's `?source=`.
public enum ViewerLink {
  /// The public neuroglancer deployment.
  public static let neuroglancer = "https://neuroglancer-demo.appspot.com/"
  /// The public vizarr deployment.
  public static let vizarr = "https://hms-dbmi.github.io/vizarr/"

  /// SI factors of the UDUNITS length and time units (to metres and seconds).
  static let factors: [String: (Double, String)] = {
    var f: [String: (Double, String)] = [:]
    let prefixes: [(String, Double)] = [
      ("yocto", 1e-24), ("zepto", 1e-21), ("atto", 1e-18), ("femto", 1e-15), ("pico", 1e-12), ("nano", 1e-9),
      ("micro", 1e-6), ("milli", 1e-3), ("centi", 1e-2), ("deci", 1e-1), ("", 1), ("hecto", 1e2), ("kilo", 1e3),
      ("mega", 1e6), ("giga", 1e9), ("tera", 1e12), ("peta", 1e15), ("exa", 1e18), ("zetta", 1e21), ("yotta", 1e24),
    ]
    for (p, v) in prefixes {
      f[p + "meter"] = (v, "m")
      f[p + "second"] = (v, "s")
    }
    f["angstrom"] = (1e-10, "m")
    f["foot"] = (0.3048, "m")
    f["inch"] = (0.0254, "m")
    f["yard"] = (0.9144, "m")
    f["mile"] = (1609.344, "m")
    f["parsec"] = (3.0856775814913673e16, "m")
    f["minute"] = (60, "s")
    f["hour"] = (3600, "s")
    f["day"] = (86400, "s")
    return f
  }()

  /// A neuroglancer state for `image` served at `source` (the image's URL, ending in `/`):
  /// physical dimensions from level 0's scale and the axes' units; one image layer per channel
  /// (named, coloured and windowed from `omero`, blended additively) when there is a channel
  /// axis, else one; and a segmentation layer per label image in `labels`.
  public static func neuroglancerState(image: OMEImage, labels: [String], source: String) -> JSONValue {
    let axes = image.axes
    let scale = image.scale(level: 0) ?? Array(repeating: 1, count: axes.count)
    let format = image.levels.first?.metadata.zarrFormat == .v2 ? "zarr2" : "zarr3"
    var dimensions = JSONObject()
    var channelAxis: Int? = nil
    for (i, axis) in axes.enumerated() {
      if axis.type == .channel {
        channelAxis = i
        continue
      }
      let s = i < scale.count ? scale[i] : 1
      if let unit = axis.unit.flatMap({ Units.canonical($0) ?? $0 }), let (factor, base) = factors[unit] {
        dimensions[axis.name] = [.double(s * factor), .string(base)]
      } else {
        dimensions[axis.name] = [.double(s), ""]
      }
    }
    let url = source + "|" + format + ":"
    var layers: [JSONValue] = []
    let channels = image.omero?.channels ?? []
    if let c = channelAxis {
      let count = image.levels.first.map { $0.shape[c] } ?? channels.count
      for i in 0..<count {
        let channel = i < channels.count ? channels[i] : nil
        let color = "#" + (channel?.color.flatMap { $0.count == 6 ? $0 : nil } ?? defaultColor(i, of: count)).lowercased()
        var layer = imageLayer(name: channel?.label ?? "channel \(i)", source: url, window: channel?.window, color: color)
        layer["localDimensions"] = ["c'": [1, ""]]
        layer["localPosition"] = [.int(Int64(i))]
        layer["blend"] = "additive"
        if channel?.active == false { layer["visible"] = false }
        layers.append(.object(layer))
      }
    } else {
      let channel = channels.first
      let color = channel?.color.flatMap { $0.count == 6 ? "#" + $0.lowercased() : nil }
      layers.append(.object(imageLayer(name: channel?.label ?? image.multiscale.name ?? "image", source: url,
        window: channel?.window, color: color)))
    }
    for name in labels {
      layers.append(["type": "segmentation", "name": .string("labels/" + name), "source": .string(source + "labels/" + name + "/|" + format + ":")])
    }
    let spatial = axes.filter { $0.type == .space }.count
    return ["dimensions": .object(dimensions), "layers": .array(layers), "layout": spatial >= 3 ? "4panel" : "xy",
            "selectedLayer": ["layer": layers.first?["name"] ?? "image", "visible": true]]
  }

  /// One image layer: the window as the `normalized` control, the colour as a `color` control.
  static func imageLayer(name: String, source: String, window: Omero.Window?, color: String?) -> JSONObject {
    var layer: JSONObject = ["type": "image", "name": .string(name), "source": .string(source)]
    var controls = JSONObject()
    if let start = window?.start, let end = window?.end, start < end {
      var normalized: JSONObject = ["range": [.double(start), .double(end)]]
      if let lo = window?.min, let hi = window?.max, lo < hi { normalized["window"] = [.double(lo), .double(hi)] }
      controls["normalized"] = .object(normalized)
    }
    if let color {
      layer["shader"] = .string("""
        #uicontrol invlerp normalized
        #uicontrol vec3 color color(default="\(color)")
        void main() { emitRGB(color * normalized()); }
        """)
      controls["color"] = .string(color)
    }
    if !controls.isEmpty { layer["shaderControls"] = .object(controls) }
    return layer
  }

  /// A colour for channel `i` of `count` with no colour of its own: grey alone, else red, green,
  /// blue, then cyan, magenta, yellow.
  static func defaultColor(_ i: Int, of count: Int) -> String {
    guard count > 1 else { return "FFFFFF" }
    return ["FF0000", "00FF00", "0000FF", "00FFFF", "FF00FF", "FFFF00"][i % 6]
  }

  /// The neuroglancer URL of `state` at the client `base`: `base#!` and the state as URL-encoded JSON.
  public static func neuroglancerURL(state: JSONValue, base: String = neuroglancer) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    let text = state.serialized(pretty: false)
    return base + "#!" + (text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text)
  }

  /// The vizarr URL of an image at `source`.
  public static func vizarrURL(source: String, base: String = vizarr) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~:/")
    return base + "?source=" + (source.addingPercentEncoding(withAllowedCharacters: allowed) ?? source)
  }
}
