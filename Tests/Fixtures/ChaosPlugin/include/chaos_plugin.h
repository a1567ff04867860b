/*
 * chaos_plugin.h — the "chaos" fault-injection task kind used by PluginHost's tests.
 *
 * The plugin is a shared library (libChaosPlugin.so) that exports PH_ENTRY_SYMBOL. Each task
 * names one action the worker performs: answer, crash, hang, leak, print, stream feedback,
 * ask for a follow-up pinned to itself, and so on. Nothing here is needed to *use* the plugin
 * (the host only dlopens it); this header documents the task grammar for test authors.
 *
 * ---------------------------------------------------------------------------------------------
 * Arguments (after the plugin name):
 *
 *   chaos [--file PATH]... [--repeat N] [--pull] [--] TASK...
 *
 *   TASK            one task spec (grammar below); specs and --file lists are queued in the
 *                   order they appear on the command line.
 *   --file PATH     read specs from PATH, one per line. Leading and trailing blanks are trimmed;
 *                   blank lines and lines starting with '#' are skipped. A bad line is reported
 *                   as `PATH:LINE: <problem>`, e.g. `x.txt:3: unknown chaos action 'xyz'`.
 *   --repeat N      queue the whole list N times (N >= 0; default 1).
 *   --pull          do not push every task in master_open: hand them out lazily through the
 *                   `pull(max)` callback (at most `max` per call; returns 0 once exhausted).
 *   --              everything after is a TASK even if it starts with '-'.
 *   --file=PATH and --repeat=N are accepted too. No task at all is a valid (empty) run.
 *
 * ---------------------------------------------------------------------------------------------
 * Task spec grammar:
 *
 *   TASK     := [ '!' PRIO ' '+ ] [ '@' TIMEOUT ' '+ ] ACTION [ ':' ARG ]
 *   PRIO     := int32, decimal, may be negative; lower runs first (default 0)
 *   TIMEOUT  := uint32 milliseconds passed to push_task (default 0 = the run's default)
 *   ARG      := everything after the first ':' (may contain ':', '@', '|', blanks)
 *
 *   e.g.  "echo:hi"   "!-5 @200 sleep:1000"   "@50 hang"   "feedback:3"   "stay:warm"
 *
 * Actions are validated in master_open. ARG kinds: N = decimal unsigned number.
 *
 *   echo[:TEXT]        worker responds TEXT (default "ok"). The fast path used by benchmarks.
 *   segv               worker dies with a real SIGSEGV.
 *   abort              worker calls abort() (SIGABRT).
 *   exit:N             worker calls _exit(N), 0 <= N <= 255.
 *   noisy-death        worker writes "chaos: last words 1".."3" to stderr, then abort().
 *   hang               worker loops forever, ignoring should_stop (only a kill ends it).
 *   sleep:N            worker sleeps N ms in 1 ms steps, polling should_stop; responds
 *                      "stopped" when asked to stop, else "slept N".
 *   garbage            worker writes 64 bytes of 0xFF to the fd named by the environment
 *                      variable PLUGIN_HOST_PROTOCOL_FD (its response stream), then sleeps
 *                      forever; responds "no protocol fd" when the variable is unset or bad.
 *   stdout[:TEXT]      worker printf's TEXT + '\n' to stdout, fflush'es, responds "printed".
 *   printf[:TEXT]      worker printf's TEXT + '\n' to stdout without fflush (as a plugin author
 *                      would), responds "printed".
 *   spew:N             worker writes N KiB to stderr in 64-byte lines ("chaos: spew line
 *                      0000000000 ....", numbered from 0), then "chaos: spewed N KiB" to stdout;
 *                      responds "spewed N". For per-task output (--results).
 *   leak:N             worker mallocs N MiB, touches every page, never frees; "leaked N".
 *   feedback:N         worker sends feedback "fb1".."fbN" then responds "sent N by WORKER"
 *                      (WORKER = its worker name, so the master can find what it forwarded).
 *                      The master resolves DONE "feedback N in order", else FAILED with what
 *                      arrived.
 *   followup:K         K >= 1. Worker responds "failed-at K"; the master stays the worker as
 *                      Old("held:PID") and pushes the follow-up "state:(K-1)@PID" (priority -1).
 *   followup-die:K     same, but the follow-up is "state-die:(K-1)@PID".
 *   state:K@P          (normally only pushed by followup) matches only an Old worker whose
 *                      competence is exactly "held:P"; worker responds "state K"; the master
 *                      resolves DONE with the response (FAILED if it ran on another pid) and
 *                      lets the worker end.
 *   state-die:K@P      same matching; the worker dies with SIGSEGV.
 *   crash-once:PATH    worker creates PATH (O_EXCL) and dies with SIGSEGV if PATH did not
 *                      exist; otherwise responds "survived". Use a fresh PATH per test.
 *   kill-master:PATH   as crash-once, but the worker kills its parent (the master, spawned
 *                      workers only) with SIGKILL instead of dying: a master killed mid-run.
 *   badresp            worker calls ctx->fail("chaos: cannot decode request") (marshal error).
 *   wait:PATH          worker reads PATH (a FIFO) to its end, then responds "waited": the task
 *                      runs until the test opens the FIFO's write end and closes it.
 *   taskfail[:MSG]     worker calls fail_task(ctx, MSG) of "ph.task-failure/1" (default MSG
 *                      "chaos: task failed") and returns 0 without responding: the task fails
 *                      with MSG, the worker is kept as it was, use_response is not called.
 *   death-local        worker dies with SIGSEGV; when the host gives up (on_task_lost with
 *                      will_retry == 0) the master resolves DONE "ran in master after loss".
 *   stay:COMP          the master keeps the worker as Old(COMP) even under one-shot policy.
 *                      COMP must be non-empty and must not contain '|'.
 *   fail[:MSG]         the master resolves FAILED with MSG (default "chaos: failed").
 *   broadcast[:TEXT]   after the response the master broadcasts TEXT to every live worker.
 *   lastbroadcast      worker responds with the last broadcast it received, or "none".
 *   obsolete           request_of_task returns PH_REQUEST_OBSOLETE (outcome: skipped).
 *   marshal            request_of_task reports "chaos: cannot encode request" (task fails).
 *   marshal-local      same, but on_marshal_error resolves DONE "ran in master: <message>".
 *   escape:PATH        worker forks a child that calls setsid() and forks again; the grandchild
 *                      (out of the worker's process group and session) writes its pid and a
 *                      newline to PATH and sleeps until killed; responds "escaped PID".
 *   grow:N             N >= 1. Worker allocates and touches N MiB, 1 MiB per millisecond, then
 *                      sleeps until killed (never answers): for memory limits during a job.
 *   alloc:N            N >= 1. Worker allocates and touches N MiB in 1 MiB blocks; when an
 *                      allocation fails it writes "chaos: out of memory in alloc" to stderr and
 *                      calls abort() (as an xmalloc would). Frees them and responds "allocated N".
 *   master-segv[:use_response]  the master raises SIGSEGV in request_of_task (with the
 *                      argument "use_response": in use_response, after the worker answered).
 *   log:LEVEL:TEXT     the master logs TEXT at LEVEL (0 debug .. 3 error) in use_response;
 *                      the worker responds "ok".
 *   master-sleep:MS    0 <= MS <= 60000. The master sleeps MS ms in request_of_task (holding
 *                      the host, whose scheduler lock it runs under); the worker responds "ok".
 *
 * ---------------------------------------------------------------------------------------------
 * Environment: with CHAOS_LIVE_DIR=DIR each worker, as it starts, counts the live workers that
 * registered in DIR (a file per pid; workers of several hosts may share DIR), registers itself,
 * and keeps the most ever live at once in DIR/max (for jobserver tests).
 *
 * ---------------------------------------------------------------------------------------------
 * Wire formats (all plain text, no NUL):
 *
 *   task bytes      "#SEQ ACTION[:ARG]"      SEQ = index in queue order, from 0; follow-ups
 *                                            take the next free number. name_of_task shows the
 *                                            task bytes, e.g. "#3 echo:hi".
 *   request         "F|ACTION[:ARG]"         to a Fresh worker
 *                   "O:COMP|ACTION[:ARG]"    to an Old worker with competence COMP
 *   response        "pid=PID STATUS RESULT"  STATUS is "F" or "O:COMP" as in the request,
 *                                            e.g. "pid=1234 F hi" for echo:hi.
 *
 * use_response: unless the action says otherwise the task is DONE with the response text as
 * its message, and under PH_POLICY_PERSISTENT the worker stays as Old("chaos") (one-shot: the
 * worker ends). stay/followup/state override the stay decision as described above.
 *
 * Report written by finish (one line, plus a second one only if something was lost or failed
 * to marshal):
 *
 *   chaos: N tasks, done D, failed F, cancelled C, expired E, skipped S, feedback M, lost L
 *   chaos: lost cancelled A, expired B, worker-died C, spawn-failed D, orphaned E; marshal errors X
 *
 * (", out-of-memory F" follows "orphaned E" when the host reported PH_LOSS_OUT_OF_MEMORY.)
 *
 * N counts every task the plugin pushed (follow-ups included), M every forwarded feedback
 * message, L every on_task_lost call.
 */
#ifndef CHAOS_PLUGIN_H
#define CHAOS_PLUGIN_H

#include <stdint.h>

#include "plugin_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CHAOS_PLUGIN_NAME "chaos"
#define CHAOS_PLUGIN_VERSION "1.0.0"

#if defined(__GNUC__) || defined(__clang__)
#define CHAOS_EXPORT __attribute__((visibility("default")))
#else
#define CHAOS_EXPORT
#endif

/** The entry point (PH_ENTRY_SYMBOL); see ph_entry_fn. */
CHAOS_EXPORT int32_t plugin_host_entry(uint32_t host_abi_major, uint32_t host_abi_minor,
                                       ph_plugin_descriptor *out);

#ifdef __cplusplus
}
#endif

#endif /* CHAOS_PLUGIN_H */
