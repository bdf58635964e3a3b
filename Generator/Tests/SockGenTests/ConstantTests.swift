// Macro and enumerator evaluation: values and C types come from libclang's
// evaluator, on the final preprocessor state of each unit.
import Testing
@testable import SockGenCore

@Suite(.serialized) struct ConstantTests {
    let model: ArchModel

    init() throws {
        model = try Fixtures.model()
    }

    func constant(_ name: String) throws -> Constant {
        try #require(model.constants[name], "\(name) is not in the model; constants: \(model.constants.keys.sorted())")
    }

    @Test func castKeepsTheCastType() throws {
        let value = try constant("FX_CAST")
        #expect(value.value == 7)
        #expect(value.type == .unsignedShort)
        #expect(value.unsigned)
        #expect(value.group == "fx")
        #expect(value.header == "fix/consts.h")
        #expect(value.literal == "7")
    }

    @Test func negativeValues() throws {
        let int = try constant("FX_NEG")
        #expect(int.value == -22)
        #expect(int.type == .int)
        #expect(!int.unsigned)
        #expect(int.literal == "-22")
        let long = try constant("FX_NEG_LONG")
        #expect(long.value == -1)
        #expect(long.type == .long)
        #expect(long.literal == "-1")
    }

    @Test func unsignedAllOnes() throws {
        let value32 = try constant("FX_ALL_ONES")
        #expect(value32.type == .unsignedInt)
        #expect(value32.unsigned)
        #expect(value32.value == 0xffff_ffff)
        #expect(value32.literal == "4294967295")
        let value64 = try constant("FX_ALL_ONES_64")
        #expect(value64.type == .unsignedLongLong)
        #expect(value64.value == -1)   // the bit pattern
        #expect(value64.literal == "18446744073709551615")
    }

    @Test func sizeofInAMacro() throws {
        let value = try constant("FX_SIZEOF")
        #expect(value.value == 8)
        #expect(value.type == .unsignedLong)   // size_t on x86_64
    }

    @Test func ioctlNumbers() throws {
        // dir << 30 | size << 16 | type << 8 | nr, type 'x' = 0x78, size 8.
        let write = try constant("FX_IOW")
        #expect(write.value == 0x4008_7801)
        #expect(write.type == .unsignedLong)
        #expect(write.unsigned)
        let read = try constant("FX_IOR")
        #expect(read.value == 0x8008_7802)
        #expect(read.literal == "2148038658")
        #expect(read.type == .unsignedLong)
        let none = try constant("FX_IO")
        #expect(none.value == 0x7803)
        #expect(none.type == .unsignedInt)
    }

    @Test func redefinedMacroTakesTheLastValue() throws {
        #expect(try constant("FX_REDEF").value == 2)
        // Defined and then #undef'd: not a constant of the final state.
        #expect(model.constants["FX_GONE"] == nil)
        #expect(!model.skipped.contains("FX_GONE"))
    }

    @Test func nonIntegerMacrosAreSkippedNotFailures() throws {
        #expect(model.skipped == ["FX_EMPTY", "FX_FLOAT", "FX_STRING", "FX_TYPE"])
        for name in model.skipped { #expect(model.constants[name] == nil) }
        // Function-like macros are not candidates at all.
        #expect(model.constants["FX_PLUS_ONE"] == nil)
        #expect(!model.skipped.contains("FX_PLUS_ONE"))
        // Helper macros of ioctl.h are not in any group's `from`.
        #expect(model.constants["_IOC_DIRSHIFT"] == nil)
    }

    @Test func onlyTheSelectedNames() throws {
        #expect(Set(model.constants.keys) == [
            "FX_CAST", "FX_NEG", "FX_NEG_LONG", "FX_ALL_ONES", "FX_ALL_ONES_64", "FX_SIZEOF",
            "FX_IO", "FX_IOW", "FX_IOR", "FX_REDEF", "FX_LEVEL", "FX_OPTION",
            "COLOR_RED", "COLOR_GREEN", "COLOR_BLUE", "COLOR_MINUS",
            "TCPS_ESTABLISHED", "TCPS_SYN_SENT", "TCPS_CLOSE",
        ])
    }

    @Test func plainEnumerators() throws {
        let values = try ["COLOR_RED", "COLOR_GREEN", "COLOR_BLUE", "COLOR_MINUS"].map { try constant($0).value }
        #expect(values == [0, 5, 6, -3])
        for name in ["COLOR_RED", "COLOR_GREEN", "COLOR_BLUE", "COLOR_MINUS"] {
            let value = try constant(name)
            #expect(value.type == .int)
            #expect(value.group == "colors")
            #expect(value.header == "fix/enums.h")
        }
    }

    @Test func enumeratorsDefinedAsThemselves() throws {
        // `#define TCPS_SYN_SENT TCPS_SYN_SENT`: the macro evaluates to the enumerator.
        let values = try ["TCPS_ESTABLISHED", "TCPS_SYN_SENT", "TCPS_CLOSE"].map { try constant($0) }
        #expect(values.map(\.value) == [1, 2, 7])
        #expect(values.allSatisfy { $0.type == .int && $0.group == "tcp-states" && $0.header == "fix/enums.h" })
    }

    @Test func excludeRemovesNames() throws {
        var texts = SpecTexts()
        texts.constants += "\nexclude = FX_NEG FX_REDEF\n"
        let model = try HeaderParser(resourceDirectory: nil).model(for: Fixtures.x86_64, specs: texts.load())
        #expect(model.constants["FX_NEG"] == nil)
        #expect(model.constants["FX_REDEF"] == nil)
        #expect(model.constants["FX_CAST"]?.value == 7)
    }

    @Test func targetProperties() throws {
        #expect(model.arch == "x86_64")
        #expect(model.triple == "x86_64-linux-gnu")
        #expect(!model.bigEndian)
        #expect(model.pointerSize == 8)
        let arm = try Fixtures.model(Fixtures.target(arch: "arm", triple: "armv7a-linux-gnueabihf"))
        #expect(arm.pointerSize == 4)
        #expect(arm.constants["FX_SIZEOF"]?.type == .unsignedInt)   // size_t on a 32-bit target
        #expect(arm.constants["FX_IOW"]?.value == 0x4008_7801)
    }
}
