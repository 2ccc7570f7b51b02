// swift-tools-version:6.1
import PackageDescription

let package = Package(
  name: "ome-zarr-swift",
  platforms: [.macOS(.v15)],
  products: [
    .library(name: "ZarrIO", targets: ["ZarrIO"]),
    .library(name: "OMEZarr", targets: ["OMEZarr"]),
    .library(name: "OMEZarrConvert", targets: ["OMEZarrConvert"]),
    .library(name: "OMEZarrServe", targets: ["OMEZarrServe"]),
    .executable(name: "ome2zarr", targets: ["ome2zarr"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
  ],
  targets: [
    // System libraries (Debian: libzstd-dev, libblosc-dev, zlib1g-dev, libdeflate-dev, libtiff-dev, libjpeg62-turbo-dev).
    .systemLibrary(
      name: "CZarrZstd", pkgConfig: "libzstd",
      providers: [.apt(["libzstd-dev"]), .brew(["zstd"])]),
    .systemLibrary(
      name: "CZarrBlosc", pkgConfig: "blosc",
      providers: [.apt(["libblosc-dev"]), .brew(["c-blosc"])]),
    .systemLibrary(
      name: "CZarrZlib", pkgConfig: "zlib",
      providers: [.apt(["zlib1g-dev"])]),
    .systemLibrary(
      name: "CZarrDeflate", pkgConfig: "libdeflate",
      providers: [.apt(["libdeflate-dev"]), .brew(["libdeflate"])]),
    .systemLibrary(
      name: "COMEJpeg", pkgConfig: "libjpeg",
      providers: [.apt(["libjpeg62-turbo-dev"]), .brew(["jpeg-turbo"])]),
    .systemLibrary(
      name: "COMETiff", pkgConfig: "libtiff-4",
      providers: [.apt(["libtiff-dev"]), .brew(["libtiff"])]),

    // CRC-32 by carry-less multiplication (zip entries); C for the x86 intrinsics.
    .target(name: "CZarrCRC"),
    // System calls Swift cannot make directly (openat2 through syscall(2)).
    .target(name: "CZarrSystem"),
    .target(
      name: "ZarrIO",
      dependencies: [
        "CZarrZstd", "CZarrBlosc", "CZarrZlib", "CZarrCRC", "CZarrSystem", .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
      ]),
    .target(name: "OMEZarr", dependencies: ["ZarrIO"]),
    .target(name: "OMEZarrConvert", dependencies: ["OMEZarr", "ZarrIO", "COMETiff", "CZarrDeflate", "COMEJpeg"]),
    .target(name: "OMEZarrServe", dependencies: [
      "ZarrIO", "OMEZarr", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
      .product(name: "NIOHTTP1", package: "swift-nio"),
    ]),
    .executableTarget(
      name: "ome2zarr",
      dependencies: [
        "ZarrIO", "OMEZarr", "OMEZarrConvert", "OMEZarrServe",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    .executableTarget(name: "sample-array", dependencies: ["ZarrIO"], path: "Examples/SampleArray"),
    .executableTarget(name: "write-image", dependencies: ["OMEZarr", "ZarrIO"], path: "Examples/WriteImage"),
    .executableTarget(name: "read-region", dependencies: ["OMEZarr", "ZarrIO"], path: "Examples/ReadRegion"),
    .executableTarget(name: "make-sample-tiff", dependencies: ["OMEZarrConvert", "ZarrIO"], path: "Examples/MakeSampleTIFF"),
    .executableTarget(name: "zarr-bench", dependencies: ["ZarrIO", "OMEZarrConvert"], path: "Benchmarks/zarr-bench"),

    // Fuzzing (Fuzz/README.md, scripts/fuzz): libFuzzer targets, and a driver that runs them under
    // libFuzzer when scripts/fuzz builds it with -sanitize=fuzzer, or replays files otherwise.
    .systemLibrary(name: "CFuzzDriver", path: "Fuzz/CFuzzDriver"),
    .target(name: "FuzzTargets", dependencies: ["ZarrIO", "OMEZarr", "OMEZarrConvert"], path: "Fuzz/Targets"),
    .executableTarget(name: "ome2zarr-fuzz", dependencies: ["FuzzTargets", "CFuzzDriver"], path: "Fuzz/Driver"),

    .target(name: "TestSupport", dependencies: ["ZarrIO"], path: "Tests/TestSupport",
      exclude: ["credentials_server.py", "http_server.py", "s3_server.py", "slurm_cluster.sh"]),
    .testTarget(name: "ZarrIOTests", dependencies: ["ZarrIO", "CZarrZstd", "TestSupport"]),
    .testTarget(name: "InteropTests", dependencies: ["ZarrIO", "OMEZarr", "OMEZarrConvert", "TestSupport"], exclude: ["Python"]),
    .testTarget(name: "CLITests", dependencies: ["ZarrIO", "OMEZarr", "OMEZarrConvert", "TestSupport", "ome2zarr", "make-sample-tiff"],
      exclude: ["Python"]),
    .testTarget(name: "OMEZarrTests", dependencies: ["OMEZarr", "ZarrIO", "TestSupport"], exclude: ["Fixtures"]),
    .testTarget(name: "ConvertTests", dependencies: ["OMEZarrConvert", "OMEZarr", "ZarrIO", "TestSupport"]),
    .testTarget(name: "ServeTests", dependencies: ["OMEZarrServe", "ZarrIO", "TestSupport"]),
    .testTarget(name: "FuzzRegressionTests", dependencies: ["FuzzTargets", "TestSupport", "ome2zarr-fuzz"]),
  ]
)
