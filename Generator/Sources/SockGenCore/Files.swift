// File and process helpers of the generator.
import Foundation

/// Reads a UTF-8 text file, or nil when it cannot be read.
func readTextFile(_ path: String) -> String? {
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    return String(decoding: data, as: UTF8.self)
}

/// Writes `contents` to `path` (creating directories) only if it changed, so
/// regenerating leaves timestamps alone. Returns whether the file changed.
@discardableResult
public func writeTextFileIfChanged(_ path: String, _ contents: String) throws(GeneratorError) -> Bool {
    if readTextFile(path) == contents { return false }
    let directory = (path as NSString).deletingLastPathComponent
    do {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data(contents.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
        throw GeneratorError("cannot write \(path): \(error)")
    }
    return true
}

/// Runs a program and returns its exit status and combined output.
func run(_ executable: String, _ arguments: [String]) throws(GeneratorError) -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    do { try process.run() } catch { throw GeneratorError("cannot run \(executable): \(error)") }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Whether a directory exists at `path`.
public func directoryExists(_ path: String) -> Bool {
    var isDirectory: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
}
