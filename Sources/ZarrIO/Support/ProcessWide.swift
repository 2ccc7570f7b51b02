import Synchronization

/// A setting for the whole process behind a lock: the one holder of ``ReadLimits/current`` and
/// ``RemoteAccess/current``.
///
/// A class around the `Mutex`, not a `static let` `Mutex` of the struct itself: Swift 6.3.1 in
/// release builds reads such a static back zeroed for some structs (`RemoteAccess`, with its
/// optional strings, gave `ioConcurrency` 0), a compiler bug seen only with optimisation.
package final class ProcessWide<Value: Sendable>: Sendable {
  private let value: Mutex<Value>

  /// A holder with `initial` as its value.
  package init(_ initial: Value) { value = Mutex(initial) }

  /// The value now.
  package var current: Value {
    get { value.withLock { $0 } }
    set { value.withLock { $0 = newValue } }
  }
}
