// The header trees to read: from `.headers/resolved.env`, written by
// scripts/fetch-headers.sh, optionally with the kernel tree replaced by the
// user's (`make generate KERNEL_HEADERS=<dir>`).

/// Resolved header trees for every target.
public struct HeaderInputs: Sendable {
    public var targets: [TargetInputs]
    public var description: InputsDescription

    /// Reads a `resolved.env` file.
    ///
    /// - Parameters:
    ///   - kernelOverride: a kernel uapi tree to use instead of the pinned one;
    ///     only architectures whose `asm/` it provides are generated.
    ///   - arches: restricts the targets (empty: all).
    public static func load(resolvedFile path: String, kernelOverride: String?, arches: [String],
                            hostArch: String) throws(GeneratorError) -> HeaderInputs {
        guard let text = readTextFile(path) else {
            throw GeneratorError("\(path) is missing: run `make headers` (scripts/fetch-headers.sh) first")
        }
        var values: [String: String] = [:]
        var libcOrder: [String] = []
        for line in text.split(separator: "\n") {
            let trimmed = line.trimmingBlanks()
            guard !trimmed.hasPrefix("#"), let equals = trimmed.firstIndex(of: "=") else { continue }
            let key = String(trimmed[..<equals])
            var value = String(trimmed[trimmed.index(after: equals)...])
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            values[key] = value
            if key.hasPrefix("SOCKGEN_LIBC_") { libcOrder.append(String(key.dropFirst("SOCKGEN_LIBC_".count))) }
        }
        func need(_ key: String) throws(GeneratorError) -> String {
            guard let value = values[key], !value.isEmpty else { throw GeneratorError("\(path): \(key) is missing") }
            return value
        }
        var kernelDirectory = try need("SOCKGEN_KERNEL_INCLUDE")
        var kernelLabel = try need("SOCKGEN_KERNEL_PKG")
        if let kernelOverride {
            guard directoryExists(kernelOverride + "/linux") else {
                throw GeneratorError("KERNEL_HEADERS=\(kernelOverride) is not a kernel uapi header tree (no linux/ directory)")
            }
            kernelDirectory = kernelOverride
            kernelLabel = "kernel headers in \(kernelOverride)"
        }
        let sctpDirectory = try need("SOCKGEN_SCTP_INCLUDE")
        var targets: [TargetInputs] = []
        var libcDescriptions: [(arch: String, description: String)] = []
        for arch in libcOrder where arches.isEmpty || arches.contains(arch) {
            let parts = try need("SOCKGEN_LIBC_\(arch)").split(separator: " ").map(String.init)
            guard parts.count == 4 else {
                throw GeneratorError("\(path): SOCKGEN_LIBC_\(arch) must be 'package version triple include-dir'")
            }
            let triple = parts[2]
            var directories = [parts[3]]
            if directoryExists("\(kernelDirectory)/\(triple)/asm") {
                directories.append("\(kernelDirectory)/\(triple)")
            } else if !(directoryExists("\(kernelDirectory)/asm") && arch == hostArch) {
                if kernelOverride != nil { continue }   // this tree has no asm/ for that architecture
                throw GeneratorError("\(kernelDirectory) has no asm/ headers for \(triple)")
            }
            directories += [kernelDirectory, sctpDirectory]
            targets.append(TargetInputs(arch: arch, triple: triple, includeDirectories: directories))
            libcDescriptions.append((arch, "\(parts[0]) \(parts[1]) (\(triple))"))
        }
        guard !targets.isEmpty else {
            throw GeneratorError("no target architecture left to generate (requested: \(arches.isEmpty ? "all" : arches.joined(separator: ", ")))")
        }
        return HeaderInputs(targets: targets,
                            description: InputsDescription(kernel: kernelLabel, libc: libcDescriptions,
                                                           sctp: try need("SOCKGEN_SCTP_PKG")))
    }
}
