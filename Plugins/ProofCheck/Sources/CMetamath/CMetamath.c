// CMetamath is header-only (see include/CMetamath.h); SwiftPM needs one source file.
#include "CMetamath.h"
