// Shared helpers of the generator tests: the fixture tree, the toolchain, and
// specs written from strings. Nothing here reads the host's /usr/include or the
// downloaded .headers: every parse uses -nostdinc and the fixture directories
// (plus clang's resource directory for the C probe's <stddef.h>).
//
// Fixtures/ is a tiny fake include tree:
// - include/fix/: macros (consts.h, with the ioctl encoding of ioctl.h),
//   enumerators (enums.h) and structure layouts (layout.h);
// - include/netinet/tcp.h and include/linux/tcp.h: both define struct tcp_info,
//   like glibc's and the kernel's headers;
// - kdiff/old and kdiff/new: two "kernel" trees for the kernel-diff tests.
// It holds only headers (.h), which SwiftPM ignores in a Swift target, so the
// package needs no resource or exclude declaration; the specs are strings here.
import Foundation
import Testing
@testable import SockGenCore

enum Fixtures {
    /// `Tests/SockGenTests/Fixtures`, found from this file's path.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
    static let include = root + "/include"
    static let kdiffOld = root + "/kdiff/old"
    static let kdiffNew = root + "/kdiff/new"

    static func target(arch: String = "x86_64", triple: String = "x86_64-linux-gnu",
                       include: [String] = [Fixtures.include]) -> TargetInputs {
        TargetInputs(arch: arch, triple: triple, includeDirectories: include)
    }

    static let x86_64 = target()
    /// A big-endian 64-bit target (clang knows every target; nothing runs).
    static let s390x = target(arch: "s390x", triple: "s390x-linux-gnu")

    /// The fixture specs (`SpecTexts.fixture`), reported as `specs/FILE:LINE`.
    static func loadSpecs() throws(GeneratorError) -> Specs {
        try SpecTexts.fixture.load()
    }

    /// The model of the fixture specs for `target`, parsed without clang's resource directory.
    static func model(_ target: TargetInputs = x86_64) throws(GeneratorError) -> ArchModel {
        try HeaderParser(resourceDirectory: nil).model(for: target, specs: loadSpecs())
    }
}

/// The newest installed LLVM's clang (`/usr/lib/llvm-N/bin/clang`) and its resource directory.
enum Toolchain {
    static let clang: String? = {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib")) ?? []
        let versions = entries.compactMap { name -> Int? in
            guard name.hasPrefix("llvm-") else { return nil }
            return Int(name.dropFirst("llvm-".count))
        }
        for version in versions.sorted(by: >) {
            let path = "/usr/lib/llvm-\(version)/bin/clang"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }()

    static let resourceDirectory: String? = {
        guard let clang, let result = try? run(clang, ["-print-resource-dir"]), result.status == 0 else { return nil }
        let path = result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        return path.isEmpty ? nil : path
    }()

    /// Compiles `source` for `triple` to assembly and returns the bytes of the
    /// data object `symbol`, as the C compiler lays them out.
    static func objectBytes(_ source: String, symbol: String, triple: String,
                            bigEndian: Bool) throws -> [UInt8] {
        let clang = try #require(clang, "no clang under /usr/lib/llvm-*/bin")
        let directory = try TemporaryDirectory()
        let path = directory.path + "/object.c"
        try writeTextFileIfChanged(path, source)
        let result = try run(clang, ["-target", triple, "-nostdinc", "-isystem", Fixtures.include,
                                     "-S", "-o", "-", "-x", "c", path])
        #expect(result.status == 0, "clang failed: \(result.output)")
        return try assemblyData(result.output, symbol: symbol, bigEndian: bigEndian)
    }

    /// The data directives after `symbol:` (`.byte`, `.short`, `.long`, `.quad`, `.zero`, `.space`).
    static func assemblyData(_ assembly: String, symbol: String, bigEndian: Bool) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var inside = false
        for line in assembly.split(separator: "\n") {
            let text = line[..<(line.firstIndex(of: "#") ?? line.endIndex)].trimmingCharacters(in: .whitespaces)
            if text == symbol + ":" { inside = true; continue }
            guard inside else { continue }
            let parts = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," }).map(String.init)
            guard let directive = parts.first else { continue }
            let width: Int
            switch directive {
            case ".byte": width = 1
            case ".short", ".hword", ".2byte": width = 2
            case ".long", ".word", ".4byte": width = 4
            case ".quad", ".8byte": width = 8
            case ".zero", ".space":
                bytes += Array(repeating: 0, count: try #require(Int(parts[1])))
                continue
            default:
                return bytes   // .size, the next symbol: the object ends
            }
            let value = try #require(UInt64(parts[1]), "unexpected \(text)")
            var little = (0..<width).map { UInt8(truncatingIfNeeded: value >> UInt64(8 * $0)) }
            if bigEndian { little.reverse() }
            bytes += little
        }
        return bytes
    }
}

/// A fresh directory under the system's temporary directory.
final class TemporaryDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.path + "/sockgen-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Specs written from strings into a temporary directory and read with
/// `Specs.load`, so errors name `specs/FILE:LINE` as in a real run.
struct SpecTexts {
    var headers = """
        [fix]
        doc = the fixture headers
        include = fix/consts.h fix/enums.h fix/layout.h
        """
    var constants = """
        [fx]
        tu = fix
        doc = Macro cases.
        from = fix/consts.h
        prefixes = FX_
        """
    var structs = """
        al8     Al8     fix   An 8-aligned structure.
        """
    var options = """
        scope FX_LEVEL Socket
        FX_LEVEL  FX_OPTION  int  both  fixOption  1.0  A fixture option.
        carrier Socket Socket fixOption
        """

    /// types.spec; not written when empty (the file is optional).
    var types = ""

    /// The specs of most tests: every macro, enumerator and structure of `include/fix`.
    static let fixture = SpecTexts(
        headers: """
        # The fixture's only translation unit.

        [fix]
        doc = the fixture headers
        include = fix/consts.h fix/enums.h fix/layout.h
        """,
        constants: """
        # Constant groups of the fixture.

        [fx]
        tu = fix
        doc = Macro cases.
        from = fix/consts.h
        prefixes = FX_
        require = FX_CAST FX_IOW

        [colors]
        tu = fix
        doc = A plain enumeration.
        from = fix/enums.h
        prefixes = COLOR_

        [tcp-states]
        tu = fix
        doc = Enumerators also defined as macros of themselves.
        from = fix/enums.h
        names = TCPS_ESTABLISHED
                TCPS_SYN_SENT TCPS_CLOSE
        """,
        structs: """
        # C struct   Swift name   unit   doc
        bits         Bits         fix    Bitfields.
        u_named      UNamed       fix    A named union field.
        u_anon       UAnon        fix    An unnamed union member.
        u_parts      UParts       fix    Union members inside anonymous structures, narrower scalars, flexible arrays.
        flex_tail    FlexTail     fix    A trailing flexible array member.
        s_anon       SAnon        fix    An anonymous structure member.
        arrays       Arrays       fix    One- and two-dimensional arrays.
        al8          Al8          fix    An 8-aligned structure.
        packed4      Packed4      fix    A packed structure aligned to 4.
        ptrs         Ptrs         fix    Pointers.
        fx_arg       FxArg        fix    The ioctl argument.
        """,
        options: """
        # The fixture's level stands for the TCP level.
        scope FX_LEVEL TCP
        # scope  carrier          example
        carrier  TCP  TCPConfigurable  fixOption
        # level    option      type          access  swift name   kernel  doc
        FX_LEVEL   FX_OPTION   seconds       both    fixOption    1.0     A fixture option.
        FX_LEVEL   FX_CAST     struct:al8    get     fixStruct    2.6     A structure-valued option.
        """)

    func load() throws(GeneratorError) -> Specs {
        let directory: TemporaryDirectory
        do { directory = try TemporaryDirectory() } catch { throw GeneratorError("temporary directory: \(error)") }
        try writeTextFileIfChanged(directory.path + "/headers.spec", headers + "\n")
        try writeTextFileIfChanged(directory.path + "/constants.spec", constants + "\n")
        try writeTextFileIfChanged(directory.path + "/structs.spec", structs + "\n")
        try writeTextFileIfChanged(directory.path + "/options.spec", options + "\n")
        if !types.isEmpty { try writeTextFileIfChanged(directory.path + "/types.spec", types + "\n") }
        return try Specs.load(directory: directory.path, displayPrefix: "specs")
    }
}

/// The 1-based line of `text` that contains `needle` (the line a spec error must name).
func lineNumber(of needle: String, in text: String) -> Int {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    return (lines.firstIndex { $0.contains(needle) } ?? -1) + 1
}

/// The message of the `GeneratorError` that `body` throws, or nil when it succeeds.
/// Any other error is recorded as an issue.
func failure<T>(_ body: () throws -> T, sourceLocation: SourceLocation = #_sourceLocation) -> String? {
    do {
        _ = try body()
        return nil
    } catch let error as GeneratorError {
        return error.description
    } catch {
        Issue.record("expected a GeneratorError, got \(error)", sourceLocation: sourceLocation)
        return "\(error)"
    }
}

/// An emitter over `models` with fixed, machine-independent inputs.
func emitter(_ specs: Specs, _ models: [ArchModel]) -> Emitter {
    Emitter(specs: specs, merged: MergedModel(models: models),
            inputs: InputsDescription(kernel: "fixture kernel", libc: models.map { ($0.arch, "fixture libc (\($0.triple))") },
                                      sctp: "fixture sctp"),
            supportTemplate: "// support template\n")
}

extension ArchModel {
    /// A copy with another architecture name (for merge tests).
    func renamed(_ arch: String, triple: String) -> ArchModel {
        var copy = self
        copy.arch = arch
        copy.triple = triple
        return copy
    }
}

extension Emitter {
    /// One emitted file's contents by its last path component.
    func file(_ name: String) throws -> String {
        let files = try files()
        return try #require(files.first { $0.path.hasSuffix("/" + name) }?.contents, "no \(name) emitted")
    }
}
