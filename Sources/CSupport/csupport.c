#define _GNU_SOURCE
#include "csupport.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <limits.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int csupport_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int csupport_set_parent_death_signal(int signal) { return prctl(PR_SET_PDEATHSIG, signal, 0, 0, 0); }

int csupport_decode_wait_status(int status, int *value) {
    if (WIFEXITED(status)) { *value = WEXITSTATUS(status); return 1; }
    if (WIFSIGNALED(status)) { *value = WTERMSIG(status); return 2; }
    *value = 0;
    return 0;
}

int csupport_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *actions,
                   char *const argv[], char *const envp[]) {
    posix_spawnattr_t attr;
    int rc = posix_spawnattr_init(&attr);
    if (rc != 0) return rc;
    sigset_t defaults, empty;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGCHLD);
    sigemptyset(&empty);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setsigmask(&attr, &empty);
    /* Its own process group: a terminal's Ctrl-C reaches the master only (which cancels
       cleanly), and the master can kill the worker together with any child it forked. */
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
    rc = posix_spawn(pid, path, actions, &attr, argv, envp);
    posix_spawnattr_destroy(&attr);
    return rc;
}

int csupport_spawn_actions_closefrom(posix_spawn_file_actions_t *actions, int lowest) {
    return posix_spawn_file_actions_addclosefrom_np(actions, lowest);
}

int csupport_mutex_init_adaptive(pthread_mutex_t *mutex) {
    pthread_mutexattr_t attributes;
    pthread_mutexattr_init(&attributes);
    pthread_mutexattr_settype(&attributes, PTHREAD_MUTEX_ADAPTIVE_NP);
    int rc = pthread_mutex_init(mutex, &attributes);
    pthread_mutexattr_destroy(&attributes);
    return rc;
}

int csupport_set_cloexec(int fd, int on) {
    int flags = fcntl(fd, F_GETFD);
    if (flags < 0) return -1;
    flags = on ? (flags | FD_CLOEXEC) : (flags & ~FD_CLOEXEC);
    return fcntl(fd, F_SETFD, flags);
}

long long csupport_process_limit(void) {
    struct rlimit limit;
    if (getrlimit(RLIMIT_NPROC, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur > (rlim_t)LLONG_MAX)
        return -1;
    return (long long)limit.rlim_cur;
}

long long csupport_rss_bytes(pid_t pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/statm", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long long size = 0, resident = 0;
    int n = fscanf(f, "%lld %lld", &size, &resident);
    fclose(f);
    if (n != 2) return -1;
    return resident * (long long)sysconf(_SC_PAGESIZE);
}

static int forked_close_input = -1, forked_close_output = -1;

static void close_protocol_in_child(void) {
    if (forked_close_input >= 0) close(forked_close_input);
    if (forked_close_output >= 0) close(forked_close_output);
}

void csupport_close_in_forked_children(int input, int output) {
    forked_close_input = input;
    forked_close_output = output;
    pthread_atfork(NULL, NULL, close_protocol_in_child);
}

static volatile sig_atomic_t stop_requested_flag = 0;
static volatile sig_atomic_t performing_flag = 0;

static void stop_handler(int signal) {
    (void)signal;
    if (performing_flag) {
        stop_requested_flag = 1;
    } else {
        _exit(143);
    }
}

void csupport_install_stop_handler(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = stop_handler;
    sigemptyset(&action.sa_mask);
    sigaction(SIGTERM, &action, NULL);
}

void csupport_set_performing(int performing) {
    if (performing) stop_requested_flag = 0;
    performing_flag = performing;
}

int csupport_stop_requested(void) { return stop_requested_flag; }

/* The GNU build-id note of a dlopen'ed library, read from its mapped program headers. */
struct build_id_search {
    ElfW(Addr) base;
    const unsigned char *id;
    size_t len;
};

static int build_id_visit(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    struct build_id_search *search = data;
    if (info->dlpi_addr != search->base) return 0;
    for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *phdr = &info->dlpi_phdr[i];
        if (phdr->p_type != PT_NOTE) continue;
        const unsigned char *note = (const unsigned char *)(info->dlpi_addr + phdr->p_vaddr);
        const unsigned char *end = note + phdr->p_memsz;
        while (note + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *header = (const ElfW(Nhdr) *)note;
            const unsigned char *name = note + sizeof(ElfW(Nhdr));
            const unsigned char *desc = name + ((header->n_namesz + 3u) & ~3u);
            if (desc + header->n_descsz > end) break;
            if (header->n_type == NT_GNU_BUILD_ID && header->n_namesz == 4 && memcmp(name, "GNU", 4) == 0 &&
                header->n_descsz > 0) {
                search->id = desc;
                search->len = header->n_descsz;
                return 1;
            }
            note = desc + ((header->n_descsz + 3u) & ~3u);
        }
    }
    return 1; /* the library was found: it has no build id */
}

size_t csupport_build_id(void *handle, const unsigned char **id) {
    struct link_map *map = NULL;
    if (handle == NULL || dlinfo(handle, RTLD_DI_LINKMAP, &map) != 0 || map == NULL) return 0;
    struct build_id_search search = { map->l_addr, NULL, 0 };
    dl_iterate_phdr(build_id_visit, &search);
    *id = search.id;
    return search.id != NULL ? search.len : 0;
}

/* ---- CPU placement of slot threads (see HostConfiguration.pinsSlotsToCores) ---- */

#include <sched.h>

int csupport_allowed_cpus(int *cpus, const int capacity) {
    cpu_set_t mask;
    if (sched_getaffinity(0, sizeof mask, &mask) != 0) return 0;
    int count = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && count < capacity; cpu++)
        if (CPU_ISSET(cpu, &mask)) cpus[count++] = cpu;
    return count;
}

int csupport_current_cpu(void) { return sched_getcpu(); }

int csupport_pin_thread_to_cpu(const int cpu) {
    if (cpu < 0 || cpu >= CPU_SETSIZE) return -1;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    return sched_setaffinity(0, sizeof one, &one);
}

int csupport_unpin_thread(void) {
    cpu_set_t process;
    if (sched_getaffinity(getpid(), sizeof process, &process) != 0) return -1;
    return sched_setaffinity(0, sizeof process, &process);
}

void csupport_line_buffer_stdout(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
}
