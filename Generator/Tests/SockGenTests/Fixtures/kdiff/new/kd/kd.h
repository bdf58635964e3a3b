/* The "new kernel" of the kernel-diff test: KD_CHANGED changed, KD_ADDED and
   KD_OPT_NEW added, KD_REMOVED removed, struct kd_info grew from 8 to 12
   bytes with a new field and a new bitfield. */
#ifndef KD_H
#define KD_H

#define KD_SAME 1
#define KD_CHANGED 11
#define KD_ADDED 0x40
#define KD_LEVEL 100
#define KD_OPT_OLD 5
#define KD_OPT_NEW 9

struct kd_info {
	unsigned int a;
	unsigned int b;
	unsigned short c;
	unsigned short fresh:1;
};

#endif
