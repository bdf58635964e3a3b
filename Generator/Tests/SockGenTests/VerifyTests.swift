// The C cross-check: a probe of _Static_asserts compiled by clang against the
// same headers must pass for the model libclang built, and fail, naming the
// value, when the model is wrong.
import Testing
@testable import SockGenCore

@Suite(.serialized) struct VerifyTests {
    let specs: Specs

    init() throws {
        specs = try Fixtures.loadSpecs()
    }

    func verifier(_ directory: TemporaryDirectory) throws -> Verifier {
        let clang: String = try #require(Toolchain.clang, "no clang under /usr/lib/llvm-*/bin")
        let resourceDirectory: String = try #require(Toolchain.resourceDirectory, "clang -print-resource-dir failed")
        return Verifier(clang: clang, resourceDirectory: resourceDirectory, workDirectory: directory.path)
    }

    @Test func untamperedModelsPassOnEveryTarget() throws {
        let directory = try TemporaryDirectory()
        let targets = [Fixtures.x86_64, Fixtures.s390x, Fixtures.target(arch: "arm", triple: "armv7a-linux-gnueabihf")]
        let models = try targets.map { target throws(GeneratorError) in
            (target, try HeaderParser(resourceDirectory: Toolchain.resourceDirectory).model(for: target, specs: specs))
        }
        let expected = models.map { Verifier(clang: "", resourceDirectory: nil, workDirectory: "")
            .probe(unit: specs.units[0], model: $0.1, specs: specs).checks }.reduce(0, +)
        let checks = try verifier(directory).verify(models: models, specs: specs)
        #expect(checks == expected)
        // 19 constants (value and type) and 9 structures (size, alignment, members).
        #expect(checks > 3 * (19 * 2 + 9 * 2))
    }

    @Test func probeChecksEveryKindOfMember() throws {
        let model = try Fixtures.model()
        let (source, checks) = Verifier(clang: "", resourceDirectory: nil, workDirectory: "")
            .probe(unit: specs.units[0], model: model, specs: specs)
        #expect(source.hasPrefix("// sock-gen C probe: x86_64 (x86_64-linux-gnu), unit [fix]\n#include <fix/consts.h>\n#include <fix/enums.h>\n#include <fix/layout.h>\n#include <stddef.h>\n"))
        for line in [
            "_Static_assert((FX_IOR) == 2148038658ULL, \"value of FX_IOR\");",
            "_Static_assert(__builtin_types_compatible_p(__typeof__(FX_CAST), unsigned short), \"type of FX_CAST is unsigned short\");",
            "_Static_assert((FX_NEG) == (-22LL), \"value of FX_NEG\");",
            "_Static_assert((FX_ALL_ONES_64) == 18446744073709551615ULL, \"value of FX_ALL_ONES_64\");",
            "_Static_assert(sizeof(struct bits) == 8, \"sizeof(struct bits)\");",
            "_Static_assert(_Alignof(struct packed4) == 4, \"_Alignof(struct packed4)\");",
            "_Static_assert(offsetof(struct packed4, s) == 4, \"offsetof(struct packed4, s)\");",
            "_Static_assert(offsetof(struct u_anon, info) == 4, \"offsetof(struct u_anon, info)\");",
            "_Static_assert(offsetof(struct u_anon, raw) == 4, \"offsetof(struct u_anon, raw)\");",
            "_Static_assert(offsetof(struct s_anon, y) == 8, \"offsetof(struct s_anon, y)\");",
            "_Static_assert(sizeof(((struct arrays *)0)->grid) == 12, \"sizeof struct arrays.grid\");",
            "_Static_assert(sizeof(((struct u_named *)0)->u) == 16, \"sizeof struct u_named.u\");",
        ] {
            #expect(source.contains(line + "\n"), "missing: \(line)")
        }
        // Bitfields have no offsetof; their positions are tested by the layout tests.
        #expect(!source.contains("offsetof(struct bits, a)"))
        #expect(checks == source.components(separatedBy: "_Static_assert(").count - 1)
    }

    struct Tampering: CustomTestStringConvertible, Sendable {
        var what: String
        var expected: String
        /// How many assertions fail.
        var count = 1
        var change: @Sendable (inout ArchModel) -> Void
        var testDescription: String { what }
    }

    static let tamperings: [Tampering] = [
        Tampering(what: "a constant's value", expected: "value of FX_CAST") { $0.constants["FX_CAST"]!.value = 8 },
        Tampering(what: "a negative constant", expected: "value of COLOR_MINUS") { $0.constants["COLOR_MINUS"]!.value = 3 },
        Tampering(what: "an unsigned bit pattern", expected: "value of FX_ALL_ONES") { $0.constants["FX_ALL_ONES"]!.value = -1 },
        Tampering(what: "a constant's type", expected: "type of FX_NEG is long") { $0.constants["FX_NEG"]!.type = .long },
        Tampering(what: "a struct size", expected: "sizeof(struct bits)") { $0.records["bits"]!.size = 12 },
        Tampering(what: "a struct alignment", expected: "_Alignof(struct packed4)") { $0.records["packed4"]!.alignment = 8 },
        Tampering(what: "a field offset", expected: "offsetof(struct arrays, count)") {
            $0.records["arrays"]!.fields[2].bitOffset = 24 * 8
        },
        Tampering(what: "an unnamed union's offset", expected: "offsetof(struct u_anon, info)", count: 2) {
            $0.records["u_anon"]!.fields[1].bitOffset = 0
        },
        Tampering(what: "a field size", expected: "sizeof struct arrays.name") { $0.records["arrays"]!.fields[0].size = 15 },
    ]

    @Test(arguments: tamperings) func tamperedModelFails(_ tampering: Tampering) throws {
        let directory = try TemporaryDirectory()
        var model = try Fixtures.model()
        tampering.change(&model)
        let message = try #require(failure { try verifier(directory).verify(models: [(Fixtures.x86_64, model)], specs: specs) })
        #expect(message.hasPrefix("the C compiler disagrees with the libclang model; nothing was written:\n"), "\(message)")
        let errors = message.split(separator: "\n").dropFirst()
        #expect(errors.count == tampering.count, "\(message)")
        #expect(errors.allSatisfy { $0.hasPrefix("x86_64 [fix]: ") && $0.contains("error: static assertion failed") }, "\(message)")
        #expect(errors.first?.contains(tampering.expected) == true, "\(message)")
    }

    @Test func tamperedBigEndianModelFails() throws {
        let directory = try TemporaryDirectory()
        var model = try Fixtures.model(Fixtures.s390x)
        model.constants["FX_SIZEOF"]!.value = 16
        let message = try #require(failure { try verifier(directory).verify(models: [(Fixtures.s390x, model)], specs: specs) })
        #expect(message.contains("s390x [fix]: "), "\(message)")
        #expect(message.contains("value of FX_SIZEOF"), "\(message)")
    }

    @Test func modelOfAnotherTargetFails() throws {
        // A 64-bit model checked against a 32-bit target: the pointer structure differs.
        let directory = try TemporaryDirectory()
        let model = try Fixtures.model()
        let arm = Fixtures.target(arch: "x86_64", triple: "armv7a-linux-gnueabihf")
        let message = try #require(failure { try verifier(directory).verify(models: [(arm, model)], specs: specs) })
        #expect(message.contains("sizeof(struct ptrs)"), "\(message)")
        #expect(message.contains("type of FX_SIZEOF is unsigned long"), "\(message)")
    }
}
