// The libclang C API. Its directory is passed by the Makefile (-Xcc -I/usr/lib/llvm-N/include).
#include <clang-c/Index.h>
