/* The "old kernel" of the kernel-diff test. */
#ifndef KD_H
#define KD_H

#define KD_SAME 1
#define KD_CHANGED 10
#define KD_REMOVED 3
#define KD_LEVEL 100
#define KD_OPT_OLD 5

struct kd_info {
	unsigned int a;
	unsigned int b;
};

#endif
