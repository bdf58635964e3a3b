// conns-go: the Go echo server of `make bench-conns`: Go's net package (its
// netpoll, epoll underneath), a goroutine per connection, GOMAXPROCS=1 (set
// here and by the runner). A 4096-byte buffer per connection.
//
//	conns-go [--host 127.0.0.1] [--port N]
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"runtime"
)

func main() {
	host := flag.String("host", "127.0.0.1", "address to listen on")
	port := flag.Int("port", 0, "port (0: any)")
	flag.Parse()
	runtime.GOMAXPROCS(1)
	ln, err := net.Listen("tcp", fmt.Sprintf("%s:%d", *host, *port))
	if err != nil {
		fmt.Fprintln(os.Stderr, "conns-go:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "conns-go: listening on %s\n", ln.Addr())
	for {
		c, err := ln.Accept()
		if err != nil {
			continue // EMFILE and friends: go on serving the connections there are
		}
		go func(c net.Conn) {
			defer c.Close()
			buf := make([]byte, 4096)
			for {
				n, err := c.Read(buf)
				if n > 0 {
					if _, werr := c.Write(buf[:n]); werr != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}(c)
	}
}
