// IP multicast on any datagram descriptor: group membership (IPv4 by
// interface address or index, IPv6 by index) and the outgoing multicast
// options (TTL/hops, loop, interface, all), as methods of Descriptor over the
// generated option accessors. None allocates.
//
// Go → Swift:
//   JoinMulticast4(fd, group, ifAddr)      joinMulticastGroup(_: IPv4Address, interface:)
//   JoinMulticast4n(fd, group, ifindex)    joinMulticastGroup(_: IPv4Address, interfaceIndex:)
//   JoinMulticast6(fd, group, ifindex)     joinMulticastGroup(_: IPv6Address, interfaceIndex:)
//   LeaveMulticast4/4n/6                   leaveMulticastGroup(…) (same shapes)
//   Set/GetMulticastTTL                    setMulticastTTL(_:) / multicastTTL
//   Set/GetMulticastLoop                   setMulticastLoop(_:) / multicastLoop
//   SetMulticastInterface(fd, ifAddr)      setMulticastInterface(_: IPv4Address) / multicastInterface
//   SetMulticastInterfaceByIndex           setMulticastInterface(index:)
//   Set/GetMulticast6Hops                  setIPv6MulticastHops(_:) / ipv6MulticastHops
//   Set/GetMulticast6Loop                  setIPv6MulticastLoop(_:) / ipv6MulticastLoop
//   Set/GetMulticast6Interface             setIPv6MulticastInterface(index:) / ipv6MulticastInterface
//   SetMulticast6All                       setIPv6MulticastAll(_:) / ipv6MulticastAll
//   (IP_MULTICAST_ALL, not in Go)          setMulticastAll(_:) / multicastAll
import SockBindings

extension Descriptor {
    // MARK: IPv4 membership

    /// Joins the IPv4 multicast `group` on the interface that has the local
    /// address `interface` (`.any`: the kernel picks one by route). Go:
    /// `JoinMulticast4`.
    ///
    /// - Throws: ``SockError/invalidParameter`` when `group` is not a
    ///   multicast address; ``SockError/addressInUse`` when already joined;
    ///   ``SockError/Code/other`` with `ENODEV` when no interface has that
    ///   address.
    ///
    /// The corresponding C function is `setsockopt` (`IP_ADD_MEMBERSHIP`).
    public func joinMulticastGroup(_ group: IPv4Address, interface: IPv4Address = .any) throws(SockError) {
        var request = IPMreq()
        request.imr_multiaddr = group.inAddr
        request.imr_interface = interface.inAddr
        try socketOption { fd throws(SockErrno) in try SockBindings.setAddMembership(fd, request) }
    }

    /// Joins the IPv4 multicast `group` on the interface with index
    /// `interfaceIndex` (0: the kernel picks one by route). Go:
    /// `JoinMulticast4n`.
    ///
    /// The corresponding C function is `setsockopt` (`IP_ADD_MEMBERSHIP`
    /// with an `ip_mreqn`).
    public func joinMulticastGroup(_ group: IPv4Address, interfaceIndex: UInt32) throws(SockError) {
        var request = IPMreqn()
        request.imr_multiaddr = group.inAddr
        request.imr_ifindex = try optionInteger(interfaceIndex)
        try socketOption { fd throws(SockErrno) in try SockBindings.setAddMembershipByIndex(fd, request) }
    }

    /// Leaves an IPv4 multicast group joined with
    /// ``joinMulticastGroup(_:interface:)``. Go: `LeaveMulticast4`.
    ///
    /// - Throws: ``SockError/addressNotAvailable`` when the group was not
    ///   joined on that interface.
    ///
    /// The corresponding C function is `setsockopt` (`IP_DROP_MEMBERSHIP`).
    public func leaveMulticastGroup(_ group: IPv4Address, interface: IPv4Address = .any) throws(SockError) {
        var request = IPMreq()
        request.imr_multiaddr = group.inAddr
        request.imr_interface = interface.inAddr
        try socketOption { fd throws(SockErrno) in try SockBindings.setDropMembership(fd, request) }
    }

    /// Leaves an IPv4 multicast group joined with
    /// ``joinMulticastGroup(_:interfaceIndex:)``. Go: `LeaveMulticast4n`.
    ///
    /// The corresponding C function is `setsockopt` (`IP_DROP_MEMBERSHIP`
    /// with an `ip_mreqn`).
    public func leaveMulticastGroup(_ group: IPv4Address, interfaceIndex: UInt32) throws(SockError) {
        var request = IPMreqn()
        request.imr_multiaddr = group.inAddr
        request.imr_ifindex = try optionInteger(interfaceIndex)
        try socketOption { fd throws(SockErrno) in try SockBindings.setDropMembershipByIndex(fd, request) }
    }

    // MARK: IPv6 membership

    /// Joins the IPv6 multicast `group` on the interface with index
    /// `interfaceIndex` (0: the kernel picks one by route; link-local groups
    /// such as `ff02::…` need an explicit interface). Go: `JoinMulticast6`.
    ///
    /// The corresponding C function is `setsockopt` (`IPV6_ADD_MEMBERSHIP`).
    public func joinMulticastGroup(_ group: IPv6Address, interfaceIndex: UInt32 = 0) throws(SockError) {
        var request = IPv6Mreq()
        request.ipv6mr_multiaddr = group.in6Addr
        request.ipv6mr_interface = interfaceIndex
        try socketOption { fd throws(SockErrno) in try SockBindings.setAddMembership6(fd, request) }
    }

    /// Leaves an IPv6 multicast group. Go: `LeaveMulticast6`.
    ///
    /// The corresponding C function is `setsockopt` (`IPV6_DROP_MEMBERSHIP`).
    public func leaveMulticastGroup(_ group: IPv6Address, interfaceIndex: UInt32 = 0) throws(SockError) {
        var request = IPv6Mreq()
        request.ipv6mr_multiaddr = group.in6Addr
        request.ipv6mr_interface = interfaceIndex
        try socketOption { fd throws(SockErrno) in try SockBindings.setDropMembership6(fd, request) }
    }

    // MARK: IPv4 sending options

    /// The time-to-live of outgoing IPv4 multicast datagrams (default 1:
    /// the local network only). Go: `GetMulticastTTL`.
    ///
    /// The corresponding C function is `getsockopt` (`IP_MULTICAST_TTL`).
    public var multicastTTL: Int {
        get throws(SockError) { Int(try socketOption { fd throws(SockErrno) in try SockBindings.getMulticastTTL(fd) }) }
    }

    /// Sets the time-to-live of outgoing IPv4 multicast datagrams (0...255).
    /// Go: `SetMulticastTTL`.
    ///
    /// - Throws: ``SockError/invalidParameter`` outside 0...255.
    ///
    /// The corresponding C function is `setsockopt` (`IP_MULTICAST_TTL`).
    public func setMulticastTTL(_ ttl: Int) throws(SockError) {
        guard (0 ... 255).contains(ttl) else { throw .invalidParameter }
        try socketOption { fd throws(SockErrno) in try SockBindings.setMulticastTTL(fd, CInt(ttl)) }
    }

    /// Whether outgoing IPv4 multicast datagrams are looped back to local
    /// sockets that joined the group (default on). Go: `GetMulticastLoop`.
    ///
    /// The corresponding C function is `getsockopt` (`IP_MULTICAST_LOOP`).
    public var multicastLoop: Bool {
        get throws(SockError) { try socketOption { fd throws(SockErrno) in try SockBindings.getMulticastLoop(fd) } }
    }

    /// Sets whether outgoing IPv4 multicast datagrams are looped back to
    /// local members. Go: `SetMulticastLoop`.
    ///
    /// The corresponding C function is `setsockopt` (`IP_MULTICAST_LOOP`).
    public func setMulticastLoop(_ enabled: Bool) throws(SockError) {
        try socketOption { fd throws(SockErrno) in try SockBindings.setMulticastLoop(fd, enabled) }
    }

    /// The local address of the interface for outgoing IPv4 multicast
    /// datagrams (`.any`: chosen by route). An interface chosen by index
    /// reads back as `.any`.
    ///
    /// The corresponding C function is `getsockopt` (`IP_MULTICAST_IF`).
    public var multicastInterface: IPv4Address {
        get throws(SockError) {
            var address = InAddr()
            _ = try socketOption { fd throws(SockErrno) in try SockBindings.getMulticastInterface(fd, into: &address) }
            return IPv4Address(address)
        }
    }

    /// Sends IPv4 multicast datagrams from the interface with the local
    /// address `interface` (`.any`: by route). Go: `SetMulticastInterface`.
    ///
    /// The corresponding C function is `setsockopt` (`IP_MULTICAST_IF`).
    public func setMulticastInterface(_ interface: IPv4Address) throws(SockError) {
        try socketOption { fd throws(SockErrno) in try SockBindings.setMulticastInterface(fd, interface.inAddr) }
    }

    /// Sends IPv4 multicast datagrams from the interface with index `index`
    /// (0: by route). Go: `SetMulticastInterfaceByIndex`.
    ///
    /// The corresponding C function is `setsockopt` (`IP_MULTICAST_IF` with
    /// an `ip_mreqn`).
    public func setMulticastInterface(index: UInt32) throws(SockError) {
        var request = IPMreqn()
        request.imr_ifindex = try optionInteger(index)
        try socketOption { fd throws(SockErrno) in try SockBindings.setMulticastInterfaceByIndex(fd, request) }
    }

    /// Whether the socket receives IPv4 multicast datagrams of every group
    /// joined by any socket on the system (`IP_MULTICAST_ALL`, the Linux
    /// default) rather than only those it joined itself.
    ///
    /// The corresponding C function is `getsockopt` (`IP_MULTICAST_ALL`).
    public var multicastAll: Bool {
        get throws(SockError) { try socketOption { fd throws(SockErrno) in try SockBindings.getMulticastAll(fd) } }
    }

    /// Sets `IP_MULTICAST_ALL`; turn it off so a socket bound to a wildcard
    /// address receives only the groups it joined.
    ///
    /// The corresponding C function is `setsockopt` (`IP_MULTICAST_ALL`).
    public func setMulticastAll(_ enabled: Bool) throws(SockError) {
        try socketOption { fd throws(SockErrno) in try SockBindings.setMulticastAll(fd, enabled) }
    }

    // MARK: IPv6 sending options

    /// The hop limit of outgoing IPv6 multicast datagrams (default 1). Go:
    /// `GetMulticast6Hops`.
    ///
    /// The corresponding C function is `getsockopt` (`IPV6_MULTICAST_HOPS`).
    public var ipv6MulticastHops: Int {
        get throws(SockError) { Int(try socketOption { fd throws(SockErrno) in try SockBindings.getMulticast6Hops(fd) }) }
    }

    /// Sets the hop limit of outgoing IPv6 multicast datagrams (0...255, or
    /// -1 for the default of 1). Go: `SetMulticast6Hops`.
    ///
    /// - Throws: ``SockError/invalidParameter`` outside -1...255.
    ///
    /// The corresponding C function is `setsockopt` (`IPV6_MULTICAST_HOPS`).
    public func setIPv6MulticastHops(_ hops: Int) throws(SockError) {
        guard (-1 ... 255).contains(hops) else { throw .invalidParameter }
        try socketOption { fd throws(SockErrno) in try SockBindings.setMulticast6Hops(fd, CInt(hops)) }
    }

    /// Whether outgoing IPv6 multicast datagrams are looped back to local
    /// members (default on). Go: `GetMulticast6Loop`.
    ///
    /// The corresponding C function is `getsockopt` (`IPV6_MULTICAST_LOOP`).
    public var ipv6MulticastLoop: Bool {
        get throws(SockError) { try socketOption { fd throws(SockErrno) in try SockBindings.getMulticast6Loop(fd) } }
    }

    /// Sets whether outgoing IPv6 multicast datagrams are looped back to
    /// local members. Go: `SetMulticast6Loop`.
    ///
    /// The corresponding C function is `setsockopt` (`IPV6_MULTICAST_LOOP`).
    public func setIPv6MulticastLoop(_ enabled: Bool) throws(SockError) {
        try socketOption { fd throws(SockErrno) in try SockBindings.setMulticast6Loop(fd, enabled) }
    }

    /// The index of the interface for outgoing IPv6 multicast datagrams (0:
    /// by route). Go: `GetMulticast6Interface`.
    ///
    /// The corresponding C function is `getsockopt` (`IPV6_MULTICAST_IF`).
    public var ipv6MulticastInterface: UInt32 {
        get throws(SockError) {
            UInt32(bitPattern: try socketOption { fd throws(SockErrno) in try SockBindings.getMulticast6Interface(fd) })
        }
    }

    /// Sends IPv6 multicast datagrams from the interface with index `index`
    /// (0: by route). Go: `SetMulticast6Interface`.
    ///
    /// The corresponding C function is `setsockopt` (`IPV6_MULTICAST_IF`).
    public func setIPv6MulticastInterface(index: UInt32) throws(SockError) {
        try socketOption { fd throws(SockErrno) in try SockBindings.setMulticast6Interface(fd, CInt(bitPattern: index)) }
    }

    /// Whether the socket receives IPv6 multicast datagrams of every group
    /// joined on the system (`IPV6_MULTICAST_ALL`, Linux 4.20+, default on).
    ///
    /// The corresponding C function is `getsockopt` (`IPV6_MULTICAST_ALL`).
    public var ipv6MulticastAll: Bool {
        get throws(SockError) { try socketOption { fd throws(SockErrno) in try SockBindings.getMulticast6All(fd) } }
    }

    /// Sets `IPV6_MULTICAST_ALL`; off: only the groups this socket joined.
    /// Go: `SetMulticast6All`.
    ///
    /// The corresponding C function is `setsockopt` (`IPV6_MULTICAST_ALL`).
    public func setIPv6MulticastAll(_ enabled: Bool) throws(SockError) {
        try socketOption { fd throws(SockErrno) in try SockBindings.setMulticast6All(fd, enabled) }
    }
}
