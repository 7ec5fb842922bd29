/* net.h — sockets and waiting, shared by the test client and server. */
#ifndef TLSC_NET_H
#define TLSC_NET_H

#include <stddef.h>
#include <stdint.h>

/* Connect a TCP socket to host:port (numeric or resolvable). Returns the
 * blocking, connected fd, or -1 with a message in err. */
int net_connect(const char *host, const char *port, char *err, size_t errlen);

/* Bind and listen on host:port (port "0": the kernel chooses). Returns the
 * fd and the bound port in *bound, or -1 with a message in err. */
int net_listen(const char *host, const char *port, unsigned *bound, char *err, size_t errlen);

int net_set_nonblock(int fd, int on);

/* Milliseconds on a monotonic clock. */
int64_t net_now_ms(void);

/* Wait until fd is ready for events (POLLIN/POLLOUT) or deadline_ms (a
 * net_now_ms() value) passes. Returns 1 ready, 0 timed out, -1 error. */
int net_wait(int fd, short events, int64_t deadline_ms);

#endif
