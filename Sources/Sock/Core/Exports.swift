// `import Sock` gives the generated bindings too: constants, kernel
// structures and typed option accessors (module SockBindings).
@_exported import SockBindings
