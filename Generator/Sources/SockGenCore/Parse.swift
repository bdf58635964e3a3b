// Stage 1: parse the headers of every translation unit with libclang, for one
// target, and build that target's model: constant values and types from clang's
// evaluator, structure layouts from clang's record layout.
import CClang
import Foundation

/// The headers of one target architecture.
public struct TargetInputs: Sendable {
    /// The Swift `arch()` name: `x86_64`, `arm64`, `riscv64`, `loongarch64`.
    public var arch: String
    /// The clang target triple.
    public var triple: String
    /// Include directories, searched in order, replacing the host's.
    public var includeDirectories: [String]
    /// Extra compiler arguments (for tests).
    public var extraArguments: [String] = []

    public init(arch: String, triple: String, includeDirectories: [String], extraArguments: [String] = []) {
        self.arch = arch
        self.triple = triple
        self.includeDirectories = includeDirectories
        self.extraArguments = extraArguments
    }

    /// The compiler arguments shared by libclang and the C probe.
    public func arguments(resourceDirectory: String?) -> [String] {
        var arguments = ["-target", triple, "-std=gnu11", "-D_GNU_SOURCE", "-nostdinc", "-ferror-limit=0"]
        if let resourceDirectory { arguments += ["-isystem", resourceDirectory + "/include"] }
        for directory in includeDirectories { arguments += ["-isystem", directory] }
        return arguments + extraArguments
    }

    /// `path` relative to the include directory that contains it.
    func relativeHeader(_ path: String) -> String {
        var best = path
        for directory in includeDirectories where path.hasPrefix(directory + "/") {
            let candidate = String(path.dropFirst(directory.count + 1))
            if candidate.count < best.count { best = candidate }
        }
        return best
    }
}

/// Parses header units and builds an `ArchModel`.
public struct HeaderParser: Sendable {
    public var resourceDirectory: String?
    /// Whether a missing `require`d constant fails the run (off for kernel
    /// diffs, where an older tree legitimately lacks newer names).
    public var enforceRequired: Bool

    public init(resourceDirectory: String?, enforceRequired: Bool = true) {
        self.resourceDirectory = resourceDirectory
        self.enforceRequired = enforceRequired
    }

    /// Builds the model of one target from all units of `specs`.
    public func model(for target: TargetInputs, specs: Specs) throws(GeneratorError) -> ArchModel {
        var model = ArchModel(arch: target.arch, triple: target.triple, bigEndian: false, pointerSize: 8,
                              constants: [:], records: [:], skipped: [], missingRequired: [])
        for unit in specs.units {
            let groups = specs.groups.filter { $0.unit == unit.name }
            let structs = specs.structs.filter { $0.unit == unit.name }
            let part = try parse(unit: unit, groups: groups, structNames: Set(structs.map(\.cName)), target: target)
            model.bigEndian = part.bigEndian
            model.pointerSize = part.pointerSize
            for (name, constant) in part.constants {
                if let existing = model.constants[name], existing.group != constant.group {
                    throw GeneratorError("\(target.arch): constant \(name) is selected by both groups [\(existing.group)] and [\(constant.group)] in specs/constants.spec")
                }
                model.constants[name] = constant
            }
            model.records.merge(part.records) { first, _ in first }
            model.skipped += part.skipped
            for spec in structs where model.records[spec.cName] == nil {
                throw GeneratorError("\(spec.location): struct \(spec.cName) is not defined by the headers of unit [\(unit.name)] (\(unit.includes.joined(separator: " "))) for \(target.arch)")
            }
        }
        for group in specs.groups {
            for name in group.require where model.constants[name] == nil {
                guard enforceRequired else { model.missingRequired.append(name); continue }
                throw GeneratorError("\(group.location): required constant \(name) of group [\(group.name)] was not found in the headers for \(target.arch)")
            }
        }
        model.skipped.sort()
        return model
    }

    /// What one unit contributes.
    struct UnitModel {
        var constants: [String: Constant] = [:]
        var records: [String: Record] = [:]
        var skipped: [String] = []
        var bigEndian = false
        var pointerSize = 8
    }

    func parse(unit: HeaderUnit, groups: [ConstantGroup], structNames: Set<String>,
               target: TargetInputs) throws(GeneratorError) -> UnitModel {
        let arguments = target.arguments(resourceDirectory: resourceDirectory)
        let includes = unit.includes.map { "#include <\($0)>\n" }.joined()
        let mainFile = "sockgen-\(unit.name).c"

        // Pass 1: the headers alone. Collect macros, enumerators and structures.
        let headersOnly = try TranslationUnit(mainFile: mainFile, source: includes, arguments: arguments)
        if let failure = headersOnly.errors().first {
            let place = failure.file.isEmpty ? mainFile : "\(target.relativeHeader(failure.file)):\(failure.line)"
            throw GeneratorError("\(unit.location): unit [\(unit.name)] does not compile for \(target.arch): \(place): error: \(failure.message)")
        }
        var macros: [String: String] = [:]        // name -> defining file (last definition)
        var enumerators: [String: String] = [:]
        var records: [String: Record] = [:]
        var failure: GeneratorError?
        visitChildren(headersOnly.cursor) { cursor in
            guard failure == nil else { return }
            switch cursor.kind {
            case CXCursor_MacroDefinition:
                guard clang_Cursor_isMacroBuiltin(cursor) == 0, clang_Cursor_isMacroFunctionLike(cursor) == 0 else { return }
                macros[spelling(cursor)] = fileAndLine(clang_getCursorLocation(cursor)).file
            case CXCursor_EnumDecl:
                let file = fileAndLine(clang_getCursorLocation(cursor)).file
                visitChildren(cursor) { child in
                    if child.kind == CXCursor_EnumConstantDecl { enumerators[spelling(child)] = file }
                }
            case CXCursor_StructDecl:
                let name = spelling(cursor)
                guard structNames.contains(name), clang_isCursorDefinition(cursor) != 0, records[name] == nil else { return }
                do throws(GeneratorError) { records[name] = try record(cursor, target: target) }
                catch { failure = error }
            default:
                break
            }
        }
        if let failure { throw failure }

        // Select the constants of this unit's groups.
        var selected: [(name: String, group: String, file: String, isMacro: Bool)] = []
        for name in Set(macros.keys).union(enumerators.keys).sorted() {
            let isMacro = macros[name] != nil
            guard let file = macros[name] ?? enumerators[name] else { continue }
            let header = target.relativeHeader(file)
            let owners = groups.filter { $0.selects(name, definedIn: header) }
            if owners.count > 1 {
                throw GeneratorError("\(owners[1].location): constant \(name) is selected by both [\(owners[0].name)] and [\(owners[1].name)]")
            }
            if let owner = owners.first { selected.append((name, owner.name, header, isMacro)) }
        }

        // Pass 2: evaluate every selected name in a unit that reflects the final
        // preprocessor state (so #undef and redefinitions are honoured).
        var source = includes
        var lineOfName: [Int: String] = [:]
        var line = unit.includes.count
        func declare(_ name: String, _ expression: String) {
            source += "static const __auto_type __sockgen_\(name) = (\(expression));\n"
            line += 1
            lineOfName[line] = name
        }
        declare("_byte_order", "__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__")
        declare("_pointer_size", "sizeof(void *)")
        for item in selected {
            if item.isMacro {
                source += "#ifdef \(item.name)\n"
                line += 1
            }
            declare(item.name, item.name)
            if item.isMacro {
                source += "#endif\n"
                line += 1
            }
        }
        let evaluated = try TranslationUnit(mainFile: mainFile, source: source, arguments: arguments)
        var notConstant = Set<String>()
        for error in evaluated.errors() {
            if error.file == mainFile, let name = lineOfName[error.line] { notConstant.insert(name); continue }
            throw GeneratorError("\(unit.location): evaluating constants of unit [\(unit.name)] for \(target.arch): \(target.relativeHeader(error.file)):\(error.line): error: \(error.message)")
        }
        var result = UnitModel(records: records)
        let groupOf = Dictionary(selected.map { ($0.name, ($0.group, $0.file)) }, uniquingKeysWith: { a, _ in a })
        visitChildren(evaluated.cursor) { cursor in
            guard cursor.kind == CXCursor_VarDecl else { return }
            let variable = spelling(cursor)
            guard variable.hasPrefix("__sockgen_") else { return }
            let name = String(variable.dropFirst("__sockgen_".count))
            guard !notConstant.contains(name), let value = evaluate(cursor) else {
                if groupOf[name] != nil { result.skipped.append(name) }
                return
            }
            switch name {
            case "_byte_order": result.bigEndian = value.value != 0
            case "_pointer_size": result.pointerSize = Int(value.value)
            default:
                guard let (group, header) = groupOf[name] else { return }
                result.constants[name] = Constant(name: name, group: group, value: value.value,
                                                  unsigned: value.unsigned, type: value.type, header: header)
            }
        }
        return result
    }

    /// Evaluates an integer variable's initializer with clang's evaluator.
    private func evaluate(_ cursor: CXCursor) -> (value: Int64, unsigned: Bool, type: CIntegerType)? {
        guard let type = integerType(clang_getCanonicalType(clang_getCursorType(cursor))) else { return nil }
        guard let result = clang_Cursor_Evaluate(cursor) else { return nil }
        defer { clang_EvalResult_dispose(result) }
        guard clang_EvalResult_getKind(result) == CXEval_Int else { return nil }
        if clang_EvalResult_isUnsignedInt(result) != 0 {
            return (Int64(bitPattern: UInt64(clang_EvalResult_getAsUnsigned(result))), true, type)
        }
        return (Int64(clang_EvalResult_getAsLongLong(result)), false, type)
    }

    /// Reads the layout of a structure definition.
    private func record(_ cursor: CXCursor, target: TargetInputs) throws(GeneratorError) -> Record {
        let type = clang_getCanonicalType(clang_getCursorType(cursor))
        let name = spelling(cursor)
        let header = target.relativeHeader(fileAndLine(clang_getCursorLocation(cursor)).file)
        let size = Int(clang_Type_getSizeOf(type))
        let alignment = Int(clang_Type_getAlignOf(type))
        guard size >= 0, alignment > 0 else {
            throw GeneratorError("struct \(name) (\(header)) has no layout for \(target.arch) (clang layout error \(size))")
        }
        var fields: [Field] = []
        var flexible: [String] = []
        var failure: GeneratorError?
        // Anonymous structure members are flattened into their parent (their
        // fields are the parent's in C); anonymous unions stay one field with
        // an empty name, whose members become accessors.
        func collect(_ type: CXType, base: Int) {
            visitFields(type) { field in
                guard failure == nil else { return }
                let fieldType = clang_getCanonicalType(clang_getCursorType(field))
                let offset = base + Int(clang_Cursor_getOffsetOfField(field))
                let declaration = clang_getTypeDeclaration(fieldType)
                let anonymous = fieldType.kind == CXType_Record && clang_Cursor_isAnonymousRecordDecl(declaration) != 0
                if anonymous && declaration.kind == CXCursor_StructDecl { collect(fieldType, base: offset); return }
                let fieldName = anonymous ? "" : spelling(field)
                if fieldType.kind == CXType_IncompleteArray { flexible.append(fieldName); return }
                do throws(GeneratorError) {
                    let converted = try self.fieldType(fieldType, context: "\(name).\(anonymous ? "(anonymous union)" : fieldName)")
                    let width = clang_Cursor_isBitField(field) != 0 ? Int(clang_getFieldDeclBitWidth(field)) : nil
                    // A flexible array inside an anonymous union is the parent's.
                    if anonymous, case .union(_, _, let members) = converted {
                        flexible += members.filter(\.isFlexible).map(\.name)
                    }
                    fields.append(Field(name: fieldName, type: converted, bitOffset: offset,
                                        size: Int(clang_Type_getSizeOf(fieldType)), alignment: Int(clang_Type_getAlignOf(fieldType)),
                                        bitWidth: width))
                } catch { failure = error }
            }
        }
        collect(type, base: 0)
        if let failure { throw failure }
        return Record(cName: name, size: size, alignment: alignment, fields: fields, flexibleMembers: flexible, header: header)
    }

    private func fieldType(_ type: CXType, context: String) throws(GeneratorError) -> FieldType {
        if let integer = integerType(type) { return .integer(integer, size: Int(clang_Type_getSizeOf(type))) }
        switch type.kind {
        case CXType_ConstantArray:
            let element = try fieldType(clang_getCanonicalType(clang_getArrayElementType(type)), context: context)
            return .array(element, count: Int(clang_getArraySize(type)))
        case CXType_Pointer:
            let pointee = clang_getCanonicalType(clang_getPointeeType(type))
            if pointee.kind == CXType_Record, case .record(let tag)? = try? fieldType(pointee, context: context) {
                return .pointer(.record(tag))
            }
            return .pointer(nil)
        case CXType_Record:
            let declaration = clang_getTypeDeclaration(type)
            if declaration.kind == CXCursor_UnionDecl {
                // Members of the union; the fields of an anonymous structure
                // inside it are members too, at their offset in the union (as
                // C reaches them). Flexible and zero-length arrays (including
                // `__DECLARE_FLEX_ARRAY`'s empty structure + `T name[]`) are
                // members of size 0; empty structures are dropped.
                var members: [UnionMember] = []
                var failure: GeneratorError?
                func collect(_ container: CXType, base: Int) {
                    visitFields(container) { member in
                        guard failure == nil else { return }
                        let memberType = clang_getCanonicalType(clang_getCursorType(member))
                        let memberDeclaration = clang_getTypeDeclaration(memberType)
                        let offset = base + Int(clang_Cursor_getOffsetOfField(member)) / 8
                        if memberType.kind == CXType_Record && clang_Cursor_isAnonymousRecordDecl(memberDeclaration) != 0
                            && memberDeclaration.kind == CXCursor_StructDecl {
                            collect(memberType, base: offset)
                            return
                        }
                        if memberType.kind == CXType_Record && clang_Type_getSizeOf(memberType) == 0 { return }
                        let memberName = spelling(member)
                        do throws(GeneratorError) {
                            let converted: FieldType
                            if memberType.kind == CXType_IncompleteArray {
                                let element = clang_getCanonicalType(clang_getArrayElementType(memberType))
                                converted = .array(try fieldType(element, context: context + "." + memberName), count: 0)
                            } else {
                                converted = try fieldType(memberType, context: context + "." + memberName)
                            }
                            let size = memberType.kind == CXType_IncompleteArray ? 0 : Int(clang_Type_getSizeOf(memberType))
                            members.append(UnionMember(name: memberName, type: converted, size: size,
                                                       offset: offset == 0 ? nil : offset))
                        } catch { failure = error }
                    }
                }
                collect(type, base: 0)
                if let failure { throw failure }
                return .union(size: Int(clang_Type_getSizeOf(type)), alignment: Int(clang_Type_getAlignOf(type)), members: members)
            }
            if clang_Cursor_isAnonymous(declaration) != 0 {
                throw GeneratorError("\(context): anonymous nested structures are not supported; name the structure in the header or leave this struct out of specs/structs.spec")
            }
            return .record(spelling(declaration))
        default:
            throw GeneratorError("\(context): unsupported field type '\(swiftString(clang_getTypeSpelling(type)))'")
        }
    }

    private func integerType(_ type: CXType) -> CIntegerType? {
        switch type.kind {
        case CXType_Char_S, CXType_Char_U: .char
        case CXType_SChar: .signedChar
        case CXType_UChar: .unsignedChar
        case CXType_Short: .short
        case CXType_UShort: .unsignedShort
        case CXType_Int: .int
        case CXType_UInt: .unsignedInt
        case CXType_Long: .long
        case CXType_ULong: .unsignedLong
        case CXType_LongLong: .longLong
        case CXType_ULongLong: .unsignedLongLong
        case CXType_Bool: .bool
        case CXType_Enum:
            integerType(clang_getCanonicalType(clang_getEnumDeclIntegerType(clang_getTypeDeclaration(type))))
        default: nil
        }
    }
}
