// IP multicast group membership on any datagram descriptor (IPv4 by
// interface address or index, IPv6 by index): semantic operations built from
// the generated keys (`.addMembership`, `.ipv6AddMembership`, …), which take
// a request structure. The outgoing multicast options are plain keys
// (`.multicastTimeToLive`, `.multicastLoop`, `.multicastInterface`,
// `.multicastHopLimit`, `.ipv6MulticastLoop`, `.multicastInterfaceIndex`, …)
// used with `setOption(_:to:)`. None allocates.
//
// Go → Swift:
//   JoinMulticast4(fd, group, ifAddr)      joinMulticastGroup(_: IPv4Address, interface:)
//   JoinMulticast4n(fd, group, ifindex)    joinMulticastGroup(_: IPv4Address, interfaceIndex:)
//   JoinMulticast6(fd, group, ifindex)     joinMulticastGroup(_: IPv6Address, interfaceIndex:)
//   LeaveMulticast4/4n/6                   leaveMulticastGroup(…) (same shapes)
//   Set/GetMulticastTTL                    the key .multicastTimeToLive
//   Set/GetMulticastLoop                   the key .multicastLoop
//   SetMulticastInterface(fd, ifAddr)      the key .multicastInterface (an InAddr)
//   SetMulticastInterfaceByIndex           the key .multicastInterfaceByIndex (an IPMreqn)
//   Set/GetMulticast6Hops                  the key .multicastHopLimit
//   Set/GetMulticast6Loop                  the key .ipv6MulticastLoop
//   Set/GetMulticast6Interface             the key .multicastInterfaceIndex
//   SetMulticast6All                       the key .ipv6MulticastAllGroups
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
        try setOption(.addMembership, to: request)
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
        guard let index = CInt(exactly: interfaceIndex) else { throw .invalidParameter }
        request.imr_ifindex = index
        try setOption(.addMembershipByIndex, to: request)
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
        try setOption(.dropMembership, to: request)
    }

    /// Leaves an IPv4 multicast group joined with
    /// ``joinMulticastGroup(_:interfaceIndex:)-(IPv4Address,_)``. Go: `LeaveMulticast4n`.
    ///
    /// The corresponding C function is `setsockopt` (`IP_DROP_MEMBERSHIP`
    /// with an `ip_mreqn`).
    public func leaveMulticastGroup(_ group: IPv4Address, interfaceIndex: UInt32) throws(SockError) {
        var request = IPMreqn()
        request.imr_multiaddr = group.inAddr
        guard let index = CInt(exactly: interfaceIndex) else { throw .invalidParameter }
        request.imr_ifindex = index
        try setOption(.dropMembershipByIndex, to: request)
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
        try setOption(.ipv6AddMembership, to: request)
    }

    /// Leaves an IPv6 multicast group. Go: `LeaveMulticast6`.
    ///
    /// The corresponding C function is `setsockopt` (`IPV6_DROP_MEMBERSHIP`).
    public func leaveMulticastGroup(_ group: IPv6Address, interfaceIndex: UInt32 = 0) throws(SockError) {
        var request = IPv6Mreq()
        request.ipv6mr_multiaddr = group.in6Addr
        request.ipv6mr_interface = interfaceIndex
        try setOption(.ipv6DropMembership, to: request)
    }
}
