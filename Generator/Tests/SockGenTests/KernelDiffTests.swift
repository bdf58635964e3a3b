// `make kernel-diff`: what changed between two header trees, in the terms of
// the specs (constants, structure fields, options).
import Foundation
import Testing
@testable import SockGenCore

@Suite(.serialized) struct KernelDiffTests {
    let specs: Specs
    let old: ArchModel
    let new: ArchModel

    init() throws {
        var texts = SpecTexts()
        texts.headers = "[kd]\ndoc = the fake kernel\ninclude = kd/kd.h"
        texts.constants = """
            [kd]
            tu = kd
            doc = Fake kernel constants.
            from = kd/kd.h
            prefixes = KD_
            require = KD_ADDED
            """
        texts.structs = "kd_info  KDInfo  kd  Fake statistics."
        texts.options = """
            scope KD_LEVEL Socket
            carrier Socket Socket oldOption
            KD_LEVEL  KD_OPT_OLD  int  both  oldOption  1.0  An old option.
            KD_LEVEL  KD_OPT_NEW  int  both  newOption  7.0  A new option.
            """
        specs = try texts.load()
        // Like `sock-gen kernel-diff`: an older tree may lack required names.
        let parser = HeaderParser(resourceDirectory: nil, enforceRequired: false)
        old = try parser.model(for: Fixtures.target(include: [Fixtures.kdiffOld]), specs: specs)
        new = try parser.model(for: Fixtures.target(include: [Fixtures.kdiffNew]), specs: specs)
    }

    @Test func treesParse() throws {
        #expect(old.records["kd_info"]?.size == 8)
        #expect(new.records["kd_info"]?.size == 12)
        #expect(new.records["kd_info"]?.fields.last?.bitWidth == 1)
        #expect(old.constants["KD_ADDED"] == nil)
        // The old tree lacks a required name: only the diff parser tolerates that.
        let strict = failure { try HeaderParser(resourceDirectory: nil).model(for: Fixtures.target(include: [Fixtures.kdiffOld]), specs: specs) }
        #expect(strict?.contains("required constant KD_ADDED of group [kd] was not found") == true)
    }

    @Test func anonymousUnionMembersAreComparedByName() throws {
        // io_uring_sqe's shape: members added inside anonymous unions (some in
        // anonymous structures, at an offset) are reported by their names.
        let u64 = FieldType.integer(.unsignedLongLong, size: 8), u32 = FieldType.integer(.unsignedInt, size: 4)
        func record(_ members: [UnionMember]) -> Record {
            Record(cName: "kd_info", size: 16, alignment: 8,
                   fields: [Field(name: "a", type: u32, bitOffset: 0, size: 4, alignment: 4, bitWidth: nil),
                            Field(name: "", type: .union(size: 8, alignment: 8, members: members), bitOffset: 64,
                                  size: 8, alignment: 8, bitWidth: nil)],
                   flexibleMembers: [], header: "kd/kd.h")
        }
        var before = old, after = old
        before.records["kd_info"] = record([UnionMember(name: "off", type: u64, size: 8)])
        after.records["kd_info"] = record([UnionMember(name: "off", type: u64, size: 8),
                                           UnionMember(name: "cmd_op", type: u32, size: 4),
                                           UnionMember(name: "pad1", type: u32, size: 4, offset: 4)])
        let report = KernelDiff(from: before, to: after, fromLabel: "6.1", toLabel: "7.2", specs: specs).report()
        #expect(report.contains("  + cmd_op (byte 8, 4 bytes, in an anonymous union)\n"))
        #expect(report.contains("  + pad1 (byte 12, 4 bytes, in an anonymous union)\n"))
        #expect(!report.contains("off ("))
        #expect(!report.contains(" ~ "))
    }

    @Test func reportNamesEveryChange() throws {
        let report = KernelDiff(from: old, to: new, fromLabel: "6.1", toLabel: "7.2", specs: specs).report()
        #expect(report == """
            Kernel header diff for x86_64: 6.1 -> 7.2

            Constants added (2):
              + KD_ADDED = 64 (int, [kd])
              + KD_OPT_NEW = 9 (int, [kd])

            Constants removed (1):
              - KD_REMOVED = 3

            Constants changed (1):
              ~ KD_CHANGED: 10 (int) -> 11 (int)

            struct kd_info (KDInfo):
              size 8 -> 12 bytes, alignment 4 -> 4
              + c (byte 8, 2 bytes)
              + fresh (bit 80, 1 bits)

            Options of specs/options.spec:
              + KD_OPT_NEW (SocketOption.newOption) is defined only by the new headers

            """)
        #expect(!report.contains("KD_SAME"))
        #expect(!report.contains("KD_OPT_OLD"))
    }

    @Test func reverseReportNamesRemovals() throws {
        let report = KernelDiff(from: new, to: old, fromLabel: "new", toLabel: "old", specs: specs).report()
        #expect(report.contains("Constants removed (2):\n  - KD_ADDED = 64\n  - KD_OPT_NEW = 9\n"))
        #expect(report.contains("Constants added (1):\n  + KD_REMOVED = 3 (int, [kd])\n"))
        #expect(report.contains("  ~ KD_CHANGED: 11 (int) -> 10 (int)\n"))
        #expect(report.contains("struct kd_info (KDInfo):\n  size 12 -> 8 bytes, alignment 4 -> 4\n  - c (byte 8, 2 bytes)\n  - fresh (bit 80, 1 bits)\n"))
        #expect(report.contains("  - KD_OPT_NEW (SocketOption.newOption) is no longer defined\n"))
    }

    @Test func changedFieldIsReported() throws {
        var moved = new
        moved.records["kd_info"]!.fields[2].bitOffset = 80
        moved.records["kd_info"]!.fields[2].size = 4
        let report = KernelDiff(from: new, to: moved, fromLabel: "a", toLabel: "b", specs: specs).report()
        #expect(report.contains("struct kd_info (KDInfo):\n  ~ c (byte 8, 2 bytes) -> c (byte 10, 4 bytes)\n"))
    }

    @Test func sameTreeHasNoDifferences() throws {
        let report = KernelDiff(from: new, to: new, fromLabel: "a", toLabel: "b", specs: specs).report()
        #expect(report == "Kernel header diff for x86_64: a -> b\n\nno differences in the constants, structures and options of the specs\n")
    }

    @Test func snapshotAsTheOldSide() throws {
        // `--from Generator/Snapshot/model-x86_64.json`: the committed model against a new tree.
        let json = try emitter(specs, [old]).snapshot(old)
        let snapshot = try JSONDecoder().decode(ArchModel.self, from: Data(json.utf8))
        #expect(KernelDiff(from: snapshot, to: new, fromLabel: "6.1", toLabel: "7.2", specs: specs).report()
                == KernelDiff(from: old, to: new, fromLabel: "6.1", toLabel: "7.2", specs: specs).report())
    }
}
