/* fork_server.c — the system calls of the worker fork server (plugin-worker --fork-server) and of
 * the master's side of it: a datagram socket pair, descriptors passed with SCM_RIGHTS, pidfds,
 * and the fork of a fresh worker. */
#define _GNU_SOURCE
#include "csupport.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

int csupport_socketpair_seqpacket(int fds[2]) {
    return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds);
}

ssize_t csupport_send_with_fds(int socket, const void *data, size_t length, const int *fds, int count) {
    struct iovec iov = {.iov_base = (void *)data, .iov_len = length};
    struct msghdr message = {.msg_iov = &iov, .msg_iovlen = 1};
    char control[CMSG_SPACE(sizeof(int) * 8)];
    if (count > 8) {
        errno = EINVAL;
        return -1;
    }
    if (count > 0) {
        memset(control, 0, sizeof control);
        message.msg_control = control;
        message.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)count);
        struct cmsghdr *header = CMSG_FIRSTHDR(&message);
        header->cmsg_level = SOL_SOCKET;
        header->cmsg_type = SCM_RIGHTS;
        header->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)count);
        memcpy(CMSG_DATA(header), fds, sizeof(int) * (size_t)count);
    }
    ssize_t sent;
    do {
        sent = sendmsg(socket, &message, MSG_NOSIGNAL);
    } while (sent < 0 && errno == EINTR);
    return sent;
}

ssize_t csupport_receive_with_fds(int socket, void *data, size_t capacity, int *fds, int capacity_fds, int *count) {
    struct iovec iov = {.iov_base = data, .iov_len = capacity};
    char control[CMSG_SPACE(sizeof(int) * 8)];
    struct msghdr message = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                             .msg_controllen = sizeof control};
    *count = 0;
    ssize_t received;
    do {
        received = recvmsg(socket, &message, MSG_CMSG_CLOEXEC);
    } while (received < 0 && errno == EINTR);
    if (received < 0) return received;
    for (struct cmsghdr *header = CMSG_FIRSTHDR(&message); header != NULL; header = CMSG_NXTHDR(&message, header)) {
        if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
        int n = (int)((header->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        int passed[8];
        if (n > 8) n = 8;
        memcpy(passed, CMSG_DATA(header), sizeof(int) * (size_t)n);
        for (int i = 0; i < n; i++) {
            if (*count < capacity_fds) fds[(*count)++] = passed[i];
            else close(passed[i]); /* more than asked for: never leak one */
        }
    }
    if (message.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
        for (int i = 0; i < *count; i++) close(fds[i]);
        *count = 0;
        errno = EMSGSIZE;
        return -1;
    }
    return received;
}

int csupport_pidfd_open(pid_t pid) {
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

int csupport_pidfd_send_signal(int pidfd, int sig) {
    return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

pid_t csupport_fork_worker(const int fds[3], pid_t server, int procs) {
    pid_t pid = fork();
    if (pid > 0) {
        /* Also from this side, so the group exists before the master hears the pid and may
           signal it (the child may not have run yet). */
        setpgid(pid, pid);
        return pid;
    }
    if (pid < 0) return pid;
    /* Into its cgroup before anything else runs in it ("0": the writing process). */
    const int joinError = procs >= 0 && write(procs, "0", 1) != 1 ? errno : 0;
    /* The child: a worker in its own process group, dying with the fork server, its protocol
       and stderr on 0, 1 and 2 and nothing else open, default signal handling and an empty
       signal mask. */
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != server) _exit(2);
    int moved[3];
    for (int i = 0; i < 3; i++) {
        /* Above 2 first, so that dup2 onto 0..2 never overwrites a descriptor still needed. */
        moved[i] = fds[i] > 2 ? fds[i] : fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
        if (moved[i] < 0) _exit(2);
    }
    for (int i = 0; i < 3; i++) {
        if (dup2(moved[i], i) < 0) _exit(2);
    }
    /* Nothing else of the server's (its socket to the master, its siblings' pidfds) stays open. */
    if (joinError != 0) {
        /* Never run plugin code outside its cgroup (no limit, not killed with it): a start
           failure the master reports, with this line as the worker's last stderr. */
        dprintf(2, "plugin-worker: cannot join its cgroup: %s\n", strerror(joinError));
        _exit(2);
    }
    if (syscall(SYS_close_range, 3, ~0U, 0) != 0) {
        /* Kernels before 5.9: one by one. */
        long highest = sysconf(_SC_OPEN_MAX);
        for (long fd = 3; fd < (highest > 0 ? highest : 65536); fd++) close((int)fd);
    }
    sigset_t empty;
    sigemptyset(&empty);
    sigprocmask(SIG_SETMASK, &empty, NULL);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
    return 0;
}

int csupport_set_command_line(char **argv, int argc, const char *words, size_t length) {
    /* The arguments lie one after the other on the initial stack: their span is what
       /proc/PID/cmdline shows, and all a process can rewrite without moving it. Measured once:
       after a rewrite the argv strings no longer show it (a spare is renamed twice). */
    static char *start;
    static size_t room;
    if (start == NULL) {
        if (argv == NULL || argc < 1 || argv[0] == NULL) return 0;
        char *end = argv[0] + strlen(argv[0]) + 1;
        for (int i = 1; i < argc; i++) {
            if (argv[i] != end) break; /* not contiguous: stop at the last one that is */
            end = argv[i] + strlen(argv[i]) + 1;
        }
        start = argv[0] + strlen(argv[0]) + 1; /* argv[0] stays */
        room = (size_t)(end - start);
    }
    /* Whole words only: cut after the last NUL that fits. */
    size_t used = length <= room ? length : 0;
    if (length > room) {
        for (size_t i = 0; i < room; i++) if (words[i] == 0) used = i + 1;
    }
    memcpy(start, words, used);
    memset(start + used, 0, room - used);
    return used == length;
}
