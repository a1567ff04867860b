/* fixture_support.h — what the test fixture plugins share (not part of the ABI). */
#ifndef FIXTURE_SUPPORT_H
#define FIXTURE_SUPPORT_H
#include <sys/types.h>

/* The master's pid, seen from a worker: its parent, or its parent's parent when a fork server
 * forked the worker (the parent's command line says --fork-server). */
pid_t fixture_master_pid(void);

#endif
