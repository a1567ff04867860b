/* pm_entry.c — the descriptor of the parmap task kind. */
#include "include/parmap.h"
#include "pm_internal.h"

static const char USAGE[] =
    "parmap --library LIB --symbol NAME --signature 'RET(ARG, ...)'\n"
    "       [--input FILE] [--output FILE] [--ordered | --unordered] [--chunk N] [--stats]\n"
    "Calls the C function NAME of LIB (a path or a soname such as libm.so.6) once per input\n"
    "line, through libffi, on persistent workers. Types: void int8 int16 int32 int64 uint8\n"
    "uint16 uint32 uint64 float double bool string bytes (bytes: an argument only, written in\n"
    "hex, passed as a pointer and a size_t). One item per line, arguments separated by tabs;\n"
    "one output line per item, in input order unless --unordered. A failed item's line is\n"
    "'#error: line N: CAUSE' (a bad field, or the signal that killed the worker: the chunk is\n"
    "split until the item is isolated); the exit status is then 1. --chunk N fixes the number\n"
    "of items per chunk (default: adaptive, about 5 ms of work). --stats adds counters to the\n"
    "report. The report goes to stderr when the output is stdout.";

int32_t plugin_host_entry(uint32_t host_abi_major, uint32_t host_abi_minor,
                          ph_plugin_descriptor *d) {
    (void)host_abi_minor; /* any 2.x host: the structs are frozen, extensions are looked up */
    *d = (ph_plugin_descriptor){
        .abi_major = PH_ABI_VERSION_MAJOR,
        .abi_minor = PH_ABI_VERSION_MINOR,
        .name = PARMAP_PLUGIN_NAME,
        .version = PARMAP_PLUGIN_VERSION,
        .description = "Parallel map of a C function over lines of input, crash-isolated, via libffi",
        .usage = USAGE,
        .default_policy = PH_POLICY_PERSISTENT,
    };
    pm_fill_master(d);
    pm_fill_worker(d);
    return host_abi_major == PH_ABI_VERSION_MAJOR ? 0 : 1;
}
