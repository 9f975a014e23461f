// lifecycle.cc: lifecycle.c built as C++, to prove kvmrun.h is usable
// from C++ (extern "C", no C-only constructs) and links.
#include <string>

#include "lifecycle.c"

static_assert(sizeof(kvmrun_outcome::message) > 0, "kvmrun.h in C++");
