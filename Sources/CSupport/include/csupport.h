/* csupport.h — libc pieces Swift's Glibc module does not expose (pipe2, prctl, wait macros). */
#ifndef CSUPPORT_H
#define CSUPPORT_H

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <spawn.h>
#include <pthread.h>

/** CRC-32C (Castagnoli) of `length` bytes (SSE 4.2 where available): journal record checksums. */
uint32_t csupport_crc32c(const void *data, size_t length);

/** pipe2(fds, O_CLOEXEC). Returns 0 or -1 with errno set. */
int csupport_pipe_cloexec(int fds[2]);
/** Asks the kernel to send `signal` to this process when its parent dies. */
int csupport_set_parent_death_signal(int signal);
/** Decodes a wait status: 1 if exited (code in *value), 2 if signalled (signal in *value), 0 otherwise. */
int csupport_decode_wait_status(int status, int *value);
/** posix_spawn with SIGPIPE and friends reset to default and an empty signal mask in the child. */
int csupport_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *actions,
                   char *const argv[], char *const envp[]);
/** Adds "close every descriptor from `lowest` up" to spawn file actions (glibc >= 2.34). */
int csupport_spawn_actions_closefrom(posix_spawn_file_actions_t *actions, int lowest);
/** Initialises an adaptive mutex (spins briefly before sleeping: the host's critical sections are short). */
int csupport_mutex_init_adaptive(pthread_mutex_t *mutex);
/** Sets FD_CLOEXEC on or off. */
int csupport_set_cloexec(int fd, int on);
/** The GNU build-id of the library `handle` (from dlopen): its length, with `*id` pointing into
    the mapped library, or 0 if it has none. Read from memory: no file I/O. */
size_t csupport_build_id(void *handle, const unsigned char **id);
/** The soft RLIMIT_NPROC of this process, or -1 when unlimited or unknown. */
long long csupport_process_limit(void);
/** Resident set size of a process in bytes from /proc/PID/statm, or -1. */
long long csupport_rss_bytes(pid_t pid);


/* Crash guard for master-side plugin calls (crash_guard.c). install: once per process, after
 * the Swift runtime set its own handlers (they are kept for crashes outside plugin calls).
 * scope_enter marks the calling thread as inside `callback` of `plugin` (both strings must stay
 * valid while marked) and returns the previous callback for scope_leave. A fatal signal inside a
 * scope prints one line naming both and ends the process with status 128 + signal. */
void csupport_crash_guard_install(void);
const char *csupport_crash_scope_enter(const char *plugin, const char *callback);
void csupport_crash_scope_leave(const char *saved);
/* A descriptor of a cgroup.kill file written "1" before the host ends on a plugin crash: the
 * workers' escaped processes go with it. register returns a slot for unregister, or -1. */
int csupport_crash_kill_register(int fd);
void csupport_crash_kill_unregister(int slot);
/* make's jobserver: `tokens` held now, given back ('+' each) on `fd` if the host dies in a plugin. */
void csupport_crash_jobserver_hold(int fd, int tokens);

/* The worker's protocol descriptors are closed in every child it forks (pthread_atfork): a
 * child a plugin forks and leaves behind must not hold the response pipe open, which would hide
 * the worker's death (end of file) from the master. Call once. */
void csupport_close_in_forked_children(int input, int output);

/* Makes C's stdout line-buffered (a worker's stdout is a pipe to the master's stderr). */
void csupport_line_buffer_stdout(void);
/* Stop flags for the worker's SIGTERM handler (async-signal-safe, no Swift runtime needed). */
void csupport_install_stop_handler(void);
void csupport_set_performing(int performing);
int csupport_stop_requested(void);
/* SHA-256 (libcrypto, loaded on first use). begin returns NULL when libcrypto is missing;
   end releases the context and writes 32 bytes. update/end return 0 on success. */
void *csupport_sha256_begin(void);
int csupport_sha256_update(void *context, const void *data, size_t length);
int csupport_sha256_end(void *context, uint8_t digest[32]);
/* CPU placement of slot threads: the CPUs the calling thread may run on (up to capacity; returns
 * how many), the CPU it runs on now (-1 if unknown), and restricting the calling thread (and so
 * the processes it spawns later) to one CPU (0 or -1). */
int csupport_allowed_cpus(int *cpus, int capacity);
int csupport_current_cpu(void);
int csupport_pin_thread_to_cpu(int cpu);
/* Lets the calling thread run wherever the process's main thread may (undoes a pin it inherited
 * from a pinned thread that started it); 0 or -1. */
int csupport_unpin_thread(void);

/* One thread reading many descriptors (the master's worker stderr): an epoll instance
 * (close-on-exec), adding a descriptor for input (level-triggered), removing it (0 or -1 each),
 * and waiting without time limit for ready ones: their numbers into fds (up to capacity, at most
 * 64); returns how many, or -1 with errno. */
int csupport_epoll_create(void);
int csupport_epoll_add_input(int epoll, int fd);
int csupport_epoll_remove(int epoll, int fd);
int csupport_epoll_wait_fds(int epoll, int *fds, int capacity);

/* Fork server (fork_server.c). A SOCK_SEQPACKET socket pair, close-on-exec. */
int csupport_socketpair_seqpacket(int fds[2]);
/** sendmsg of `data` with up to 8 descriptors (SCM_RIGHTS), retried on EINTR, no SIGPIPE. */
ssize_t csupport_send_with_fds(int socket, const void *data, size_t length, const int *fds, int count);
/** recvmsg of one message and the descriptors it carries (close-on-exec; at most `capacity_fds`
    kept, the rest closed); 0 at end of stream, -1 with errno (EMSGSIZE for a cut message). */
ssize_t csupport_receive_with_fds(int socket, void *data, size_t capacity, int *fds, int capacity_fds, int *count);
/** pidfd_open(pid, 0), or -1 with errno. */
int csupport_pidfd_open(pid_t pid);
/** pidfd_send_signal(pidfd, sig, NULL, 0): 0, or -1 with errno (ESRCH once that process ended). */
int csupport_pidfd_send_signal(int pidfd, int sig);
/** Forks a fresh worker of the fork server `server` (the caller's pid): in the child (returns 0)
    it first joins the cgroup whose open `cgroup.procs` is `procs` (-1: none; if the write fails
    it writes why to fds[2] and exits with status 2, before any plugin code runs), is in its own
    process group, gets SIGKILL when the server dies, has fds[0..2] as its standard input, output
    and error and no other descriptor, default SIGPIPE/SIGCHLD and an empty signal mask. The
    parent gets the child's pid, or -1 with errno. The caller closes fds in the parent. */
pid_t csupport_fork_worker(const int fds[3], pid_t server, int procs);
/** Rewrites this process's command line (/proc/PID/cmdline) in the space its arguments took:
    argv[0] stays, then `words` (`length` bytes: arguments each ended by a NUL), as far as they
    fit. Returns 1 when all fit, 0 otherwise. */
int csupport_set_command_line(char **argv, int argc, const char *words, size_t length);

/* A worker's memory limit (address_space_limit.c): sets RLIMIT_AS to `bytes` and installs
 * handlers for the fatal signals that, on a thread whose errno is ENOMEM (an allocation failed
 * under the limit), write `line` and a newline to stderr, then die by the same signal. Returns 0,
 * or -1 with errno when the limit cannot be set. Call once, before the plugin is loaded. */
int csupport_limit_address_space(unsigned long long bytes, const char *line);

/* TCP for an agent that connects back to its master (tcp_link.c). Sockets are close-on-exec and
 * have TCP_NODELAY (no Nagle delay: small frames leave at once). */
/** A non-blocking socket listening on every IPv4 address at an ephemeral port (written to `port`),
 * or -1; the connections it accepts block. */
int csupport_tcp_listen(int *port);
/** accept4 on `listener` (retried on EINTR), TCP_NODELAY set; -1 with errno (EAGAIN: none waiting). */
int csupport_tcp_accept(int listener);
/** A blocking socket connected to `ipv4`:`port` within `timeout_ms`, or -1 with errno. */
int csupport_tcp_connect(const char *ipv4, int port, int timeout_ms);
/** Sets TCP_NODELAY on `fd`. */
int csupport_tcp_no_delay(int fd);
/** Fills `buffer` with `count` bytes from getrandom(2); 0, or -1 with errno. */
int csupport_random_bytes(void *buffer, size_t count);
#endif
