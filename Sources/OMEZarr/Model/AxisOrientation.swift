import ZarrIO

/// One of the 24 anatomical directions of RFC-4 (`"left-to-right"`, ...): the coordinate along the
/// axis increases from the first term towards the second.
public enum AnatomicalDirection: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
  /// From the subject's left to its right.
  case leftToRight = "left-to-right"
  /// From the subject's right to its left.
  case rightToLeft = "right-to-left"
  /// From the front to the back.
  case anteriorToPosterior = "anterior-to-posterior"
  /// From the back to the front.
  case posteriorToAnterior = "posterior-to-anterior"
  /// From the feet towards the head.
  case inferiorToSuperior = "inferior-to-superior"
  /// From the head towards the feet.
  case superiorToInferior = "superior-to-inferior"
  /// From the back (dorsal side) to the belly (ventral side).
  case dorsalToVentral = "dorsal-to-ventral"
  /// From the belly (ventral side) to the back (dorsal side).
  case ventralToDorsal = "ventral-to-dorsal"
  /// From the back of the hand to the palm.
  case dorsalToPalmar = "dorsal-to-palmar"
  /// From the palm to the back of the hand.
  case palmarToDorsal = "palmar-to-dorsal"
  /// From the top of the foot to the sole.
  case dorsalToPlantar = "dorsal-to-plantar"
  /// From the sole to the top of the foot.
  case plantarToDorsal = "plantar-to-dorsal"
  /// From the nose towards the tail.
  case rostralToCaudal = "rostral-to-caudal"
  /// From the tail towards the nose.
  case caudalToRostral = "caudal-to-rostral"
  /// From the skull towards the tail.
  case cranialToCaudal = "cranial-to-caudal"
  /// From the tail towards the skull.
  case caudalToCranial = "caudal-to-cranial"
  /// From near the trunk to away from it.
  case proximalToDistal = "proximal-to-distal"
  /// From away from the trunk to near it.
  case distalToProximal = "distal-to-proximal"
  /// From the surface inwards.
  case superficialToDeep = "superficial-to-deep"
  /// From inside towards the surface.
  case deepToSuperficial = "deep-to-superficial"
  /// From the apical side to the basal side (of an epithelium).
  case apicalToBasal = "apical-to-basal"
  /// From the basal side to the apical side (of an epithelium).
  case basalToApical = "basal-to-apical"
  /// From the apex of an organ to its base.
  case apexToBase = "apex-to-base"
  /// From the base of an organ to its apex.
  case baseToApex = "base-to-apex"

  /// The same line, the other way (`right-to-left` for `left-to-right`).
  public var inverse: AnatomicalDirection {
    let parts = rawValue.components(separatedBy: "-to-")
    // Every case is `a-to-b` and `b-to-a` is a case too.
    return AnatomicalDirection(rawValue: "\(parts[1])-to-\(parts[0])") ?? self
  }

  /// The direction as written (`"left-to-right"`).
  public var description: String { rawValue }
}

/// The orientation of a space axis (RFC-4, 0.9): `{"type": "anatomical", "value": "left-to-right"}`.
///
/// Read leniently: any strings are kept, unknown keys too; ``Validator`` reports values outside the
/// vocabulary. Written canonically: `type`, then `value`, then the unknown keys.
public struct AxisOrientation: Sendable, Hashable, CustomStringConvertible {
  /// The kind of orientation; RFC-4 defines `"anatomical"` only.
  public var type: String
  /// The direction, one of ``AnatomicalDirection`` for `anatomical`.
  public var value: String
  /// Keys not modelled, kept as written.
  public var extra: JSONObject = [:]

  /// The only `type` RFC-4 defines.
  public static let anatomicalType = "anatomical"

  /// An orientation of `type` with `value`, both as written.
  public init(type: String, value: String) {
    self.type = type
    self.value = value
  }

  /// An anatomical orientation along `direction`.
  public init(_ direction: AnatomicalDirection) {
    self.init(type: Self.anatomicalType, value: direction.rawValue)
  }

  /// Reads `{"type": ..., "value": ...}`; `pointer` locates it in error messages.
  /// - Throws: when it is not an object with string `type` and `value`.
  public init(json: JSONValue, pointer: String) throws(OMEZarrError) {
    var r = try ObjectReader(json, pointer: pointer, what: "an axis orientation")
    self.init(type: try r.requiredString("type", what: "an axis orientation"),
      value: try r.requiredString("value", what: "an axis orientation"))
    extra = r.rest
  }

  /// The anatomical direction, when `type` is `anatomical` and `value` one of the 24.
  public var direction: AnatomicalDirection? {
    type == Self.anatomicalType ? AnatomicalDirection(rawValue: value) : nil
  }

  /// The orientation as written in the metadata (unknown keys kept).
  public var json: JSONValue {
    var w = ObjectWriter()
    w.set("type", .string(type))
    w.set("value", .string(value))
    w.merge(extra)
    return w.json
  }

  /// The value, with the type when it is not anatomical (`other:value`).
  public var description: String { type == Self.anatomicalType ? value : "\(type):\(value)" }
}
