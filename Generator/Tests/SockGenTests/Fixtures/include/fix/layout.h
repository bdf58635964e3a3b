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

#endif
