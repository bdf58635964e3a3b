// Structure layouts read from clang (offsets, bitfields, unions, anonymous
// members, arrays, packing) and how planLayout turns them into Swift.
import Testing
@testable import SockGenCore

@Suite(.serialized) struct LayoutTests {
    let specs: Specs
    let model: ArchModel

    init() throws {
        specs = try Fixtures.loadSpecs()
        model = try HeaderParser(resourceDirectory: nil).model(for: Fixtures.x86_64, specs: specs)
    }

    func record(_ name: String, in model: ArchModel? = nil) throws -> Record {
        try #require((model ?? self.model).records[name], "struct \(name) is not in the model")
    }

    func layout(_ name: String, in model: ArchModel? = nil) throws -> SwiftLayout {
        let model = model ?? self.model
        let spec = try #require(specs.structs.first { $0.cName == name })
        let namer = TypeNamer(swiftNames: Dictionary(uniqueKeysWithValues: specs.structs.map { ($0.cName, $0.swiftName) }))
        return try planLayout(record(name, in: model), swiftName: spec.swiftName, namer: namer, records: model.records)
    }

    func field(_ record: Record, _ name: String) throws -> Field {
        try #require(record.fields.first { $0.name == name }, "no field \(name) in \(record.cName)")
    }

    // MARK: - Bitfields

    @Test func bitfieldOffsetsAndWidths() throws {
        let bits = try record("bits")
        #expect(bits.size == 8)
        #expect(bits.alignment == 4)
        #expect(bits.header == "fix/layout.h")
        let described = bits.fields.map { "\($0.name)@\($0.bitOffset):\($0.bitWidth.map(String.init) ?? "-")" }
        #expect(described == ["a@0:4", "b@4:4", "c@8:1", "d@9:2", "after@32:-"])
        #expect(try field(bits, "a").type == .integer(.unsignedChar, size: 1))
        #expect(try field(bits, "c").type == .integer(.unsignedInt, size: 4))

        let plan = try layout("bits")
        #expect(plan.stored.map(\.name) == ["_bitfield0", "_padding2", "after"])
        #expect(plan.stored.map(\.swiftType) == ["InlineArray<2, UInt8>", "InlineArray<2, UInt8>", "UInt32"])
        #expect(plan.stored.map(\.offset) == [0, 2, 4])
        #expect(plan.computed == [
            .bitfield(name: "a", swiftType: "UInt8", signed: false, storage: "_bitfield0", storageBytes: 2,
                      bitOffset: 0, width: 4, absoluteBitOffset: 0),
            .bitfield(name: "b", swiftType: "UInt8", signed: false, storage: "_bitfield0", storageBytes: 2,
                      bitOffset: 4, width: 4, absoluteBitOffset: 4),
            .bitfield(name: "c", swiftType: "UInt32", signed: false, storage: "_bitfield0", storageBytes: 2,
                      bitOffset: 8, width: 1, absoluteBitOffset: 8),
            .bitfield(name: "d", swiftType: "UInt32", signed: false, storage: "_bitfield0", storageBytes: 2,
                      bitOffset: 9, width: 2, absoluteBitOffset: 9),
        ])
    }

    @Test func bitfieldsOnABigEndianTarget() throws {
        let be = try HeaderParser(resourceDirectory: nil).model(for: Fixtures.s390x, specs: specs)
        #expect(be.bigEndian)
        #expect(be.pointerSize == 8)
        // Allocation order is the same; what differs is which bits of a byte it means.
        #expect(try record("bits", in: be) == record("bits"))

        let le = emitter(specs, [model])
        let beEmitter = emitter(specs, [be])
        let leStructs = try le.file("Structs.swift")
        let beStructs = try beEmitter.file("Structs.swift")
        #expect(leStructs.contains("_sockgenLoadBits(_bitfield0, offset: 0, width: 4, bigEndian: false)"))
        #expect(beStructs.contains("_sockgenLoadBits(_bitfield0, offset: 0, width: 4, bigEndian: true)"))
        #expect(beStructs.contains("_sockgenStoreBits(&_bitfield0, UInt64(truncatingIfNeeded: newValue), offset: 9, width: 2, bigEndian: true)"))
        #expect(!beStructs.contains("bigEndian: false"))
    }

    /// The byte masks a generated layout test expects after setting `field` to all ones.
    func expectedMasks(_ test: String, field: String) throws -> [Int: UInt8] {
        let lines = test.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let set = try #require(lines.firstIndex { $0.hasPrefix("value.\(field) = ") }, "no test of \(field) in\n\(test)")
        let expectation = lines[set + 1]
        let inner = try #require(expectation.split(separator: "[").last?.split(separator: "]").first, "\(expectation)")
        var masks: [Int: UInt8] = [:]
        for entry in inner.split(separator: ",") {
            let parts = entry.split(separator: ":").map { $0.trimmingCharacters(in: .whitespaces) }
            let offset: Int = try #require(Int(parts[0]), "\(entry)")
            let mask: UInt8 = try #require(UInt8(parts[1].dropFirst(2), radix: 16), "\(entry)")
            masks[offset] = mask
        }
        return masks
    }

    @Test func layoutTestExpectedBytesFollowEndiannessAsCDoes() throws {
        let be = try HeaderParser(resourceDirectory: nil).model(for: Fixtures.s390x, specs: specs)
        let leTest = emitter(specs, [model]).layoutTest(try layout("bits"), bigEndian: false)
        let beTest = emitter(specs, [be]).layoutTest(try layout("bits", in: be), bigEndian: true)
        #expect(try expectedMasks(leTest, field: "a") == [0: 0x0f])
        #expect(try expectedMasks(beTest, field: "a") == [0: 0xf0])
        #expect(try expectedMasks(leTest, field: "b") == [0: 0xf0])
        #expect(try expectedMasks(beTest, field: "b") == [0: 0x0f])
        #expect(try expectedMasks(leTest, field: "c") == [1: 0x01])
        #expect(try expectedMasks(beTest, field: "c") == [1: 0x80])
        #expect(try expectedMasks(leTest, field: "d") == [1: 0x06])
        #expect(try expectedMasks(beTest, field: "d") == [1: 0x60])

        // {a = 1, b = 2}: a field's value sits in its mask, lowest bit at the mask's lowest bit.
        func byte0(_ test: String) throws -> UInt8 {
            let a = try #require(expectedMasks(test, field: "a")[0]), b = try #require(expectedMasks(test, field: "b")[0])
            return (1 << UInt8(a.trailingZeroBitCount)) | (2 << UInt8(b.trailingZeroBitCount))
        }
        #expect(try byte0(leTest) == 0x21)
        #expect(try byte0(beTest) == 0x12)

        // And that is what the C compiler lays out for each target.
        let source = "#include <fix/layout.h>\nstruct bits ab = { .a = 1, .b = 2 };\n"
            + ["a", "b", "c", "d"].map { "struct bits ones_\($0) = { .\($0) = -1 };\n" }.joined()
        for (triple, bigEndian, test) in [("x86_64-linux-gnu", false, leTest), ("s390x-linux-gnu", true, beTest),
                                          ("powerpc64-linux-gnu", true, beTest)] {
            let ab = try Toolchain.objectBytes(source, symbol: "ab", triple: triple, bigEndian: bigEndian)
            #expect(ab.first == (bigEndian ? 0x12 : 0x21), "\(triple)")
            for field in ["a", "b", "c", "d"] {
                let bytes = try Toolchain.objectBytes(source, symbol: "ones_\(field)", triple: triple, bigEndian: bigEndian)
                #expect(bytes.count == 8, "\(triple) \(field): \(bytes)")
                var nonZero: [Int: UInt8] = [:]
                for (offset, byte) in bytes.enumerated() where byte != 0 { nonZero[offset] = byte }
                #expect(nonZero == (try expectedMasks(test, field: field)), "\(triple) field \(field)")
            }
        }
    }

    @Test func bitfieldsAloneCannotGiveTheSwiftMirrorItsAlignment() throws {
        // Only byte storage: the Swift struct would be 1-aligned while C aligns it to 4.
        // The generator refuses with a clear message rather than emitting a wrong layout.
        var texts = SpecTexts()
        texts.structs = "bits_only  BitsOnly  fix  Bitfields only."
        let specs = try texts.load()
        let model = try HeaderParser(resourceDirectory: nil).model(for: Fixtures.x86_64, specs: specs)
        #expect(model.records["bits_only"]?.size == 4)
        #expect(model.records["bits_only"]?.alignment == 4)
        let message = try #require(failure { try emitter(specs, [model]).files() })
        #expect(message.contains("struct bits_only: C alignment is 4 but the Swift mirror would be aligned to 1"))
    }

    @Test func boolBitfield() throws {
        var texts = SpecTexts()
        texts.structs = "flags  Flags  fix  A _Bool bitfield."
        let specs = try texts.load()
        let model = try HeaderParser(resourceDirectory: nil).model(for: Fixtures.x86_64, specs: specs)
        let flags = try record("flags", in: model)
        #expect(flags.fields.map(\.type) == [.integer(.bool, size: 1), .integer(.unsignedChar, size: 1), .integer(.unsignedInt, size: 4)])
        #expect(flags.fields.map(\.bitWidth) == [1, 7, nil])
        let structs = try emitter(specs, [model]).file("Structs.swift")
        let tests = try emitter(specs, [model]).file("GeneratedLayoutTests.swift")
        // A _Bool bitfield reads as `!= 0` and is set from true/false.
        #expect(!structs.contains("Bool(truncatingIfNeeded:"))
        #expect(structs.contains("newValue ? 1 : 0"))
        #expect(tests.contains("value.on = true"))
        #expect(!tests.contains("value.on = 0x1"))
    }

    // MARK: - Unions and anonymous members

    @Test func namedUnionField() throws {
        let named = try record("u_named")
        #expect(named.size == 20)
        #expect(named.alignment == 4)
        let union = try field(named, "u")
        #expect(union.bitOffset == 32)
        #expect(union.size == 16)
        guard case .union(let size, let alignment, let members) = union.type else {
            Issue.record("u is \(union.type)")
            return
        }
        #expect(size == 16 && alignment == 4)
        #expect(members.map(\.name) == ["u8", "u16", "u32"])
        #expect(members.map(\.type) == [.array(.integer(.unsignedChar, size: 1), count: 16),
                                        .array(.integer(.unsignedShort, size: 2), count: 8),
                                        .array(.integer(.unsignedInt, size: 4), count: 4)])

        let plan = try layout("u_named")
        #expect(plan.stored.map(\.name) == ["kind", "u"])
        #expect(plan.stored[1].swiftType == "InlineArray<4, UInt32>")
        #expect(!plan.stored[1].isStorage)
        #expect(plan.computed == [
            .unionMember(name: "u8", swiftType: "InlineArray<16, UInt8>", storage: "u", storageType: "InlineArray<4, UInt32>"),
            .unionMember(name: "u16", swiftType: "InlineArray<8, UInt16>", storage: "u", storageType: "InlineArray<4, UInt32>"),
            .unionMember(name: "u32", swiftType: "InlineArray<4, UInt32>", storage: "u", storageType: "InlineArray<4, UInt32>"),
        ])
    }

    @Test func unnamedUnionMember() throws {
        let anonymous = try record("u_anon")
        #expect(anonymous.size == 12)
        #expect(anonymous.fields.map(\.name) == ["code", "", "tail"])
        #expect(anonymous.fields.map(\.bitOffset) == [0, 32, 64])
        guard case .union(4, 4, let members) = anonymous.fields[1].type else {
            Issue.record("the unnamed member is \(anonymous.fields[1].type)")
            return
        }
        #expect(members.map(\.name) == ["info", "raw"])

        let plan = try layout("u_anon")
        #expect(plan.stored.map(\.name) == ["code", "_anonymous4", "tail", "_padding9"])
        #expect(plan.stored.map(\.isStorage) == [false, true, false, true])
        #expect(plan.computed == [
            .unionMember(name: "info", swiftType: "UInt32", storage: "_anonymous4", storageType: "InlineArray<1, UInt32>"),
            .unionMember(name: "raw", swiftType: "InlineArray<4, UInt8>", storage: "_anonymous4", storageType: "InlineArray<1, UInt32>"),
        ])
    }

    // MARK: - Flexible arrays and union members at an offset

    @Test func trailingFlexibleArrayTakesNoSpace() throws {
        let flex = try record("flex_tail")
        #expect(flex.size == 16)
        #expect(flex.fields.map(\.name) == ["data", "res", "flags"])
        #expect(flex.flexibleMembers == ["extra"])
        let plan = try layout("flex_tail")
        #expect(plan.stored.map(\.name) == ["data", "res", "flags"])
        #expect(plan.flexibleMembers == ["extra"])
    }

    @Test func unionMembersInsideAnonymousStructuresKeepTheirOffsets() throws {
        let parts = try record("u_parts")
        #expect(parts.size == 24)
        #expect(parts.alignment == 8)
        #expect(parts.fields.map(\.name) == ["head", "", ""])
        #expect(parts.fields.map { $0.bitOffset / 8 } == [0, 8, 16])
        guard case .union(8, 8, let first) = parts.fields[1].type else {
            Issue.record("the first union is \(parts.fields[1].type)")
            return
        }
        #expect(first.map(\.name) == ["wide", "narrow", "low", "high", "cmd"])
        #expect(first.map(\.byteOffset) == [0, 0, 0, 4, 0])
        #expect(first.map(\.size) == [8, 2, 4, 4, 0])
        // The empty structure of __DECLARE_FLEX_ARRAY is dropped; the arrays
        // of size 0 are the structure's flexible members.
        #expect(parts.flexibleMembers == ["cmd", "items"])

        let plan = try layout("u_parts")
        #expect(plan.stored.map(\.name) == ["head", "_padding4", "_anonymous8", "_anonymous16"])
        #expect(plan.computed.contains(.unionMember(name: "wide", swiftType: "UInt64", storage: "_anonymous8",
                                                    storageType: "InlineArray<1, UInt64>")))
        #expect(plan.computed.contains(.unionPart(name: "narrow", swiftType: "UInt16", storage: "_anonymous8",
                                                  offset: 0, absoluteOffset: 8, size: 2, isInteger: true)))
        #expect(plan.computed.contains(.unionPart(name: "high", swiftType: "UInt32", storage: "_anonymous8",
                                                  offset: 4, absoluteOffset: 12, size: 4, isInteger: true)))
        #expect(plan.computed.contains(.unionPart(name: "tail", swiftType: "UInt16", storage: "_anonymous16",
                                                  offset: 2, absoluteOffset: 18, size: 2, isInteger: true)))
        #expect(!plan.computed.map(\.name).contains("cmd"))
        #expect(!plan.computed.map(\.name).contains("items"))
    }

    @Test func anonymousStructMembersAreFlattened() throws {
        let anonymous = try record("s_anon")
        #expect(anonymous.size == 16)
        #expect(anonymous.alignment == 4)
        #expect(anonymous.fields.map(\.name) == ["first", "x", "y", "last"])
        #expect(anonymous.fields.map { $0.bitOffset / 8 } == [0, 4, 8, 12])
        let plan = try layout("s_anon")
        #expect(plan.stored.map(\.name) == ["first", "_padding2", "x", "_padding6", "y", "last", "_padding13"])
        #expect(plan.computed.isEmpty)
    }

    @Test func nestedStructureWithoutATagIsRefused() throws {
        var texts = SpecTexts()
        texts.structs = "nested_anon  NestedAnon  fix  A nested untagged structure."
        let message = try #require(failure { try HeaderParser(resourceDirectory: nil).model(for: Fixtures.x86_64, specs: texts.load()) })
        #expect(message.contains("nested_anon.named_member: anonymous nested structures are not supported"))
    }

    // MARK: - Arrays, packing, pointers

    @Test func arrays() throws {
        let arrays = try record("arrays")
        #expect(arrays.size == 32)
        #expect(try field(arrays, "name").type == .array(.integer(.char, size: 1), count: 16))
        #expect(try field(arrays, "grid").type == .array(.array(.integer(.unsignedShort, size: 2), count: 3), count: 2))
        #expect(try field(arrays, "grid").bitOffset == 16 * 8)
        #expect(try field(arrays, "grid").size == 12)
        #expect(try field(arrays, "count").bitOffset == 28 * 8)
        let plan = try layout("arrays")
        #expect(plan.stored.map(\.swiftType) == ["InlineArray<16, CChar>", "InlineArray<2, InlineArray<3, UInt16>>", "UInt32"])
        #expect(plan.stored.map(\.zero) == [".init(repeating: 0)", ".init(repeating: .init(repeating: 0))", "0"])
    }

    @Test func packedStructureWithAnEightAlignedMemberAtFour() throws {
        let packed = try record("packed4")
        #expect(packed.size == 12)
        #expect(packed.alignment == 4)
        #expect(try field(packed, "s").bitOffset == 32)
        #expect(try field(packed, "s").alignment == 8)
        #expect(try field(packed, "s").type == .record("al8"))

        let plan = try layout("packed4")
        #expect(plan.alignment == 4)
        #expect(plan.size == 12)
        #expect(plan.stored == [
            StoredProperty(name: "x", swiftType: "UInt32", zero: "0", offset: 0, alignment: 4, isStorage: false),
            StoredProperty(name: "_sBytes", swiftType: "InlineArray<8, UInt8>", zero: ".init(repeating: 0)",
                           offset: 4, alignment: 1, isStorage: true),
        ])
        #expect(plan.computed == [.unaligned(name: "s", swiftType: "Al8", storage: "_sBytes", offset: 4)])

        let structs = try emitter(specs, [model]).file("Structs.swift")
        #expect(structs.contains("public var s: Al8 {\n        get { _sockgenLoadUnaligned(_sBytes, as: Al8.self) }"))
        #expect(structs.contains("Mirrors `struct packed4` from `fix/layout.h` byte for byte: 12 bytes, aligned to 4."))
    }

    @Test func pointers() throws {
        let pointers = try record("ptrs")
        #expect(pointers.fields.map(\.type) == [.pointer(.record("al8")), .pointer(nil)])
        let plan = try layout("ptrs")
        #expect(plan.stored.map(\.swiftType) == ["UnsafeMutablePointer<Al8>?", "UnsafeMutableRawPointer?"])
        #expect(plan.containsPointers)
        let structs = try emitter(specs, [model]).file("Structs.swift")
        #expect(structs.contains("public struct Ptrs: BitwiseCopyable {"))
        #expect(structs.contains("public struct Al8: BitwiseCopyable, Sendable {"))
    }

    @Test func nestedStructureMustBeInTheSpecs() throws {
        var texts = SpecTexts()
        texts.structs = "packed4  Packed4  fix  Needs al8, which is not listed."
        let specs = try texts.load()
        let model = try HeaderParser(resourceDirectory: nil).model(for: Fixtures.x86_64, specs: specs)
        let message = try #require(failure { try emitter(specs, [model]).files() })
        #expect(message.contains("struct packed4.s has type struct al8, which is not declared in specs/structs.spec"))
    }
}
