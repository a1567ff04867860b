#include "csupport.h"

#include <sys/epoll.h>

int csupport_epoll_create(void) {
    return epoll_create1(EPOLL_CLOEXEC);
}

int csupport_epoll_add_input(int epoll, int fd) {
    struct epoll_event event = {.events = EPOLLIN, .data.fd = fd};
    return epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event);
}

int csupport_epoll_remove(int epoll, int fd) {
    return epoll_ctl(epoll, EPOLL_CTL_DEL, fd, NULL);
}

int csupport_epoll_wait_fds(int epoll, int *fds, int capacity) {
    struct epoll_event events[64];
    if (capacity > 64) capacity = 64;
    int count = epoll_wait(epoll, events, capacity, -1);
    for (int i = 0; i < count; i++) fds[i] = events[i].data.fd;
    return count;
}
