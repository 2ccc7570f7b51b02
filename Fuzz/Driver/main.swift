// ome2zarr-fuzz TARGET [libFuzzer arguments | files...]   (see Fuzz/README.md)
//
// Built by scripts/fuzz with `-sanitize=fuzzer,address -DFUZZING`, this hands the arguments after
// TARGET to libFuzzer (LLVMFuzzerRunDriver). Built normally (no libFuzzer), it replays files
// through TARGET: every file named, or every file in a directory named; each input gets
// `--timeout` seconds (default 20) before the process is killed. It exits 0 when every input ran.
#if FUZZING
  import CFuzzDriver
#endif
import Foundation
import FuzzTargets

/// Writes `text` to standard error.
func note(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }

func usage() -> Never {
  var text = """
    usage: ome2zarr-fuzz TARGET [libFuzzer options | --timeout S] [FILE|DIR ...]
           ome2zarr-fuzz --list | --write-seeds DIR
    targets:

    """
  for t in FuzzTarget.all { text += "  \(t.name.padding(toLength: 11, withPad: " ", startingAt: 0)) \(t.summary)\n" }
  note(text)
  exit(2)
}

let arguments = CommandLine.arguments
if arguments.count >= 2, arguments[1] == "--list" {
  for t in FuzzTarget.all { print("\(t.name) \(t.maxLength)") }
  exit(0)
}
if arguments.count == 3, arguments[1] == "--write-seeds" {
  // The generated seeds of every target into DIR/<target>/ (Fuzz/make-seeds).
  for t in FuzzTarget.all {
    let seeds = GeneratedSeeds.seeds(for: t.name)
    guard !seeds.isEmpty else { continue }
    let dir = arguments[2] + "/" + t.name
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    for (name, bytes) in seeds { _ = FileManager.default.createFile(atPath: dir + "/" + name, contents: Data(bytes)) }
    print("\(t.name): \(seeds.count) generated seeds")
  }
  exit(0)
}
// TARGET is the first argument, or (for the processes libFuzzer's fork mode starts with its own
// flags only) the environment's OME2ZARR_FUZZ_TARGET.
let named = arguments.count >= 2 ? FuzzTarget.named(arguments[1]) : nil
guard let target = named ?? ProcessInfo.processInfo.environment["OME2ZARR_FUZZ_TARGET"].flatMap(FuzzTarget.named) else { usage() }
let passed = Array(arguments.dropFirst(named == nil ? 1 : 2))

#if FUZZING
  /// The target libFuzzer's callback runs (a C callback cannot capture it).
  nonisolated(unsafe) var selected: FuzzTarget = target

  /// libFuzzer's callback by its conventional name, for when libFuzzer's own main is linked.
  @_cdecl("LLVMFuzzerTestOneInput")
  func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    selected.run(size == 0 || data == nil ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
  }
  // libFuzzer sees argv without TARGET (its own flags and corpus directories).
  var cArguments: [UnsafeMutablePointer<CChar>?] = ([arguments[0]] + passed).map { strdup($0) } + [nil]
  var argc = Int32(cArguments.count - 1)
  let status = cArguments.withUnsafeMutableBufferPointer { buffer -> Int32 in
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = buffer.baseAddress
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOneInput(data, size) }
  }
  exit(status)
#else
  var timeout: UInt32 = 20
  var files: [String] = []
  var rest = passed[...]
  while let a = rest.popFirst() {
    if a == "--timeout", let v = rest.popFirst().flatMap({ UInt32($0) }) {
      timeout = v
    } else if a.hasPrefix("-") {
      continue  // libFuzzer flags mean nothing to the replay tool
    } else {
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: a, isDirectory: &isDirectory) else {
        note("ome2zarr-fuzz: no such file '\(a)'\n")
        exit(2)
      }
      if isDirectory.boolValue {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: a)) ?? []
        files += names.sorted().filter { !$0.hasPrefix(".") }.map { a + "/" + $0 }
      } else {
        files.append(a)
      }
    }
  }
  for file in files {
    guard let data = FileManager.default.contents(atPath: file) else {
      note("ome2zarr-fuzz: cannot read '\(file)'\n")
      exit(2)
    }
    note("running \(target.name) on \(file) (\(data.count) bytes)\n")
    alarm(timeout)  // a hang is a finding: SIGALRM ends the process
    target.run([UInt8](data))
    alarm(0)
  }
  note("ran \(files.count) input(s) through \(target.name) without a crash\n")
#endif
