// Stage 3: cross-check the model against the C compiler before anything is
// written. For every unit and target, a C file of `_Static_assert`s (sizeof,
// _Alignof, offsetof, every constant's value and type) is compiled with
// `clang -target <triple> -fsyntax-only` against the same headers. Nothing
// runs, so every architecture is checked on any host.
import Foundation

public struct Verifier {
    /// The clang executable (the same LLVM as libclang, so it knows every target).
    public var clang: String
    public var resourceDirectory: String?
    /// Where the probe files are written (kept for inspection).
    public var workDirectory: String

    public init(clang: String, resourceDirectory: String?, workDirectory: String) {
        self.clang = clang
        self.resourceDirectory = resourceDirectory
        self.workDirectory = workDirectory
    }

    /// The probe source for one unit of one target.
    public func probe(unit: HeaderUnit, model: ArchModel, specs: Specs) -> (source: String, checks: Int) {
        var source = "// sock-gen C probe: \(model.arch) (\(model.triple)), unit [\(unit.name)]\n"
        source += unit.includes.map { "#include <\($0)>\n" }.joined()
        source += "#include <stddef.h>\n"
        var checks = 0
        func check(_ condition: String, _ message: String) {
            source += "_Static_assert(\(condition), \"\(message)\");\n"
            checks += 1
        }
        let groupUnits = Dictionary(uniqueKeysWithValues: specs.groups.map { ($0.name, $0.unit) })
        for (name, constant) in model.constants.sorted(by: { $0.key < $1.key }) where groupUnits[constant.group] == unit.name {
            let literal: String
            if constant.unsigned {
                literal = "\(UInt64(bitPattern: constant.value))ULL"
            } else if constant.value == Int64.min {
                literal = "(-9223372036854775807LL - 1)"
            } else {
                literal = "(\(constant.value)LL)"
            }
            check("(\(name)) == \(literal)", "value of \(name)")
            check("__builtin_types_compatible_p(__typeof__(\(name)), \(constant.type.rawValue))", "type of \(name) is \(constant.type.rawValue)")
        }
        for spec in specs.structs where spec.unit == unit.name {
            guard let record = model.records[spec.cName] else { continue }
            let type = "struct \(record.cName)"
            check("sizeof(\(type)) == \(record.size)", "sizeof(\(type))")
            check("_Alignof(\(type)) == \(record.alignment)", "_Alignof(\(type))")
            for field in record.fields where field.bitWidth == nil {
                // Members of an anonymous union are reached through the parent.
                var names = [(field.name, field.size, 0)]
                if field.name.isEmpty, case .union(_, _, let members) = field.type {
                    names = members.filter { !$0.name.isEmpty }.map { ($0.name, $0.size, $0.byteOffset) }
                }
                for (name, size, inner) in names where !name.isEmpty {
                    check("offsetof(\(type), \(name)) == \(field.bitOffset / 8 + inner)", "offsetof(\(type), \(name))")
                    // A flexible array has no size (sizeof of it does not compile).
                    if size > 0 { check("sizeof(((\(type) *)0)->\(name)) == \(size)", "sizeof \(type).\(name)") }
                }
            }
        }
        return (source, checks)
    }

    /// Compiles every probe; throws with every failed assertion when the
    /// compiler disagrees with the model. Returns the number of checks.
    public func verify(models: [(TargetInputs, ArchModel)], specs: Specs) throws(GeneratorError) -> Int {
        var total = 0
        var failures: [String] = []
        for (target, model) in models {
            for unit in specs.units {
                let (source, checks) = probe(unit: unit, model: model, specs: specs)
                let path = "\(workDirectory)/probe-\(model.arch)-\(unit.name).c"
                try writeTextFileIfChanged(path, source)
                let arguments = target.arguments(resourceDirectory: resourceDirectory) + ["-fsyntax-only", "-x", "c", path]
                let (status, output) = try run(clang, arguments)
                if status != 0 {
                    let errors = output.split(separator: "\n").filter { $0.contains("error:") }
                    failures += errors.map { "\(model.arch) [\(unit.name)]: \($0)" }
                    if errors.isEmpty { failures.append("\(model.arch) [\(unit.name)]: \(clang) failed: \(output)") }
                }
                total += checks
            }
        }
        if !failures.isEmpty {
            throw GeneratorError("the C compiler disagrees with the libclang model; nothing was written:\n" + failures.prefix(40).joined(separator: "\n")
                                 + (failures.count > 40 ? "\n… and \(failures.count - 40) more" : ""))
        }
        return total
    }
}
