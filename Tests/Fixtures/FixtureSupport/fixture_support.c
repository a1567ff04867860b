/* fixture_support.c — see include/fixture_support.h. */
#include "include/fixture_support.h"
#include <stdio.h>
#include <string.h>
#include <unistd.h>

pid_t fixture_master_pid(void) {
    pid_t parent = getppid();
    char path[64], text[4096] = {0};
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)parent);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    if (f) fclose(f);
    for (size_t i = 0; i < n; i++) if (text[i] == 0) text[i] = ' ';
    if (strstr(text, "--fork-server") == NULL) return parent;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)parent);
    f = fopen(path, "r");
    n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    if (f) fclose(f);
    text[n] = 0;
    char *paren = strrchr(text, ')'); /* pid (comm) state ppid: comm may hold anything */
    int grandparent = 0;
    if (paren == NULL || sscanf(paren + 1, " %*c %d", &grandparent) != 1) return parent;
    return (pid_t)grandparent;
}
