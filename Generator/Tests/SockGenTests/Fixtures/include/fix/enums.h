/* Enumerators, plain and mirrored by `#define X X` (as linux/in.h does). */
#ifndef FIX_ENUMS_H
#define FIX_ENUMS_H

enum fx_color {
	COLOR_RED,
	COLOR_GREEN = 5,
	COLOR_BLUE,
	COLOR_MINUS = -3,
};

enum {
	TCPS_ESTABLISHED = 1,
#define TCPS_ESTABLISHED TCPS_ESTABLISHED
	TCPS_SYN_SENT,
#define TCPS_SYN_SENT TCPS_SYN_SENT
	TCPS_CLOSE = 7
#define TCPS_CLOSE TCPS_CLOSE
};

#endif
