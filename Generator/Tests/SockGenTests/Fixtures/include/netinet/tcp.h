/* The C library's view of struct tcp_info (like glibc's netinet/tcp.h). */
#ifndef FIX_NETINET_TCP_H
#define FIX_NETINET_TCP_H

#define SOL_TCP 6

struct tcp_info {
	unsigned char tcpi_state;
};

#endif
