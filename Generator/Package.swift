// swift-tools-version:6.1
// sock-gen: generates Sources/SockBindings from the kernel and libc headers.
// Needs libclang (Debian: libclang-19-dev); the Makefile passes its include and
// library directories (-Xcc -I<llvm>/include -Xlinker -L<llvm>/lib).
import PackageDescription

let package = Package(
    name: "SockGen",
    products: [
        .executable(name: "sock-gen", targets: ["sock-gen"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(name: "CClang", path: "Sources/CClang"),
        .target(name: "SockGenCore", dependencies: ["CClang"]),
        .executableTarget(
            name: "sock-gen",
            dependencies: [
                "SockGenCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "SockGenTests", dependencies: ["SockGenCore"]),
    ]
)
