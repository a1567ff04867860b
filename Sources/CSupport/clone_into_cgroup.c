/* clone_into_cgroup.c — a fresh worker forked straight into its cgroup (clone3 with
 * CLONE_INTO_CGROUP, Linux 5.7), where that is as safe as glibc's fork().
 *
 * Moving a forked worker into its cgroup afterwards takes the cgroup hierarchy's write lock, which
 * every fork and exit on the machine then waits for: one-shot runs of trivial jobs measured 14 %
 * more jobs/s cloning into the cgroup. But a raw clone3 skips what glibc's fork() does in the
 * child, so it is used only when that is nothing that matters here:
 *  - the child's thread id in glibc's thread descriptor (raise() and abort() signal it): the
 *    kernel writes it there (CLONE_CHILD_SETTID), once its place is found (below), and its
 *    robust-mutex list is registered again, as glibc's fork does;
 *  - pthread_atfork handlers (a library reseeding a random generator in the child, say): used
 *    only when no loaded object but libc, the dynamic loader and plugin-worker itself (which
 *    registers one in workers only, after the fork) refers to pthread_atfork or
 *    __register_atfork;
 *  - glibc 2.41's per-thread getrandom state: used only with glibc before 2.41.
 * Anywhere else, and where the kernel refuses, the caller forks as before. */
#define _GNU_SOURCE
#include "csupport.h"

#include <elf.h>
#include <errno.h>
#include <gnu/libc-version.h>
#include <link.h>
#include <linux/sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* The aligned offsets, in the first 1,024 bytes of the calling thread's descriptor (what
   pthread_self() points to), that hold its thread id: up to `capacity` of them, how many found. */
static int thread_id_offsets(long *offsets, int capacity) {
    pid_t tid = (pid_t)syscall(SYS_gettid);
    const char *self = (const char *)pthread_self();
    int count = 0;
    for (long at = 0; at < 1024; at += (long)sizeof(pid_t)) {
        pid_t value;
        memcpy(&value, self + at, sizeof value);
        if (value == tid) {
            if (count < capacity) offsets[count] = at;
            count++;
        }
    }
    return count;
}

/* Where glibc keeps a thread's id in its descriptor: of the offsets holding this thread's id,
   the one that glibc's own fork() rewrites with the child's id (a value that merely equals the
   id is left as it was). Costs one fork, once. -1 unless exactly one offset qualifies. */
static long thread_id_offset(void) {
    long candidates[8];
    int count = thread_id_offsets(candidates, 8);
    if (count == 0 || count > 8) return -1;
    pid_t child = fork();
    if (child == 0) {
        pid_t tid = (pid_t)syscall(SYS_gettid);
        const char *self = (const char *)pthread_self();
        int which = 0, matches = 0;
        for (int i = 0; i < count; i++) {
            pid_t value;
            memcpy(&value, self + candidates[i], sizeof value);
            if (value == tid) {
                which = i + 1;
                matches++;
            }
        }
        _exit(matches == 1 ? which : 0);
    }
    if (child < 0) return -1;
    int status = 0;
    while (waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) return -1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) < 1 || WEXITSTATUS(status) > count) return -1;
    return candidates[WEXITSTATUS(status) - 1];
}

static int is_atfork_name(const char *name) {
    return strcmp(name, "pthread_atfork") == 0 || strcmp(name, "__register_atfork") == 0;
}

/* dl_iterate_phdr callback: sets *found when an object other than libc, the dynamic loader, the
   vDSO and the executable has a relocation against pthread_atfork or __register_atfork (or its
   relocations cannot be read: then it might). */
static int refers_to_atfork(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    int *found = data;
    const char *name = info->dlpi_name;
    if (name == NULL || name[0] == '\0') return 0;  /* the executable */
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    if (strncmp(base, "libc.so", 7) == 0 || strncmp(base, "ld-linux", 8) == 0 || strncmp(base, "linux-vdso", 10) == 0) return 0;
    const ElfW(Dyn) *dynamic = NULL;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        if (info->dlpi_phdr[i].p_type == PT_DYNAMIC) dynamic = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
    }
    if (dynamic == NULL) return 0;
    ElfW(Addr) symbols = 0, strings = 0, rela = 0, plt = 0;
    size_t relaSize = 0, pltSize = 0, relaEntry = sizeof(ElfW(Rela));
    long pltKind = DT_RELA;
    for (const ElfW(Dyn) *entry = dynamic; entry->d_tag != DT_NULL; entry++) {
        switch (entry->d_tag) {
        case DT_SYMTAB: symbols = entry->d_un.d_ptr; break;
        case DT_STRTAB: strings = entry->d_un.d_ptr; break;
        case DT_RELA: rela = entry->d_un.d_ptr; break;
        case DT_RELASZ: relaSize = entry->d_un.d_val; break;
        case DT_RELAENT: relaEntry = entry->d_un.d_val; break;
        case DT_JMPREL: plt = entry->d_un.d_ptr; break;
        case DT_PLTRELSZ: pltSize = entry->d_un.d_val; break;
        case DT_PLTREL: pltKind = (long)entry->d_un.d_val; break;
        case DT_REL: *found = 1; return 1;  /* REL relocations: not read here, so assume it might */
        default: break;
        }
    }
    if (symbols == 0 || strings == 0 || relaEntry != sizeof(ElfW(Rela)) || (plt != 0 && pltKind != DT_RELA)) {
        *found = 1;
        return 1;
    }
    /* The dynamic loader relocates these addresses in place on most architectures; where it
       does not, they are offsets from the object's base. */
#define ABSOLUTE(address) ((address) < info->dlpi_addr ? (address) + info->dlpi_addr : (address))
    const ElfW(Sym) *symbolTable = (const ElfW(Sym) *)ABSOLUTE(symbols);
    const char *stringTable = (const char *)ABSOLUTE(strings);
    const struct { ElfW(Addr) start; size_t size; } tables[2] = {{rela, relaSize}, {plt, pltSize}};
    for (int t = 0; t < 2; t++) {
        if (tables[t].start == 0) continue;
        const ElfW(Rela) *relocation = (const ElfW(Rela) *)ABSOLUTE(tables[t].start);
        for (size_t i = 0; i < tables[t].size / sizeof(ElfW(Rela)); i++) {
#if __ELF_NATIVE_CLASS == 64
            size_t symbol = ELF64_R_SYM(relocation[i].r_info);
#else
            size_t symbol = ELF32_R_SYM(relocation[i].r_info);
#endif
            if (symbol != 0 && is_atfork_name(stringTable + symbolTable[symbol].st_name)) {
                *found = 1;
                return 1;
            }
        }
    }
#undef ABSOLUTE
    return 0;
}

/* The calling thread's id slot when a clone into a cgroup is as safe as fork() in this process
   (see above), else NULL. Decided once, at the first call: in the fork server, once the plugin
   is loaded (it forks once to find glibc's thread id slot). */
static pid_t *usable_thread_id_slot(void) {
    static int decided = 0;
    static long offset = -1;
    if (!decided) {
        decided = 1;
        int major = 0, minor = 0;
        if (sscanf(gnu_get_libc_version(), "%d.%d", &major, &minor) != 2 || major != 2 || minor >= 41) return NULL;
        int atfork = 0;
        dl_iterate_phdr(refers_to_atfork, &atfork);
        if (atfork) return NULL;
        offset = thread_id_offset();
    }
    return offset >= 0 ? (pid_t *)((char *)pthread_self() + offset) : NULL;
}

static int refused = 0;

pid_t csupport_clone_into_cgroup(int group) {
    pid_t *tid = refused || group < 0 ? NULL : usable_thread_id_slot();
    if (tid == NULL) {
        errno = ENOSYS;
        return -1;
    }
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = CLONE_INTO_CGROUP | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID;
    args.child_tid = (uint64_t)(uintptr_t)tid;
    args.exit_signal = SIGCHLD;
    args.cgroup = (uint64_t)group;
    /* The child registers the parent's robust-mutex list head again (the same address there),
       as glibc's fork does: the kernel starts a forked process without one. */
    void *robust = NULL;
    size_t robustLength = 0;
    const int hasRobust = syscall(SYS_get_robust_list, 0, &robust, &robustLength) == 0 && robust != NULL;
    pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0) {
        if (hasRobust) syscall(SYS_set_robust_list, robust, robustLength);
        return 0;
    }
    if (pid < 0 && errno != EAGAIN && errno != ENOMEM) {
        /* Not here (an old kernel, a seccomp filter, a cgroup it cannot go into): fork. */
        if (errno == ENOSYS || errno == E2BIG || errno == EPERM) refused = 1;
        errno = ENOSYS;
    }
    return pid;
}
