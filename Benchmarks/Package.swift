// swift-tools-version:6.1
// Sock's benchmarks: a package of their own, so that the library gains no
// dependency. It measures Sock against C making the same system calls
// (CSockRef) and against SwiftNIO, the library Swift users would pick instead.
//
//   make bench                                   one table (see Benchmarks/README.md)
//   swift run -c release sock-pingpong tcp 20000 1 spin [--impl sock|c|c-block|nio] [--pin]
//   swift package benchmark                      the package-benchmark suite, every metric
import PackageDescription

import class Foundation.ProcessInfo

// The library under test: the enclosing checkout, or another one named by
// SOCK_LIBRARY_PATH (to compare two versions of Sock with the same harness).
let libraryPath = ProcessInfo.processInfo.environment["SOCK_LIBRARY_PATH"].flatMap { $0.isEmpty ? nil : $0 } ?? ".."

let package = Package(
    name: "SockBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Sock", path: libraryPath),
        .package(url: "https://github.com/ordo-one/package-benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // Decodes the suite's raw histograms (already a dependency of package-benchmark).
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        // `make bench-conns`: FlyingSocks (FlyingFox's async socket layer, no NIO) as a peer.
        .package(url: "https://github.com/swhitty/FlyingFox", from: "0.27.1"),
    ],
    targets: [
        // The reference point: C making exactly the system calls Sock makes.
        .target(name: "CSockRef"),
        // The three implementations of every benchmark (Sock, C, NIO) and the
        // fixtures shared by sock-pingpong and the package-benchmark suite.
        .target(
            name: "SockBenchKit",
            dependencies: [
                "CSockRef",
                .product(name: "Sock", package: "Sock"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(name: "sock-pingpong", dependencies: ["SockBenchKit"]),
        // `make bench`: runs sock-pingpong and the suite, prints one table.
        .executableTarget(
            name: "sock-bench-report",
            dependencies: [.product(name: "Histogram", package: "hdrhistogram-swift")]
        ),
        // `make bench-conns` (Conns/bench-conns.py): the Swift peers of the
        // many-connection echo benchmark, one thread each.
        .executableTarget(
            name: "conns-nio",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "conns-flyingsocks",
            dependencies: [.product(name: "FlyingSocks", package: "FlyingFox")]
        ),
        // The package-benchmark suite (wall clock, CPU, mallocs, syscalls).
        .executableTarget(
            name: "SockBenchmarks",
            dependencies: [
                "SockBenchKit",
                "CSockRef",
                .product(name: "Sock", package: "Sock"),
                .product(name: "Benchmark", package: "package-benchmark"),
            ],
            path: "Benchmarks/SockBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
    ]
)
