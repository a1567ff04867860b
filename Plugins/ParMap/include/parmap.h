/*
 * parmap.h — the "parmap" task kind: a crash-isolated parallel map of any C function over a
 * stream of text inputs, called through libffi on persistent workers.
 *
 * Nothing here is needed to use the plugin (the host only dlopens libParMap.so); this header
 * documents the command line and the formats. The README's ParMap section says the same for users.
 *
 * ---------------------------------------------------------------------------------------------
 * Arguments (after the plugin name):
 *
 *   parmap --library LIB --symbol NAME --signature 'RET(ARG, ...)'
 *          [--input FILE] [--output FILE] [--ordered | --unordered] [--chunk N] [--stats]
 *
 *   LIB        a path (made absolute, so workers do not depend on the directory) or a soname
 *              such as libm.so.6, opened with dlopen.
 *   SIGNATURE  RET and ARG among void, int8, int16, int32, int64, uint8, uint16, uint32, uint64,
 *              float, double, bool, string, bytes. `T()` or `T(void)` takes no argument.
 *              `bytes` is an argument only: it passes two C arguments (const uint8_t *, size_t).
 *   --input    one item per line, arguments separated by tabs (default: standard input).
 *   --output   one line per item (default: standard output). An output that is the same file
 *              (device and inode, after symlinks) as the input or the library is refused before
 *              anything is written (a usage error, exit 2); a regular file is truncated only
 *              after that check.
 *   --ordered  outputs in input order (the default); --unordered writes each chunk's lines as soon
 *              as the chunk is done (lines inside a chunk stay in order).
 *   --chunk N  N items per chunk, fixed; without it the size adapts to about 5 ms of work.
 *   --stats    adds counters to the report (requests to fresh / old workers and their bytes as the
 *              workers received them, splits, peak outstanding chunks, peak master memory).
 *
 * Library, symbol and signature are checked in master_open: a problem is a usage error (exit 2).
 *
 * ---------------------------------------------------------------------------------------------
 * Text formats, one field per argument:
 *
 *   intN, uintN   decimal, optional sign for intN; out of range is an error
 *   float, double parsed as strtof / strtod do (decimal, hex floats, inf, nan). A double is
 *                 printed with the shortest digits Grisu2 finds (nearly always the shortest)
 *                 that read back to the same double, laid out like %g (1e+300, 0.1, 12.5);
 *                 a float with %.9g. Both round-trip exactly.
 *   bool          true / false / 1 / 0; printed true / false
 *   string        the field's bytes (no escapes in input); a field holding a NUL byte is an
 *                 error (the function would see it cut short). A returned string is written with
 *                 \\ \n \t \r escaped, every other byte below 0x20 and 0x7f as \xNN, the C1
 *                 controls U+0080-U+009F as the \xNN of their two bytes, and every byte that is
 *                 not part of valid UTF-8 as \xNN; valid UTF-8 from U+00A0 on is kept as it is.
 *                 So the output never carries a terminal control sequence. A NULL return
 *                 prints #null. Input text echoed in error markers is escaped the same way.
 *   bytes         hexadecimal, two digits per byte (empty field: zero bytes)
 *   void result   an empty line
 * A trailing '\r' on an input line is ignored. The last line may lack its '\n'.
 *
 * Error markers (the item's output line; the run goes on, the exit status becomes 1):
 *   #error: line N: expected K fields, got M
 *   #error: line N: field K (TYPE): WHY: 'TEXT'
 *   #error: line N: SIGSEGV              the function killed the worker with this signal
 *   #error: line N: timeout              the worker ran past --timeout on this item
 *   #error: line N: exit STATUS          the function exited the worker process
 *   #error: line N: not run: REASON      cancelled, or no worker could be started
 *   #error: line N: not run: request of B bytes exceeds the frame limit of L (the line is K bytes)
 *                                        a line too large for a request; a chunk that cannot be
 *                                        marshalled is bisected like one whose worker died, so
 *                                        only such lines fail
 *
 * ---------------------------------------------------------------------------------------------
 * Wire formats (little-endian):
 *
 *   task      u64 first_line | u32 n_lines | chunk bytes (whole lines of raw input)
 *   request   u8 'F' or 'O' | u8[3] 0 | u64 digest | u64 first_line | [F only: u32 lib_len,
 *             u32 sym_len, u32 sig_len, lib, sym, sig] | chunk bytes
 *             'O' (to an Old worker) is 20 bytes of header and the chunk: no library, symbol
 *             or signature.
 *   response  u32 n_items | u32 n_errors | u64 elapsed_ns | u64 request_len | u32 chunk_len |
 *             u8 had_setup | u8[3] 0 | u32 out_len | u32 0 | output lines | n_errors ×
 *             (u64 line, u32 len, message). request_len and chunk_len are what the worker
 *             received (for --stats); elapsed_ns sizes the next adaptive chunks.
 *   competence  "parmap:" + 16 hex digits of the digest (FNV-1a 64 of lib, symbol, signature)
 */
#ifndef PARMAP_H
#define PARMAP_H

#include <stdint.h>

#include "plugin_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PARMAP_PLUGIN_NAME "parmap"
#define PARMAP_PLUGIN_VERSION "1.0.0"

/** The entry point (PH_ENTRY_SYMBOL); see ph_entry_fn. */
__attribute__((visibility("default"))) int32_t plugin_host_entry(uint32_t host_abi_major,
                                                                  uint32_t host_abi_minor,
                                                                  ph_plugin_descriptor *out);

#ifdef __cplusplus
}
#endif

#endif /* PARMAP_H */
