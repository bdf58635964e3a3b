// What TCPDialer and SCTPDialer share, written once: a dial through a new
// socket (create, bind the local address if any, connect; the socket is
// closed when a step fails) and the family dispatch of an `AnySocketAddress`
// pair.

/// An IP socket the dialers dial through: ``TCPSocket`` (for ``TCPDialer``)
/// and ``SCTPSocket`` (for ``SCTPDialer``).
internal protocol DialingSocket: Socket {
    /// The connection a connect returns.
    associatedtype Connection

    /// A new socket of `family` (`AF_INET` or `AF_INET6`) with the defaults
    /// its dialer gives.
    static func forDialing(family: CInt) throws(SockError) -> Self

    /// Binds to a local address (the socket type's own `bind(to:)`).
    func bind(to address: some SocketAddress) throws(SockError)

    /// Connects, closing the socket on failure (the socket type's own
    /// `connect(to:timeout:)`).
    func connect<Address: SocketAddress>(to remote: Address, timeout: Duration?) throws(SockError) -> Connection
}

extension DialingSocket {
    /// Dials `remote` through a new socket of its family: binds `local`
    /// first when given, then connects with `timeout` (see
    /// `connect(to:timeout:)`). The socket is closed when either fails.
    static func dial<Address: IPSocketAddress>(
        to remote: Address, from local: Address?, timeout: Duration?
    ) throws(SockError) -> Connection {
        let socket = try forDialing(family: Address.family)
        if let local {
            try socket.descriptor.closingOnError { () throws(SockError) in try socket.bind(to: local) }
        }
        return try socket.connect(to: remote, timeout: timeout)
    }

    /// Dials an IPv4 or IPv6 address, the family following `remote`.
    ///
    /// - Throws: ``SockError/addressFamilyNotSupported`` for a Unix address
    ///   or a `local` address of another family; otherwise as the typed
    ///   dial above.
    static func dial(
        to remote: AnySocketAddress, from local: AnySocketAddress?, timeout: Duration?
    ) throws(SockError) -> Connection {
        switch (remote, local) {
        case (.inet4(let remote), nil): try dial(to: remote, from: nil, timeout: timeout)
        case (.inet4(let remote), .inet4(let local)?): try dial(to: remote, from: local, timeout: timeout)
        case (.inet6(let remote), nil): try dial(to: remote, from: nil, timeout: timeout)
        case (.inet6(let remote), .inet6(let local)?): try dial(to: remote, from: local, timeout: timeout)
        default: throw .addressFamilyNotSupported
        }
    }
}

extension TCPSocket: DialingSocket {
    static func forDialing(family: CInt) throws(SockError) -> TCPSocket {
        try TCPSocket(family: family)
    }
}

extension SCTPSocket: DialingSocket {
    /// A one-to-one socket: the style of every ``SCTPConn`` a dialer makes.
    static func forDialing(family: CInt) throws(SockError) -> SCTPSocket {
        try SCTPSocket(family: family, style: .oneToOne)
    }
}
