// The whole run: parse → model → merge → verify → emit, with progress.
import Foundation

public struct GenerationResult {
    public var files: [OutputFile]
    public var merged: MergedModel
    public var verifiedChecks: Int
}

public struct Pipeline {
    public var specs: Specs
    public var inputs: HeaderInputs
    public var parser: HeaderParser
    public var verifier: Verifier?
    public var supportTemplate: String
    public var progress: (String) -> Void

    public init(specs: Specs, inputs: HeaderInputs, parser: HeaderParser, verifier: Verifier?,
                supportTemplate: String, progress: @escaping (String) -> Void) {
        self.specs = specs
        self.inputs = inputs
        self.parser = parser
        self.verifier = verifier
        self.supportTemplate = supportTemplate
        self.progress = progress
    }

    public func run() throws(GeneratorError) -> GenerationResult {
        var models: [(TargetInputs, ArchModel)] = []
        for target in inputs.targets {
            let start = Date()
            let model = try parser.model(for: target, specs: specs)
            progress(String(format: "parse   %@: %d constants, %d structs (%.2fs)", target.arch,
                            model.constants.count, model.records.count, Date().timeIntervalSince(start)))
            if !model.skipped.isEmpty {
                progress("        \(target.arch): not integer constants, skipped: \(model.skipped.joined(separator: " "))")
            }
            if !model.missingRequired.isEmpty {
                progress("        \(target.arch): WARNING: these headers lack constants the specs require (older kernel?): \(model.missingRequired.joined(separator: " "))")
            }
            models.append((target, model))
        }
        let merged = MergedModel(models: models.map(\.1))
        progress("merge   \(merged.constants.count) constants (\(merged.sharedConstantCount) shared by every architecture), \(merged.records.count) structs")
        var checks = 0
        if let verifier {
            let start = Date()
            checks = try verifier.verify(models: models, specs: specs)
            progress(String(format: "verify  %d C static assertions passed on %d architectures (%.2fs)", checks, models.count, Date().timeIntervalSince(start)))
        } else {
            progress("verify  skipped (--no-verify)")
        }
        let emitter = Emitter(specs: specs, merged: merged, inputs: inputs.description, supportTemplate: supportTemplate)
        let files = try emitter.files()
        progress("emit    \(files.count) files, \(specs.options.count) option rows")
        return GenerationResult(files: files, merged: merged, verifiedChecks: checks)
    }
}
