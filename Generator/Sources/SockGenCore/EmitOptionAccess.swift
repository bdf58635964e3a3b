// Stage 4, option access: `Sources/Sock/Generated/SocketOptionAccess.swift`,
// the get/set methods of every option scope on the type that carries it
// (`carrier` lines of options.spec). Swift cannot say "a socket whose kind
// accepts Scope" generically, so each scope has its own overloads; they are
// emitted from the scope table instead of being written once per scope.

extension Emitter {
    /// One extension per carrier line, in `OptionScope.allCases` order; the
    /// doc comments name the scope and show keys of the scope's own rows.
    func renderOptionAccess() -> String {
        var out = "\n// Get and set per option scope, one extension per `carrier` line of\n"
        out += "// specs/options.spec. Each method forwards to the `Descriptor` method of any\n"
        out += "// scope (Options/SocketOption.swift); the overloads restrict which sockets\n"
        out += "// accept which keys.\n"
        for carrier in specs.carriers {
            out += renderScopeAccess(carrier)
        }
        return out
    }

    func renderScopeAccess(_ carrier: ScopeCarrier) -> String {
        let scope = carrier.scope
        let name = scope.docName
        let keyType = "OptionScope.\(scope.rawValue)"
        let rows = specs.options.filter { $0.scope == scope }.sorted { $0.swiftName < $1.swiftName }
        let example = rows.first { $0.swiftName == carrier.example }
        /// The first readable key of the scope whose type matches, as "(such as `.name`) ".
        func suchAs(_ matches: (OptionType) -> Bool) -> String {
            rows.first { $0.access.contains(.get) && matches($0.type) }.map { "(such as `.\($0.swiftName)`) " } ?? ""
        }
        let structExample = suchAs { $0.structName != nil }
        let stringExample = suchAs { $0 == .string }
        var setExample = ""
        if let example, example.type == .bool, example.access.contains(.set) {
            setExample = ", such as\n    /// `try socket.setOption(.\(example.swiftName), to: true)`"
        }

        var out = "\nextension \(carrier.type) {\n"
        out += "    /// Reads the \(name) option `key`, such as `try socket.option(.\(carrier.example))`.\n"
        out += "    ///\n"
        out += "    /// - Throws: The kernel's error mapped to ``SockError``;\n"
        out += "    ///   ``SockError/closed`` after close.\n"
        out += "    ///\n"
        out += "    /// The corresponding C function is `getsockopt`.\n"
        out += "    @inlinable\n"
        out += "    public func option<Value, Access: ReadableOptionAccess>(\n"
        out += "        _ key: SocketOption<\(keyType), Value, Access>\n"
        out += "    ) throws(SockError) -> Value {\n"
        out += "        try descriptor.option(key)\n"
        out += "    }\n\n"

        out += "    /// Sets the \(name) option `key` to `value`\(setExample).\n"
        out += "    ///\n"
        out += "    /// - Throws: ``SockError/invalidParameter`` for a value the option's unit\n"
        out += "    ///   cannot express (nothing is written); the kernel's error mapped to\n"
        out += "    ///   ``SockError``; ``SockError/closed`` after close.\n"
        out += "    ///\n"
        out += "    /// The corresponding C function is `setsockopt`.\n"
        out += "    @inlinable\n"
        out += "    public func setOption<Value, Access: WritableOptionAccess>(\n"
        out += "        _ key: SocketOption<\(keyType), Value, Access>, to value: Value\n"
        out += "    ) throws(SockError) {\n"
        out += "        try descriptor.setOption(key, to: value)\n"
        out += "    }\n\n"

        out += "    /// Reads the structure-valued \(name) option `key` \(structExample)into `value`\n"
        out += "    /// and returns how many bytes the kernel filled (a kernel older than the\n"
        out += "    /// bindings' headers fills fewer; the rest keeps its previous contents).\n"
        out += "    ///\n"
        out += "    /// The corresponding C function is `getsockopt`.\n"
        out += "    @inlinable @discardableResult\n"
        out += "    public func option<Value: SocketOptionStruct, Access: ReadableOptionAccess>(\n"
        out += "        _ key: SocketOption<\(keyType), Value, Access>, into value: inout Value\n"
        out += "    ) throws(SockError) -> Int {\n"
        out += "        try descriptor.option(key, into: &value)\n"
        out += "    }\n\n"

        out += "    /// Reads the string-valued \(name) option `key` \(stringExample)into `buffer`\n"
        out += "    /// without allocating; returns its length in bytes.\n"
        out += "    ///\n"
        out += "    /// The corresponding C function is `getsockopt`.\n"
        out += "    @inlinable\n"
        out += "    public func option<Access: ReadableOptionAccess>(\n"
        out += "        _ key: SocketOption<\(keyType), String, Access>, into buffer: UnsafeMutableRawBufferPointer\n"
        out += "    ) throws(SockError) -> Int {\n"
        out += "        try descriptor.option(key, into: buffer)\n"
        out += "    }\n"
        out += "}\n"
        return out
    }
}
