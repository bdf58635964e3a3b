// swift-tools-version:6.1
// Bridges between Sock and the libraries Swift engineers already use:
//
//   SockNIO     hand a socket configured with Sock to SwiftNIO (server or
//               client channel); SocketAddress conversions
//   SockSystem  swift-system's FileDescriptor and Errno ⇄ Sock's Descriptor
//               and SockError
//
// A package of its own, depending on the library by path, so that
// `import Sock` never pulls SwiftNIO or swift-system in and the library's
// test build stays free of them. `make test-bridges` builds and tests it
// (in Bridges/.build).
import PackageDescription

let package = Package(
    name: "SockBridges",
    products: [
        .library(name: "SockNIO", targets: ["SockNIO"]),
        .library(name: "SockSystem", targets: ["SockSystem"]),
    ],
    dependencies: [
        .package(name: "Sock", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
    ],
    targets: [
        .target(
            name: "SockNIO",
            dependencies: [
                .product(name: "Sock", package: "Sock"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]),
        .target(
            name: "SockSystem",
            dependencies: [
                .product(name: "Sock", package: "Sock"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]),
        .testTarget(
            name: "SockNIOTests",
            dependencies: [
                "SockNIO",
                .product(name: "Sock", package: "Sock"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]),
        .testTarget(
            name: "SockSystemTests",
            dependencies: [
                "SockSystem",
                .product(name: "Sock", package: "Sock"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]),
    ]
)
