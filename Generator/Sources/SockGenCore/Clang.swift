// A thin layer over the libclang C API: strings, visitors, parsing and
// diagnostics. All unsafe pointer handling of the generator lives here.
import CClang
import Foundation

/// Converts and disposes a libclang string.
func swiftString(_ string: CXString) -> String {
    defer { clang_disposeString(string) }
    guard let chars = clang_getCString(string) else { return "" }
    return String(cString: chars)
}

func spelling(_ cursor: CXCursor) -> String { swiftString(clang_getCursorSpelling(cursor)) }

/// Visits the direct children of `cursor`.
func visitChildren(_ cursor: CXCursor, _ body: (CXCursor) -> Void) {
    withoutActuallyEscaping(body) { escapable in
        var box = escapable
        withUnsafeMutablePointer(to: &box) { pointer in
            _ = clang_visitChildren(cursor, { child, _, data in
                data!.assumingMemoryBound(to: ((CXCursor) -> Void).self).pointee(child)
                return CXChildVisit_Continue
            }, pointer)
        }
    }
}

/// Visits the fields of a record type, in declaration order.
func visitFields(_ type: CXType, _ body: (CXCursor) -> Void) {
    withoutActuallyEscaping(body) { escapable in
        var box = escapable
        withUnsafeMutablePointer(to: &box) { pointer in
            _ = clang_Type_visitFields(type, { field, data in
                data!.assumingMemoryBound(to: ((CXCursor) -> Void).self).pointee(field)
                return CXVisit_Continue
            }, pointer)
        }
    }
}

/// The file and line where `cursor` is (expansion location).
func fileAndLine(_ location: CXSourceLocation) -> (file: String, line: Int) {
    var file: CXFile?
    var line: UInt32 = 0
    clang_getExpansionLocation(location, &file, &line, nil, nil)
    guard let file else { return ("", Int(line)) }
    return (swiftString(clang_getFileName(file)), Int(line))
}

/// One parsed translation unit; disposed with its index.
final class TranslationUnit {
    private let index: CXIndex?
    let unit: CXTranslationUnit!
    let mainFile: String

    /// Parses `source` (an in-memory file called `mainFile`) with `arguments`.
    init(mainFile: String, source: String, arguments: [String]) throws(GeneratorError) {
        self.mainFile = mainFile
        let index = clang_createIndex(0, 0)
        self.index = index
        var parsed: CXTranslationUnit?
        let options = CXTranslationUnit_DetailedPreprocessingRecord.rawValue
            | CXTranslationUnit_SkipFunctionBodies.rawValue
        let code: CXErrorCode = mainFile.withCString { name in
            source.withCString { contents in
                var unsaved = CXUnsavedFile(Filename: name, Contents: contents,
                                            Length: UInt(source.utf8.count))
                var cArguments = arguments.map { strdup($0) }
                defer { cArguments.forEach { free($0) } }
                return cArguments.withUnsafeMutableBufferPointer { argv in
                    argv.withMemoryRebound(to: UnsafePointer<CChar>?.self) { argv in
                        clang_parseTranslationUnit2(index, name, argv.baseAddress, Int32(argv.count),
                                                    &unsaved, 1, options, &parsed)
                    }
                }
            }
        }
        guard code == CXError_Success, let parsed else {
            self.unit = nil
            throw GeneratorError("libclang could not parse \(mainFile) (error code \(code.rawValue)); arguments: \(arguments.joined(separator: " "))")
        }
        unit = parsed
    }

    deinit {
        if let unit { clang_disposeTranslationUnit(unit) }
        clang_disposeIndex(index)
    }

    var cursor: CXCursor { clang_getTranslationUnitCursor(unit) }

    /// Every diagnostic of error severity or worse, as (file, line, message).
    /// libclang reports success even after fatal errors, so callers must check.
    func errors() -> [(file: String, line: Int, message: String)] {
        var result: [(String, Int, String)] = []
        for i in 0..<clang_getNumDiagnostics(unit) {
            let diagnostic = clang_getDiagnostic(unit, i)
            defer { clang_disposeDiagnostic(diagnostic) }
            guard clang_getDiagnosticSeverity(diagnostic).rawValue >= CXDiagnostic_Error.rawValue else { continue }
            let (file, line) = fileAndLine(clang_getDiagnosticLocation(diagnostic))
            result.append((file, line, swiftString(clang_getDiagnosticSpelling(diagnostic))))
        }
        return result
    }
}

