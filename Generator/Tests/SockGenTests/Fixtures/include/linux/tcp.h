/* The kernel's view of struct tcp_info (like linux/tcp.h). */
#ifndef FIX_LINUX_TCP_H
#define FIX_LINUX_TCP_H

#define TCP_INFO 11

struct tcp_info {
	unsigned char tcpi_state;
	unsigned int tcpi_rtt;
};

#endif
