// Every mistake stops the generator with a message that names the place to
// fix: the unit, the header and line, or `specs/FILE:LINE`.
import Foundation
import Testing
@testable import SockGenCore

@Suite(.serialized) struct ErrorTests {
    let parser = HeaderParser(resourceDirectory: nil)

    // MARK: - Units that do not compile

    static let bothTCPHeaders = """
        [both]
        doc = the C library's and the kernel's TCP headers together
        include = netinet/tcp.h linux/tcp.h
        """

    @Test func twoHeadersDefiningTheSameStructInOneUnit() throws {
        var texts = SpecTexts()
        texts.headers = Self.bothTCPHeaders
        texts.constants = ""
        texts.structs = "tcp_info  TCPInfo  both  TCP statistics."
        texts.options = ""
        let specs = try texts.load()
        let message = try #require(failure { try parser.model(for: Fixtures.x86_64, specs: specs) })
        let header = try #require(readTextFile(Fixtures.include + "/linux/tcp.h"))
        let line = lineNumber(of: "struct tcp_info {", in: header)
        #expect(line == 7)
        #expect(message.hasPrefix("specs/headers.spec:1: unit [both] does not compile for x86_64: "), "\(message)")
        #expect(message.contains("linux/tcp.h:\(line): error: redefinition of 'tcp_info'"), "\(message)")
    }

    @Test func theSameHeadersInSeparateUnits() throws {
        var texts = SpecTexts()
        texts.headers = """
            [libc]
            doc = the C library's TCP header
            include = netinet/tcp.h

            [uapi]
            doc = the kernel's TCP header
            include = linux/tcp.h
            """
        texts.constants = """
            [levels]
            tu = libc
            doc = Levels.
            from = netinet/tcp.h
            names = SOL_TCP

            [tcp-options]
            tu = uapi
            doc = TCP options.
            from = linux/tcp.h
            names = TCP_INFO
            """
        texts.structs = "tcp_info  TCPInfo  uapi  TCP statistics."
        texts.options = "carrier TCP TCPConfigurable info\nSOL_TCP  TCP_INFO  struct:tcp_info  get  info  2.4  Statistics."
        let specs = try texts.load()
        let model = try parser.model(for: Fixtures.x86_64, specs: specs)
        #expect(model.constants["SOL_TCP"]?.value == 6)
        #expect(model.constants["SOL_TCP"]?.group == "levels")
        #expect(model.constants["TCP_INFO"]?.value == 11)
        #expect(model.constants["TCP_INFO"]?.header == "linux/tcp.h")
        // The unit named in structs.spec decides which definition is mirrored.
        let info = try #require(model.records["tcp_info"])
        #expect(info.header == "linux/tcp.h")
        #expect(info.size == 8)
        #expect(info.fields.map(\.name) == ["tcpi_state", "tcpi_rtt"])
        let keys = try emitter(specs, [model]).file("SocketOptionKeys.swift")
        #expect(keys.contains("extension SocketOption where Scope == OptionScope.TCP, Value == TCPInfo, Access == OptionAccess.ReadOnly {"))
        #expect(keys.contains("Self(level: SockBindings.SOL_TCP, name: SockBindings.TCP_INFO, unit: .none)"))

        texts.structs = "tcp_info  TCPInfo  libc  TCP statistics."
        let libc = try parser.model(for: Fixtures.x86_64, specs: texts.load())
        #expect(libc.records["tcp_info"]?.header == "netinet/tcp.h")
        #expect(libc.records["tcp_info"]?.size == 1)
    }

    @Test func missingHeader() throws {
        var texts = SpecTexts()
        texts.headers = """
            # A unit with a header that does not exist.

            [fix]
            doc = the fixture headers
            include = fix/consts.h fix/missing.h
            """
        let message = try #require(failure { try parser.model(for: Fixtures.x86_64, specs: texts.load()) })
        #expect(message.hasPrefix("specs/headers.spec:3: unit [fix] does not compile for x86_64: "), "\(message)")
        #expect(message.contains("'fix/missing.h' file not found"), "\(message)")
    }

    @Test func hostHeadersAreNotSearched() throws {
        // -nostdinc: even <stdio.h> of the host is not found.
        var texts = SpecTexts()
        texts.headers = "[fix]\ninclude = fix/consts.h stdio.h"
        let message = try #require(failure { try parser.model(for: Fixtures.x86_64, specs: texts.load()) })
        #expect(message.contains("'stdio.h' file not found"), "\(message)")
    }

    // MARK: - Names the headers do not define

    @Test func optionConstantInNoGroup() throws {
        var texts = SpecTexts()
        texts.options = """
            scope FX_LEVEL Socket
            FX_LEVEL  FX_OPTION     int   both    fixOption   1.0     A fixture option.
            FX_LEVEL  FX_NO_SUCH    int   get     noSuch      1.0     Not defined anywhere.
            carrier Socket Socket fixOption
            """
        let specs = try texts.load()
        let model = try parser.model(for: Fixtures.x86_64, specs: specs)
        let message = try #require(failure { try emitter(specs, [model]).renderOptionKeys() })
        let line = lineNumber(of: "FX_NO_SUCH", in: texts.options)
        #expect(line == 3)
        #expect(message == "specs/options.spec:3: unknown constant FX_NO_SUCH: no group of specs/constants.spec selects it")
        // The whole emission fails the same way.
        #expect(failure { try emitter(specs, [model]).files() } == message)
    }

    @Test func optionLevelSelectedOnOneArchitectureOnly() throws {
        let specs = try SpecTexts().load()
        let x86 = try parser.model(for: Fixtures.x86_64, specs: specs)
        var other = x86.renamed("arm64", triple: "aarch64-linux-gnu")
        other.constants["FX_LEVEL"] = nil
        let message = try #require(failure { try emitter(specs, [x86, other]).renderOptionKeys() })
        #expect(message == "specs/options.spec:2: FX_LEVEL is missing on some architectures (x86_64 only)")
    }

    @Test func structNotDefinedByTheHeaders() throws {
        var texts = SpecTexts()
        texts.structs = """
            al8         Al8      fix   An 8-aligned structure.
            no_such     NoSuch   fix   Not in any header.
            """
        let message = try #require(failure { try parser.model(for: Fixtures.x86_64, specs: texts.load()) })
        #expect(message == "specs/structs.spec:2: struct no_such is not defined by the headers of unit [fix] (fix/consts.h fix/enums.h fix/layout.h) for x86_64")
    }

    @Test func requiredConstantMissing() throws {
        var texts = SpecTexts()
        texts.constants = """
            # The fixture macros.
            [fx]
            tu = fix
            doc = Macro cases.
            from = fix/consts.h
            prefixes = FX_
            require = FX_CAST
                      FX_NOT_THERE
            """
        let specs = try texts.load()
        let message = try #require(failure { try parser.model(for: Fixtures.x86_64, specs: specs) })
        #expect(message == "specs/constants.spec:2: required constant FX_NOT_THERE of group [fx] was not found in the headers for x86_64")
        // Kernel diffs read older trees, which may lack required names.
        let relaxed = try HeaderParser(resourceDirectory: nil, enforceRequired: false).model(for: Fixtures.x86_64, specs: specs)
        #expect(relaxed.constants["FX_CAST"]?.value == 7)
    }

    @Test func requiredNameMustComeFromTheGroupsHeaders() throws {
        // COLOR_RED exists, but not in the group's `from` header: it is not found for this group.
        var texts = SpecTexts()
        texts.constants += "\nrequire = COLOR_RED"
        let message = try #require(failure { try parser.model(for: Fixtures.x86_64, specs: texts.load()) })
        #expect(message.contains("required constant COLOR_RED of group [fx] was not found"))
    }

    @Test func constantSelectedByTwoGroups() throws {
        var texts = SpecTexts()
        texts.constants = """
            [fx]
            tu = fix
            doc = Macro cases.
            from = fix/consts.h
            prefixes = FX_

            [fx-again]
            tu = fix
            doc = Overlaps [fx].
            from = fix/consts.h
            names = FX_NEG
            """
        let message = try #require(failure { try parser.model(for: Fixtures.x86_64, specs: texts.load()) })
        #expect(message == "specs/constants.spec:7: constant FX_NEG is selected by both [fx] and [fx-again]")
    }

    // MARK: - Malformed specs

    struct SpecMistake: CustomTestStringConvertible, Sendable {
        var file: String
        var text: String
        /// The line the error must name.
        var line: Int
        var message: String
        var testDescription: String { "\(file): \(message)" }
    }

    static let mistakes: [SpecMistake] = [
        SpecMistake(file: "options.spec", text: """
            SOL_SOCKET  FX_OPTION  int      both  fixOption  1.0  A fixture option.
            SOL_SOCKET  FX_CAST    integer  get   cast       1.0  An unknown type.
            """, line: 2, message: "unknown option type 'integer'"),
        SpecMistake(file: "options.spec", text: """
            SOL_SOCKET  FX_OPTION  struct:nope  get  fixOption  1.0  A struct that structs.spec does not list.
            """, line: 1, message: "struct nope is not declared in structs.spec"),
        SpecMistake(file: "options.spec", text: """
            SOL_SOCKET  FX_OPTION  int  sometimes  fixOption  1.0  Bad access.
            """, line: 1, message: "unknown access 'sometimes' (get, set, both)"),
        SpecMistake(file: "options.spec", text: """
            SOL_SOCKET  FX_OPTION  int  both  FixOption  1.0  Upper camel case.
            """, line: 1, message: "Swift name 'FixOption' must be lowerCamelCase letters and digits"),
        SpecMistake(file: "options.spec", text: """
            IPPROTO_TCP  FX_OPTION  int  both  fixOption  1.0  Once.
            IPPROTO_TCP  FX_CAST    int  both  fixOption  1.0  Twice.
            """, line: 2, message: "Swift name fixOption is used twice at level IPPROTO_TCP"),
        SpecMistake(file: "options.spec", text: """
            IPPROTO_IP    FX_OPTION  int  both  fixOption  1.0  IPv4.
            IPPROTO_IPV6  FX_CAST    int  both  fixOption  1.0  IPv6: every IP socket sees both.
            """, line: 2, message: "Swift name fixOption is also used at level IPPROTO_IP (specs/options.spec:1), and one socket sees both levels"),
        SpecMistake(file: "options.spec", text: """
            SOL_SOCKET   FX_OPTION  int  both  fixOption  1.0  Socket level: every socket sees it.
            IPPROTO_TCP  FX_CAST    int  both  fixOption  1.0  TCP.
            """, line: 2, message: "Swift name fixOption is also used at level SOL_SOCKET (specs/options.spec:1), and one socket sees both levels"),
        SpecMistake(file: "options.spec", text: """
            FX_LEVEL  FX_OPTION  int  both  fixOption  1.0  No scope for this level.
            """, line: 1, message: "unknown level 'FX_LEVEL'"),
        SpecMistake(file: "options.spec", text: """
            scope FX_LEVEL Kernel
            """, line: 1, message: "expected 'scope LEVEL Scope' with Scope one of Socket, IP, IPv6, TCP, UDP, SCTP"),
        SpecMistake(file: "options.spec", text: """
            carrier Kernel Socket fixOption
            """, line: 1, message: "expected 'carrier Scope Type example' with Scope one of Socket, IP, IPv6, TCP, UDP, SCTP"),
        SpecMistake(file: "options.spec", text: """
            carrier TCP TCPConfigurable
            """, line: 1, message: "expected 'carrier Scope Type example'"),
        SpecMistake(file: "options.spec", text: """
            carrier TCP tcpConfigurable fixOption
            """, line: 1, message: "carrier type 'tcpConfigurable' must be an UpperCamelCase Swift type name"),
        SpecMistake(file: "options.spec", text: """
            carrier TCP TCPConfigurable fixOption
            IPPROTO_TCP  FX_OPTION  int  both  fixOption  1.0  A TCP option.
            carrier TCP SCTPConfigurable fixOption
            """, line: 3, message: "scope TCP already has a carrier line (specs/options.spec:1)"),
        SpecMistake(file: "options.spec", text: """
            carrier TCP TCPConfigurable fixOption
            IPPROTO_TCP  FX_OPTION  int  both  fixOption  1.0  A TCP option.
            IPPROTO_UDP  FX_CAST    int  both  cast       1.0  A UDP option whose scope has no carrier.
            """, line: 3, message: "level IPPROTO_UDP has scope UDP, which has no 'carrier UDP Type example' line"),
        SpecMistake(file: "options.spec", text: """
            carrier TCP TCPConfigurable noSuchKey
            IPPROTO_TCP  FX_OPTION  int  both  fixOption  1.0  A TCP option.
            """, line: 1, message: "example 'noSuchKey' is not a readable key of scope TCP"),
        SpecMistake(file: "options.spec", text: """
            IPPROTO_TCP  FX_OPTION  int  set   fixOption  1.0  A write-only TCP option.
            carrier TCP TCPConfigurable fixOption
            """, line: 2, message: "example 'fixOption' is not a readable key of scope TCP"),
        SpecMistake(file: "options.spec", text: """
            SOL_SOCKET  FX_OPTION  int  both  fixOption  latest  Not a version.
            """, line: 1, message: "minimum kernel 'latest' is not a version such as 4.18"),
        SpecMistake(file: "options.spec", text: """
            SOL_SOCKET  FX_OPTION  int  both
            """, line: 1, message: "expected 'level option type access swiftName kernel doc...'"),
        SpecMistake(file: "types.spec", text: """
            COLOR_RED  red  A member before any section.
            """, line: 1, message: "expected a [TypeName] section before 'COLOR_RED  red  A member before any section.'"),
        SpecMistake(file: "types.spec", text: """
            [Color]
            kind = values
            doc = A color.
            COLOR_RED  Red  Upper camel case.
            """, line: 4, message: "Swift name 'Red' must be lowerCamelCase letters and digits"),
        SpecMistake(file: "types.spec", text: """
            [Color]
            kind = bits
            """, line: 2, message: "unknown kind 'bits' (values, options)"),
        SpecMistake(file: "constants.spec", text: """
            [fx]
            tu = fix
            doc = Macro cases.
            from = fix/consts.h
            prefix = FX_
            """, line: 5, message: "unknown key 'prefix' (expected doc, exclude, from, lookup, names, prefixes, require, tu)"),
        SpecMistake(file: "constants.spec", text: """
            [fx]
            tu = nowhere
            from = fix/consts.h
            prefixes = FX_
            """, line: 2, message: "unknown translation unit 'nowhere' (declared in headers.spec: fix)"),
        SpecMistake(file: "constants.spec", text: """
            [fx]
            tu = fix
            prefixes = FX_
            """, line: 1, message: "group [fx] has no 'from = ...' line naming its defining headers"),
        SpecMistake(file: "constants.spec", text: """
            [fx]
            tu = fix
            from = fix/consts.h
            """, line: 1, message: "group [fx] selects nothing: give 'prefixes' or 'names'"),
        SpecMistake(file: "constants.spec", text: """
            [fx]
            tu = fix
            tu = fix
            """, line: 3, message: "key 'tu' appears twice in this section"),
        SpecMistake(file: "headers.spec", text: """
            [fix]
            includes = fix/consts.h
            """, line: 2, message: "unknown key 'includes' (expected doc, include)"),
        SpecMistake(file: "headers.spec", text: """
            include = fix/consts.h
            """, line: 1, message: "expected a [section] before 'include = fix/consts.h'"),
        SpecMistake(file: "structs.spec", text: """
            al8  Al8  elsewhere  A unit that does not exist.
            """, line: 1, message: "unknown translation unit 'elsewhere'"),
        SpecMistake(file: "structs.spec", text: """
            al8      Al8  fix  Once.
            packed4  Al8  fix  Twice.
            """, line: 2, message: "Swift name Al8 is used twice"),
        SpecMistake(file: "structs.spec", text: """
            al8  Al8  fix
            """, line: 1, message: "expected 'C-struct SwiftName unit doc...'"),
    ]

    @Test(arguments: mistakes) func malformedSpec(_ mistake: SpecMistake) throws {
        var texts = SpecTexts()
        switch mistake.file {
        case "options.spec": texts.options = mistake.text
        case "types.spec": texts.types = mistake.text
        case "constants.spec": texts.constants = mistake.text
        case "headers.spec": texts.headers = mistake.text
        default: texts.structs = mistake.text
        }
        let message = try #require(failure { try texts.load() })
        // The message starts with the place, then says what is wrong (some go on with the offending text).
        #expect(message.hasPrefix("specs/\(mistake.file):\(mistake.line): \(mistake.message)"), "\(message)")
    }
}
