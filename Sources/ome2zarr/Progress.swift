import Dispatch
import Foundation
import OMEZarrConvert
import Synchronization

/// A progress bar on standard error when it is a terminal (bytes read, MB/s, ETA); otherwise a
/// line every 10 seconds. Redraws at most 10 times a second.
final class ProgressBar: ConvertProgress {
  private struct State {
    var total = 0
    var done = 0
    var label = ""
    var started = DispatchTime.now().uptimeNanoseconds
    var lastDraw: UInt64 = 0
  }
  private let state = Mutex(State())
  private let isTerminal = Platform.standardErrorIsTerminal && ProcessInfo.processInfo.environment["TERM"] != "dumb"

  func start(totalBytes: Int, label: String) {
    state.withLock {
      $0.total += totalBytes
      $0.label = label
    }
  }

  func advance(bytes: Int) {
    let line: String? = state.withLock { s in
      s.done += bytes
      let now = DispatchTime.now().uptimeNanoseconds
      let interval: UInt64 = isTerminal ? 100_000_000 : 10_000_000_000
      guard now - s.lastDraw >= interval || s.done >= s.total else { return nil }
      s.lastDraw = now
      return render(s, now: now)
    }
    if let line { write(line) }
  }

  /// Sets the bytes done and the total (for work that counts its own progress).
  func set(done: Int, total: Int) {
    let line: String? = state.withLock { s in
      s.total = total
      s.done = done
      let now = DispatchTime.now().uptimeNanoseconds
      let interval: UInt64 = isTerminal ? 100_000_000 : 10_000_000_000
      guard now - s.lastDraw >= interval || s.done >= s.total else { return nil }
      s.lastDraw = now
      return render(s, now: now)
    }
    if let line { write(line) }
  }

  func finish() {
    if isTerminal { write("\n") }
  }

  private func render(_ s: State, now: UInt64) -> String {
    let seconds = Double(now - s.started) / 1e9
    let fraction = s.total > 0 ? min(1, Double(s.done) / Double(s.total)) : 0
    let rate = Double(s.done) / max(seconds, 1e-3) / 1e6
    let eta = fraction > 0 ? seconds * (1 - fraction) / fraction : 0
    let width = 30
    let filled = Int(fraction * Double(width))
    let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
    let text = String(format: "%@ [%@] %3.0f%%  %.0f MB/s  ETA %.0fs", s.label, bar, fraction * 100, rate, eta)
    return isTerminal ? "\r" + text + "\u{1B}[K" : text + "\n"
  }

  private func write(_ s: String) { Platform.writeToStandardError(s) }
}
