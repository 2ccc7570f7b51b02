/// Overflow-checked arithmetic on numbers read from files: sizes, counts and offsets.
///
/// Each helper returns `nil` instead of trapping when the exact result does not fit `Int`, so that
/// callers turn overflow into an error naming what was being computed.
public enum CheckedArithmetic {
  /// The product of `factors` times `initial`, or `nil` on overflow (or a negative factor).
  public static func product(_ factors: some Sequence<Int>, times initial: Int = 1) -> Int? {
    var n = initial
    for f in factors {
      guard f >= 0 else { return nil }
      let (p, o) = n.multipliedReportingOverflow(by: f)
      if o { return nil }
      n = p
    }
    return n
  }

  /// The product of `factors`, or `Int.max` when it does not fit: for counts that only need to be
  /// compared with a limit or shown (a shape near 2^63 is just "too many").
  public static func saturatingProduct(_ factors: some Sequence<Int>) -> Int {
    product(factors) ?? Int.max
  }

  /// `a + b`, or `nil` on overflow.
  public static func sum(_ a: Int, _ b: Int) -> Int? {
    let (s, o) = a.addingReportingOverflow(b)
    return o ? nil : s
  }

  /// `ceil(a / b)` for `a >= 0`, `b > 0`, without the overflow of `(a + b - 1) / b`.
  public static func ceilDiv(_ a: Int, _ b: Int) -> Int {
    a / b + (a % b == 0 ? 0 : 1)
  }
}
