/*
 * An ssh-agent client driven by the run's event loop (ssh_agent.h). The
 * agent protocol (draft-miller-ssh-agent) is request/answer, one uint32
 * length-prefixed message each way; each request here opens its own
 * connection, so sessions never wait on each other's requests, and ends
 * on the answer, an error or SSH_AGENT_TIMEOUT seconds.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "mrsh/log.h"
#include "mrsh/ssh_agent.h"
#include "mrsh/sshwire.h"
#include "mrsh/xmalloc.h"

#define AGENT_FAILURE			5
#define AGENTC_REQUEST_IDENTITIES	11
#define AGENT_IDENTITIES_ANSWER		12
#define AGENTC_SIGN_REQUEST		13
#define AGENT_SIGN_RESPONSE		14

/* Larger answers are not from an agent. */
#define AGENT_MAX_REPLY			(256 * 1024)
/* A full listen backlog: try connecting again after this. */
#define AGENT_RETRY_USEC		20000

struct agent_req {
	char			*sock;
	int			 fd;
	struct event_base	*base;
	struct event		*ev_io;
	struct event		*ev_timer;	/* the whole request's deadline */
	struct event		*ev_retry;	/* connect again (EAGAIN) */
	struct event		*ev_done;	/* done() from the loop */
	struct evbuffer		*out;
	struct evbuffer		*in;
	int			 want;		/* the answer's message type */
	double			 timeout;
	enum agent_status	 status;
	char			 err[512];

	struct agent_key	*keys;
	int			 nkeys;
	unsigned char		*sig;
	size_t			 siglen;

	void			(*done)(void *);
	void			*arg;
};

static void	agent_connect(struct agent_req *);

/* The request ended: stop watching, tell the caller from the loop. */
static void
agent_finish(struct agent_req *q, enum agent_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
agent_finish(struct agent_req *q, enum agent_status st, const char *fmt, ...)
{
	va_list	ap;

	if (q->status != AGENT_PENDING)
		return;
	q->status = st;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(q->err, sizeof q->err, fmt, ap);
		va_end(ap);
	}
	if (q->ev_io != NULL)
		event_del(q->ev_io);
	event_del(q->ev_timer);
	event_del(q->ev_retry);
	if (q->fd != -1) {
		close(q->fd);
		q->fd = -1;
	}
	event_active(q->ev_done, EV_TIMEOUT, 0);
}

static void
agent_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct agent_req	*q = arg;

	q->done(q->arg);
}

static void
agent_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct agent_req	*q = arg;

	agent_finish(q, AGENT_FAILED, "ssh-agent %s did not answer within %g "
	    "s", q->sock, q->timeout);
}

/* The whole answer, msg[0] its type: keep what the caller asked for. */
static void
agent_answer(struct agent_req *q, const unsigned char *msg, size_t len)
{
	struct sshwire		 w;
	const unsigned char	*s, *c;
	size_t			 slen, clen;
	uint32_t		 n, i;

	if (msg[0] == AGENT_FAILURE) {
		agent_finish(q, AGENT_NONE, "ssh-agent %s refused the %s",
		    q->sock, q->want == AGENT_SIGN_RESPONSE ? "signature" :
		    "key list");
		return;
	}
	if (msg[0] != q->want)
		goto bad;
	sshwire_init(&w, msg + 1, len - 1);
	if (q->want == AGENT_SIGN_RESPONSE) {
		if (sshwire_string(&w, &s, &slen) != 0)
			goto bad;
		q->sig = xmalloc(slen);
		memcpy(q->sig, s, slen);
		q->siglen = slen;
		agent_finish(q, AGENT_DONE, NULL);
		return;
	}
	if (sshwire_u32(&w, &n) != 0 || n > len / 8)
		goto bad;
	q->keys = xcalloc(n > 0 ? n : 1, sizeof *q->keys);
	for (i = 0; i < n; i++) {
		if (sshwire_string(&w, &s, &slen) != 0 ||
		    sshwire_string(&w, &c, &clen) != 0)
			goto bad;
		q->keys[i].blob = xmalloc(slen > 0 ? slen : 1);
		memcpy(q->keys[i].blob, s, slen);
		q->keys[i].bloblen = slen;
		q->keys[i].comment = xmalloc(clen + 1);
		memcpy(q->keys[i].comment, c, clen);
		q->keys[i].comment[clen] = '\0';
		q->nkeys++;
	}
	agent_finish(q, AGENT_DONE, NULL);
	return;
bad:
	agent_finish(q, AGENT_NONE, "ssh-agent %s sent a malformed answer",
	    q->sock);
}

static void
agent_io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct agent_req	*q = arg;
	unsigned char		 hdr[4], *msg;
	size_t			 len;
	int			 n;

	if (what & EV_WRITE) {
		if (evbuffer_write(q->out, fd) == -1 && errno != EAGAIN &&
		    errno != EINTR) {
			agent_finish(q, AGENT_NONE, "ssh-agent %s: %s",
			    q->sock, strerror(errno));
			return;
		}
		if (evbuffer_get_length(q->out) == 0) {
			event_free(q->ev_io);
			q->ev_io = event_new(q->base, q->fd, EV_READ |
			    EV_PERSIST, agent_io_cb, q);
			if (q->ev_io == NULL)
				fatalx("event_new failed");
			event_add(q->ev_io, NULL);
		}
		return;
	}
	n = evbuffer_read(q->in, fd, 64 * 1024);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		agent_finish(q, AGENT_NONE, "ssh-agent %s closed the "
		    "connection%s%s", q->sock, n == -1 ? ": " : "",
		    n == -1 ? strerror(errno) : "");
		return;
	}
	if (evbuffer_copyout(q->in, hdr, 4) != 4)
		return;
	len = sshwire_peek32(hdr);
	if (len == 0 || len > AGENT_MAX_REPLY) {
		agent_finish(q, AGENT_NONE, "ssh-agent %s sent a malformed "
		    "answer", q->sock);
		return;
	}
	if (evbuffer_get_length(q->in) < 4 + len)
		return;
	evbuffer_drain(q->in, 4);
	msg = xmalloc(len);
	evbuffer_remove(q->in, msg, len);
	agent_answer(q, msg, len);
	free(msg);
}

static void
agent_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	agent_connect(arg);
}

/* Connect without blocking; a full backlog is tried again shortly. */
static void
agent_connect(struct agent_req *q)
{
	struct sockaddr_un	 sun;
	struct timeval		 tv = { 0, AGENT_RETRY_USEC };

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(q->sock) >= sizeof sun.sun_path) {
		agent_finish(q, AGENT_NONE, "ssh-agent %s: path too long",
		    q->sock);
		return;
	}
	memcpy(sun.sun_path, q->sock, strlen(q->sock) + 1);
	if (q->fd == -1 && (q->fd = socket(AF_UNIX, SOCK_STREAM |
	    SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1) {
		agent_finish(q, AGENT_NONE, "ssh-agent %s: socket: %s",
		    q->sock, strerror(errno));
		return;
	}
	if (connect(q->fd, (struct sockaddr *)&sun, sizeof sun) == -1 &&
	    errno != EINPROGRESS) {
		if (errno == EAGAIN || errno == EINTR) {
			evtimer_add(q->ev_retry, &tv);
			return;
		}
		agent_finish(q, AGENT_NONE, "ssh-agent %s: %s", q->sock,
		    strerror(errno));
		return;
	}
	q->ev_io = event_new(q->base, q->fd, EV_WRITE | EV_PERSIST,
	    agent_io_cb, q);
	if (q->ev_io == NULL)
		fatalx("event_new failed");
	event_add(q->ev_io, NULL);
}

static struct agent_req *
agent_req_new(struct event_base *base, const char *sock, double timeout,
    int want, void (*done)(void *), void *arg)
{
	struct agent_req	*q;
	struct timeval		 tv;

	q = xcalloc(1, sizeof *q);
	q->sock = xstrdup(sock);
	q->fd = -1;
	q->base = base;
	q->want = want;
	q->timeout = timeout;
	tv.tv_sec = (time_t)timeout;
	tv.tv_usec = (suseconds_t)((timeout - (double)tv.tv_sec) * 1e6);
	q->done = done;
	q->arg = arg;
	q->status = AGENT_PENDING;
	q->ev_timer = evtimer_new(base, agent_timeout_cb, q);
	q->ev_retry = evtimer_new(base, agent_retry_cb, q);
	q->ev_done = event_new(base, -1, 0, agent_done_cb, q);
	q->out = evbuffer_new();
	q->in = evbuffer_new();
	if (q->ev_timer == NULL || q->ev_retry == NULL || q->ev_done == NULL ||
	    q->out == NULL || q->in == NULL)
		fatalx("out of memory");
	evtimer_add(q->ev_timer, &tv);
	return (q);
}

struct agent_req *
agent_list_keys(struct event_base *base, const char *sock, double timeout,
    void (*done)(void *), void *arg)
{
	struct agent_req	*q;
	unsigned char		 msg[5];

	q = agent_req_new(base, sock, timeout, AGENT_IDENTITIES_ANSWER, done,
	    arg);
	sshwire_put32(msg, 1);
	msg[4] = AGENTC_REQUEST_IDENTITIES;
	evbuffer_add(q->out, msg, sizeof msg);
	agent_connect(q);
	return (q);
}

struct agent_req *
agent_sign(struct event_base *base, const char *sock, double timeout,
    const unsigned char *blob, size_t bloblen, const unsigned char *data,
    size_t datalen, unsigned int flags, void (*done)(void *), void *arg)
{
	struct agent_req	*q;
	unsigned char		*msg, *p;
	size_t			 len;

	q = agent_req_new(base, sock, timeout, AGENT_SIGN_RESPONSE, done, arg);
	len = 4 + 1 + 4 + bloblen + 4 + datalen + 4;
	p = msg = xmalloc(len);
	p = sshwire_put32(p, (uint32_t)(len - 4));
	*p++ = AGENTC_SIGN_REQUEST;
	p = sshwire_put_string(p, blob, bloblen);
	p = sshwire_put_string(p, data, datalen);
	sshwire_put32(p, flags);
	evbuffer_add(q->out, msg, len);
	free(msg);
	agent_connect(q);
	return (q);
}

enum agent_status
agent_req_status(const struct agent_req *q)
{
	return (q->status);
}

const char *
agent_req_error(const struct agent_req *q)
{
	return (q->err);
}

const struct agent_key *
agent_req_keys(const struct agent_req *q, int *n)
{
	*n = q->nkeys;
	return (q->keys);
}

const unsigned char *
agent_req_signature(const struct agent_req *q, size_t *len)
{
	*len = q->siglen;
	return (q->sig);
}

void
agent_req_free(struct agent_req *q)
{
	int	i;

	if (q == NULL)
		return;
	if (q->ev_io != NULL)
		event_free(q->ev_io);
	event_free(q->ev_timer);
	event_free(q->ev_retry);
	event_free(q->ev_done);
	evbuffer_free(q->out);
	evbuffer_free(q->in);
	if (q->fd != -1)
		close(q->fd);
	for (i = 0; i < q->nkeys; i++) {
		free(q->keys[i].blob);
		free(q->keys[i].comment);
	}
	free(q->keys);
	free(q->sig);
	free(q->sock);
	free(q);
}
