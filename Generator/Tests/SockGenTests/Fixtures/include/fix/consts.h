/* Macro cases for the constant evaluator. */
#ifndef FIX_CONSTS_H
#define FIX_CONSTS_H

#include <fix/ioctl.h>

struct fx_arg {
	unsigned int first;
	unsigned int second;
};

#define FX_CAST ((unsigned short)7)
#define FX_NEG (-22)
#define FX_NEG_LONG (-1L)
#define FX_ALL_ONES 0xffffffff
#define FX_ALL_ONES_64 0xffffffffffffffffULL
#define FX_SIZEOF sizeof(struct fx_arg)
#define FX_IO _IO('x', 3)
#define FX_IOW _IOW('x', 1, struct fx_arg)
#define FX_IOR _IOR('x', 2, struct fx_arg)

/* Redefined: the last definition is the value. */
#define FX_REDEF 1
#undef FX_REDEF
#define FX_REDEF 2

/* Defined, then removed: not a constant of the final state. */
#define FX_GONE 5
#undef FX_GONE

/* Not integer constants: listed in `skipped`. */
#define FX_STRING "not a number"
#define FX_TYPE unsigned int
#define FX_FLOAT 1.5
#define FX_EMPTY

/* Function-like: never a constant, not even skipped. */
#define FX_PLUS_ONE(x) ((x) + 1)

/* A level and an option for options.spec. */
#define FX_LEVEL 0x1234
#define FX_OPTION 7

#endif
