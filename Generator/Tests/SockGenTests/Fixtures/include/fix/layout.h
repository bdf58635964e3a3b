/* Structures whose Swift mirrors need more than stored properties. */
#ifndef FIX_LAYOUT_H
#define FIX_LAYOUT_H

/* Bitfields: a and b share byte 0, c and d start byte 1 (unit: the int at 0). */
struct bits {
	unsigned char a:4, b:4;
	unsigned int c:1, d:2;
	unsigned int after;
};

/* The same bitfields without an aligned member: C aligns it to 4. */
struct bits_only {
	unsigned char a:4, b:4;
	unsigned int c:1, d:2;
};

/* A named union field (like in6_addr's __in6_u). */
struct u_named {
	unsigned int kind;
	union {
		unsigned char u8[16];
		unsigned short u16[8];
		unsigned int u32[4];
	} u;
};

/* An unnamed union member (like sock_extended_err's). */
struct u_anon {
	unsigned int code;
	union {
		unsigned int info;
		unsigned char raw[4];
	};
	unsigned char tail;
};

/* An anonymous structure member: its fields are the parent's. */
struct s_anon {
	unsigned short first;
	struct {
		unsigned short x;
		unsigned int y;
	};
	unsigned char last;
};

struct arrays {
	char name[16];
	unsigned short grid[2][3];
	unsigned int count;
};

struct al8 {
	unsigned long long value;
};

/* Like sctp_paddrparams: an 8-aligned member at offset 4. */
struct packed4 {
	unsigned int x;
	struct al8 s;
} __attribute__((packed, aligned(4)));

struct ptrs {
	struct al8 *next;
	void *data;
};

/* A _Bool bitfield. */
struct flags {
	_Bool on:1;
	unsigned char level:7;
	unsigned int after;
};

/* A nested structure without a tag: not supported. */
struct nested_anon {
	struct {
		int inner;
	} named_member;
};

/* A trailing flexible array member (io_uring_cqe's big_cqe[]). */
struct flex_tail {
	unsigned long long data;
	int res;
	unsigned int flags;
	unsigned long long extra[];
};

/* An anonymous union holding narrower scalars, anonymous structures and
 * flexible arrays, the shapes of io_uring_sqe and io_uring_buf_ring. */
struct u_parts {
	unsigned int head;
	union {
		unsigned long long wide;
		unsigned short narrow;
		struct {
			unsigned int low;
			unsigned int high;
		};
		unsigned char cmd[0];
	};
	union {
		struct {
			unsigned short pad;
			unsigned short tail;
		};
		struct {
			struct { } __empty_items;
			struct flex_tail items[];
		};
	};
};

#endif
