// swift-tools-version:6.1
// Compile tests of Sock's public surface, built in release by `make test`
// (`make test-compile`): code a user writes must build with -c release.
// - GlibcCoexistence: `import Foundation`, `import Glibc` and `import Sock`
//   in one file, with Glibc's C names unqualified next to Sock's API; it
//   fails to build if Sock re-exported its C-named constants again.
import PackageDescription

let package = Package(
    name: "SockCompileTests",
    dependencies: [.package(name: "Sock", path: "../..")],
    targets: [
        .executableTarget(name: "GlibcCoexistence", dependencies: [.product(name: "Sock", package: "Sock")]),
    ]
)
