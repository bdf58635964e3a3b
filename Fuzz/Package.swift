// swift-tools-version:5.4
// (5.4, not newer: from 5.5 on SwiftPM renames an executable's entry point
// and links with --defsym main=<module>_main, which fails for targets that
// have no main of their own — libFuzzer provides it.)
//
// libFuzzer targets for Sock: a package of its own, so that the library's
// normal build and test build gain nothing. Built and run by `make fuzz`
// (scripts/fuzz.sh) with `-sanitize=fuzzer,address`, which instruments Sock
// too and links libFuzzer's main; each target defines only
// LLVMFuzzerTestOneInput (hence -parse-as-library).
//
//   fuzz-address-text      IPv4Address/IPv6Address/SockaddrInet4/SockaddrInet6/
//                          AnySocketAddress/SockaddrUnix from text; round trips
//   fuzz-sockaddr-decode   sockaddr decoding from arbitrary bytes and lengths;
//                          encode/decode round trips
//   fuzz-control-messages  control-message parsing (ControlMessages, rights,
//                          credentials, the Go-style helpers)
//   fuzz-tcp-info          TCPInfoSnapshot from truncated (and over-long) buffers
//   fuzz-uring-cqe         the io_uring engine's completion handling: synthetic
//                          completions (bogus kinds, descriptors, buffer ids,
//                          results, flags) through a dry engine; its
//                          bookkeeping checked after each (SPI: Fuzzing)
import PackageDescription

let fuzzTargets = ["fuzz-address-text", "fuzz-sockaddr-decode", "fuzz-control-messages", "fuzz-tcp-info",
                   "fuzz-uring-cqe"]

let package = Package(
    name: "SockFuzz",
    dependencies: [
        .package(name: "Sock", path: ".."),
    ],
    targets: fuzzTargets.map { name in
        .executableTarget(
            name: name,
            dependencies: [.product(name: "Sock", package: "Sock")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        )
    }
)
