/// A small dense row-major matrix of doubles: the parameters of affine and rotation transformations
/// (at most a few rows and columns), with the linear algebra the transform graph needs.
public struct Matrix: Sendable, Hashable, CustomStringConvertible {
  /// The number of rows.
  public let rows: Int
  /// The number of columns.
  public let columns: Int
  /// `rows * columns` entries, row by row.
  public var entries: [Double]

  /// Creates a `rows` x `columns` matrix from its entries, row by row; they must fill it exactly.
  public init(rows: Int, columns: Int, entries: [Double]) {
    precondition(entries.count == rows * columns, "matrix entries do not fill \(rows)x\(columns)")
    self.rows = rows
    self.columns = columns
    self.entries = entries
  }

  /// A matrix from its rows; `nil` when the rows have different lengths.
  public init?(_ rowList: [[Double]]) {
    let c = rowList.first?.count ?? 0
    guard rowList.allSatisfy({ $0.count == c }) else { return nil }
    self.init(rows: rowList.count, columns: c, entries: rowList.flatMap { $0 })
  }

  /// The `n` x `n` identity matrix.
  public static func identity(_ n: Int) -> Matrix {
    var m = Matrix(rows: n, columns: n, entries: [Double](repeating: 0, count: n * n))
    for i in 0..<n { m[i, i] = 1 }
    return m
  }

  /// The entry in row `r`, column `c` (0-based).
  public subscript(r: Int, c: Int) -> Double {
    get { entries[r * columns + c] }
    set { entries[r * columns + c] = newValue }
  }

  /// The entries as a list of rows, as affine and rotation parameters are written.
  public var rowList: [[Double]] { (0..<rows).map { Array(entries[($0 * columns)..<(($0 + 1) * columns)]) } }

  /// The matrix with rows and columns swapped.
  public var transposed: Matrix {
    var t = Matrix(rows: columns, columns: rows, entries: entries)
    for r in 0..<rows { for c in 0..<columns { t[c, r] = self[r, c] } }
    return t
  }

  /// The matrix product `a` x `b`; `a.columns` must equal `b.rows`.
  public static func * (a: Matrix, b: Matrix) -> Matrix {
    precondition(a.columns == b.rows, "matrix product of \(a.rows)x\(a.columns) and \(b.rows)x\(b.columns)")
    var out = Matrix(rows: a.rows, columns: b.columns, entries: [Double](repeating: 0, count: a.rows * b.columns))
    for i in 0..<a.rows {
      for k in 0..<a.columns {
        let f = a[i, k]
        if f == 0 { continue }
        for j in 0..<b.columns { out[i, j] += f * b[k, j] }
      }
    }
    return out
  }

  /// `self · v`.
  public func apply(_ v: [Double]) -> [Double] {
    (0..<rows).map { r in
      var s = 0.0
      for c in 0..<columns { s += self[r, c] * v[c] }
      return s
    }
  }

  /// LU factorisation with partial pivoting of a square matrix; `nil` when it is singular
  /// (a pivot below `1e-14` times the largest entry).
  private func factorised() -> (lu: Matrix, perm: [Int], sign: Double)? {
    precondition(rows == columns)
    let n = rows
    var a = self, perm = Array(0..<n), sign = 1.0
    let scale = entries.map(abs).max() ?? 0
    guard scale > 0 else { return n == 0 ? (a, perm, sign) : nil }
    for c in 0..<n {
      var p = c
      for r in (c + 1)..<max(n, c + 1) where abs(a[r, c]) > abs(a[p, c]) { p = r }
      guard abs(a[p, c]) > 1e-14 * scale else { return nil }
      if p != c {
        for k in 0..<n { (a[p, k], a[c, k]) = (a[c, k], a[p, k]) }
        perm.swapAt(p, c)
        sign = -sign
      }
      for r in (c + 1)..<max(n, c + 1) {
        let f = a[r, c] / a[c, c]
        a[r, c] = f
        if f == 0 { continue }
        for k in (c + 1)..<n { a[r, k] -= f * a[c, k] }
      }
    }
    return (a, perm, sign)
  }

  /// The determinant of a square matrix (0 when it is numerically singular).
  public var determinant: Double {
    guard let (lu, _, sign) = factorised() else { return 0 }
    return (0..<rows).reduce(sign) { $0 * lu[$1, $1] }
  }

  /// The inverse of a square matrix, `nil` when it is singular.
  public var inverse: Matrix? {
    guard rows == columns, let (lu, perm, _) = factorised() else { return nil }
    let n = rows
    var inv = Matrix(rows: n, columns: n, entries: [Double](repeating: 0, count: n * n))
    for col in 0..<n {
      var x = (0..<n).map { perm[$0] == col ? 1.0 : 0.0 }
      for i in 0..<n { for k in 0..<i { x[i] -= lu[i, k] * x[k] } }
      for i in stride(from: n - 1, through: 0, by: -1) {
        for k in (i + 1)..<max(n, i + 1) { x[i] -= lu[i, k] * x[k] }
        x[i] /= lu[i, i]
      }
      for i in 0..<n { inv[i, col] = x[i] }
    }
    return inv
  }

  /// Solves `self · x = b` for a square matrix; `nil` when it is singular.
  public func solve(_ b: [Double]) -> [Double]? {
    guard let inv = inverse else { return nil }
    return inv.apply(b)
  }

  /// Whether the rows are orthonormal (`M·Mᵀ = I`) within `tolerance`.
  public func isOrthonormal(tolerance: Double) -> Bool {
    guard rows == columns else { return false }
    for i in 0..<rows {
      for j in i..<rows {
        var dot = 0.0
        for k in 0..<columns { dot += self[i, k] * self[j, k] }
        if abs(dot - (i == j ? 1 : 0)) > tolerance { return false }
      }
    }
    return true
  }

  /// The matrix as its list of rows, `[[a, b], [c, d]]`.
  public var description: String { "\(rowList)" }
}
