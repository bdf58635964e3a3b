// sock-gen: generates Sock's bindings (Sources/SockBindings, Sources/Sock/Generated) from the kernel
// and libc headers. See `sock-gen --help` and specs/README.md.
import ArgumentParser
import Foundation
import SockGenCore

@main
struct SockGen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sock-gen",
        abstract: "Generate Sock's Swift bindings from the Linux uapi and glibc headers.",
        discussion: """
        Reads the specs (specs/*.spec), parses the pinned headers with libclang once \
        per target architecture, cross-checks every value and layout with a C compiler, \
        and writes Sources/SockBindings/*.swift, Sources/Sock/Generated/*.swift and the layout tests. Usually run through \
        `make generate`, which downloads the headers first.
        """,
        subcommands: [Generate.self, KernelDiffCommand.self],
        defaultSubcommand: Generate.self
    )
}

struct CommonOptions: ParsableArguments {
    @Option(help: "The specs directory.")
    var specs = "specs"

    @Option(help: "The resolved header trees, written by scripts/fetch-headers.sh.")
    var inputs = ".headers/resolved.env"

    @Option(name: .customLong("arch"), help: "Generate only this architecture (repeatable; default: every one of the inputs).")
    var arches: [String] = []

    @Option(help: "clang's resource directory (its include/ has stddef.h); default: ask --clang.")
    var resourceDir: String?

    @Option(help: "The clang executable used for the C cross-check (same LLVM as libclang).")
    var clang = "clang"

    func resolvedResourceDirectory() -> String? {
        if let resourceDir { return resourceDir }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [clang, "-print-resource-dir"]
        let pipe = Pipe()
        process.standardOutput = pipe
        guard (try? process.run()) != nil else { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let path = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return process.terminationStatus == 0 && !path.isEmpty ? path : nil
    }
}

func hostArch() -> String {
    #if arch(x86_64)
    "x86_64"
    #elseif arch(arm64)
    "arm64"
    #elseif arch(riscv64)
    "riscv64"
    #else
    "unknown"
    #endif
}

func note(_ message: String) {
    FileHandle.standardError.write(Data(("sock-gen: " + message + "\n").utf8))
}

func fail(_ error: GeneratorError) -> ExitCode {
    note("error: \(error.description)")
    return ExitCode.failure
}

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate the bindings (the default command).")

    @OptionGroup var common: CommonOptions

    @Option(help: "A kernel uapi header tree to use instead of the pinned package (for example /usr/include).")
    var kernelHeaders: String?

    @Option(help: "The repository root to write into.")
    var output = "."

    @Option(help: "The support file copied into the bindings.")
    var template = "Generator/Templates/Support.swift"

    @Option(help: "Where the C probe files are written.")
    var workDir = ".headers/probes"

    @Flag(help: "Write nothing; exit with status 1 if the committed files differ from what would be generated.")
    var check = false

    @Flag(help: "Skip the C compiler cross-check (never for committed output).")
    var noVerify = false

    func run() throws {
        let start = Date()
        do throws(GeneratorError) {
            let specs = try Specs.load(directory: common.specs, displayPrefix: common.specs)
            let inputs = try HeaderInputs.load(resolvedFile: common.inputs, kernelOverride: kernelHeaders,
                                               arches: common.arches, hostArch: hostArch())
            note("inputs  \(inputs.description.kernel); \(inputs.targets.map(\.arch).joined(separator: ", "))")
            guard let template = FileManager.default.contents(atPath: template).map({ String(decoding: $0, as: UTF8.self) }) else {
                throw GeneratorError("cannot read the support template \(template)")
            }
            let resourceDirectory = common.resolvedResourceDirectory()
            let verifier = noVerify ? nil : Verifier(clang: common.clang, resourceDirectory: resourceDirectory, workDirectory: workDir)
                        // A user's own (possibly older) kernel tree may lack newer names: warn, don't fail.
            let parser = HeaderParser(resourceDirectory: resourceDirectory, enforceRequired: kernelHeaders == nil)
            let pipeline = Pipeline(specs: specs, inputs: inputs, parser: parser,
                                    verifier: verifier, supportTemplate: template, progress: note)
            let result = try pipeline.run()
            var changed: [String] = []
            for file in result.files {
                let path = output + "/" + file.path
                if check {
                    let current = FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
                    if current != file.contents { changed.append(file.path) }
                } else if try writeTextFileIfChanged(path, file.contents) {
                    changed.append(file.path)
                }
            }
            let seconds = String(format: "%.1f", Date().timeIntervalSince(start))
            if check {
                if !changed.isEmpty {
                    throw GeneratorError("check: these files differ from a fresh generation: \(changed.joined(separator: " ")); run `make generate` and commit the result")
                }
                note("check: the committed bindings are exactly what the headers generate (\(seconds)s)")
            } else {
                note("write   \(changed.isEmpty ? "no file changed" : "changed: " + changed.joined(separator: " ")) (\(seconds)s in all)")
            }
        } catch {
            throw fail(error)
        }
    }
}

struct KernelDiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernel-diff",
        abstract: "Report the constants, structure fields and options that differ between two kernel header trees.")

    @OptionGroup var common: CommonOptions

    @Option(help: "The older kernel uapi header tree, or a model snapshot (Generator/Snapshot/*.json).")
    var from: String

    @Option(help: "The newer kernel uapi header tree.")
    var to: String

    @Option(help: "A label for --from (default: the path).")
    var fromLabel: String?

    @Option(help: "A label for --to (default: the path).")
    var toLabel: String?

    func run() throws {
        do throws(GeneratorError) {
            let specs = try Specs.load(directory: common.specs, displayPrefix: common.specs)
            let arch = common.arches.first ?? hostArch()
            let parser = HeaderParser(resourceDirectory: common.resolvedResourceDirectory(), enforceRequired: false)
            func model(_ tree: String) throws(GeneratorError) -> ArchModel {
                if tree.hasSuffix(".json") {
                    guard let data = FileManager.default.contents(atPath: tree),
                          let model = try? JSONDecoder().decode(ArchModel.self, from: data) else {
                        throw GeneratorError("\(tree) is not a model snapshot written by sock-gen")
                    }
                    return model
                }
                let inputs = try HeaderInputs.load(resolvedFile: common.inputs, kernelOverride: tree, arches: [arch], hostArch: hostArch())
                return try parser.model(for: inputs.targets[0], specs: specs)
            }
            let diff = KernelDiff(from: try model(from), to: try model(to), fromLabel: fromLabel ?? from,
                                  toLabel: toLabel ?? to, specs: specs)
            print(diff.report(), terminator: "")
        } catch {
            throw fail(error)
        }
    }
}
