// TCP for a worker agent that connects back to its master (see AgentRendezvous and the agent's
// --connect-back): a listening socket on an ephemeral port, a connect with a time limit, no
// Nagle delay on either end, and random bytes for the connection's secret.
#define _GNU_SOURCE
#include "csupport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

int csupport_tcp_listen(int *port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -1;
    struct sockaddr_in address = {0};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_ANY);
    address.sin_port = 0;
    socklen_t length = sizeof address;
    if (bind(fd, (struct sockaddr *)&address, sizeof address) != 0 || listen(fd, 16) != 0
        || getsockname(fd, (struct sockaddr *)&address, &length) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    *port = ntohs(address.sin_port);
    return fd;
}

int csupport_tcp_accept(int listener) {
    int fd;
    do fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC); while (fd < 0 && errno == EINTR);
    if (fd >= 0) csupport_tcp_no_delay(fd);
    return fd;
}

int csupport_tcp_connect(const char *ipv4, int port, int timeout_ms) {
    struct sockaddr_in address = {0};
    address.sin_family = AF_INET;
    address.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, ipv4, &address.sin_addr) != 1) {
        errno = EINVAL;
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -1;
    int rc = connect(fd, (struct sockaddr *)&address, sizeof address);
    if (rc != 0 && errno == EINPROGRESS) {
        struct pollfd entry = {.fd = fd, .events = POLLOUT};
        do rc = poll(&entry, 1, timeout_ms); while (rc < 0 && errno == EINTR);
        if (rc == 0) {
            errno = ETIMEDOUT;
            rc = -1;
        } else if (rc > 0) {
            int problem = 0;
            socklen_t length = sizeof problem;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &problem, &length);
            if (problem != 0) {
                errno = problem;
                rc = -1;
            } else {
                rc = 0;
            }
        }
    }
    if (rc != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    csupport_tcp_no_delay(fd);
    return fd;
}

int csupport_tcp_no_delay(int fd) {
    int on = 1;
    return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

int csupport_random_bytes(void *buffer, size_t count) {
    size_t done = 0;
    while (done < count) {
        ssize_t got = getrandom((char *)buffer + done, count - done, 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        done += (size_t)got;
    }
    return 0;
}
