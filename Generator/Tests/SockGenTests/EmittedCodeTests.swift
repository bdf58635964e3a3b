// The emitted Swift, compiled and run on the host: the structures hold the
// same bytes as the C compiler's for the same field values (bitfields, a
// packed member, unions, anonymous members, arrays).
import Foundation
import Testing
@testable import SockGenCore

@Suite(.serialized) struct EmittedCodeTests {
    /// Generator/Templates/Support.swift, the helpers the emitted code calls.
    static let supportTemplate = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Templates/Support.swift").path

    static let swiftMain = """
        func show<T: BitwiseCopyable>(_ name: String, _ value: T) {
            var value = value
            let bytes = withUnsafeBytes(of: &value) { Array($0) }
            print(name, MemoryLayout<T>.size, MemoryLayout<T>.alignment, bytes.map { String($0) }.joined(separator: ","))
        }
        var bits = Bits()
        bits.a = 1; bits.b = 2; bits.c = 1; bits.d = 7; bits.after = 0x01020304
        precondition(bits.a == 1 && bits.b == 2 && bits.c == 1 && bits.d == 3, "bitfields read back")
        show("bits", bits)
        var packed = Packed4()
        var eight = Al8()
        eight.value = 0x1122334455667788
        packed.x = 0x0a0b0c0d; packed.s = eight
        precondition(packed.s.value == 0x1122334455667788, "unaligned member reads back")
        show("packed4", packed)
        var anonymous = UAnon()
        anonymous.code = 5; anonymous.info = 0xaabbccdd; anonymous.tail = 9
        precondition(anonymous.raw[0] == 0xdd, "union members share bytes")
        show("u_anon", anonymous)
        var named = UNamed()
        named.kind = 1; named.u16[0] = 1; named.u16[7] = 0xffff
        precondition(named.u8[14] == 0xff && named.u32[0] == 1, "union members share bytes")
        show("u_named", named)
        var flattened = SAnon()
        flattened.first = 1; flattened.x = 2; flattened.y = 3; flattened.last = 4
        show("s_anon", flattened)
        var arrays = Arrays()
        arrays.name[0] = 65; arrays.name[1] = 66; arrays.grid[1][2] = 0x0102; arrays.count = 7
        show("arrays", arrays)
        precondition(FX_IOW == 0x40087801 && FX_NEG == -22 && FX_ALL_ONES_64 == .max, "constants")

        """

    static let cObjects = """
        #include <fix/layout.h>
        struct bits bits = { .a = 1, .b = 2, .c = 1, .d = 3, .after = 0x01020304 };
        struct packed4 packed4 = { .x = 0x0a0b0c0d, .s = { .value = 0x1122334455667788ULL } };
        struct u_anon u_anon = { .code = 5, .info = 0xaabbccdd, .tail = 9 };
        struct u_named u_named = { .kind = 1, .u.u16 = { [0] = 1, [7] = 0xffff } };
        struct s_anon s_anon = { .first = 1, .x = 2, .y = 3, .last = 4 };
        struct arrays arrays = { .name = { 65, 66 }, .grid = { [1] = { [2] = 0x0102 } }, .count = 7 };

        """

    @Test(.enabled(if: Self.hostIsX86_64)) func emittedStructuresHoldTheCBytes() throws {
        let specs = try Fixtures.loadSpecs()
        let model = try Fixtures.model()
        let template = try #require(readTextFile(Self.supportTemplate), "cannot read \(Self.supportTemplate)")
        var generator = emitter(specs, [model])
        generator.supportTemplate = template
        let directory = try TemporaryDirectory()
        var sources: [String] = []
        // ControlMessages.swift needs the msghdr and cmsghdr mirrors, which the fixture does not have.
        // Sources/Sock/Generated needs the hand-written runtime (SocketOption); only the bindings are compiled here.
        for file in try generator.files() where file.path.hasPrefix("Sources/SockBindings/") && !file.path.hasSuffix("ControlMessages.swift") {
            let path = directory.path + "/" + (file.path as NSString).lastPathComponent
            try writeTextFileIfChanged(path, file.contents)
            sources.append(path)
        }
        try writeTextFileIfChanged(directory.path + "/main.swift", Self.swiftMain)
        let executable = directory.path + "/emitted"
        let build = try run("/usr/bin/env", ["swiftc", "-Onone", "-module-name", "Emitted", "-o", executable]
                                             + sources + [directory.path + "/main.swift"])
        try #require(build.status == 0, "the emitted Swift does not compile:\n\(build.output)")
        let result = try run(executable, [])
        try #require(result.status == 0, "the emitted Swift failed at run time:\n\(result.output)")

        var checked = 0
        for line in result.output.split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard parts.count == 4, let record = model.records[String(parts[0])] else { continue }
            #expect(Int(parts[1]) == record.size, "\(line)")
            #expect(Int(parts[2]) == record.alignment, "\(line)")
            let swiftBytes = parts[3].split(separator: ",").compactMap { UInt8($0) }
            let cBytes = try Toolchain.objectBytes(Self.cObjects, symbol: String(parts[0]), triple: model.triple, bigEndian: false)
            #expect(swiftBytes == cBytes, "struct \(parts[0])")
            checked += 1
        }
        #expect(checked == 6, "\(result.output)")
    }

    static var hostIsX86_64: Bool {
        #if arch(x86_64)
        true
        #else
        false
        #endif
    }
}
