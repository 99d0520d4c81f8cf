/*
 * An ssh-agent client on the run's event loop: each request (list the
 * keys, sign) is one connection to the agent's socket, written and read
 * without blocking, bounded by a timeout. A hung or slow agent delays only
 * the sessions waiting for its answer, and then fails them with a clear
 * reason; the loop, the other hosts and the timers go on. (libssh2's own
 * agent calls block on the socket.) An agent that is not there, says no
 * or answers nonsense is done without, as ssh does.
 */
#ifndef MRSH_SSH_AGENT_H
#define MRSH_SSH_AGENT_H

#include <stddef.h>

struct event_base;
struct agent_req;

/*
 * Seconds an agent has at most to answer one request (the ssh transport
 * gives it less when half the connect timeout is less).
 */
#define SSH_AGENT_TIMEOUT	10

enum agent_status {
	AGENT_PENDING = 0,
	AGENT_DONE,
	/*
	 * No agent there, it said no, or it did not answer as an agent
	 * (closed, malformed): as ssh, go on without it.
	 */
	AGENT_NONE,
	AGENT_FAILED		/* it did not answer within the timeout */
};

/* One key the agent holds: its public key blob and comment. */
struct agent_key {
	unsigned char	*blob;
	size_t		 bloblen;
	char		*comment;
};

/*
 * Ask the agent at sock for its keys, or to sign data with the key blob
 * (flags: SSH_AGENT_RSA_SHA2_256/512 as in the agent protocol), within
 * timeout seconds. done(arg) is called once, from the loop, when the
 * request is answered, failed or timed out; then see agent_req_status.
 */
struct agent_req *agent_list_keys(struct event_base *, const char *sock,
	    double timeout, void (*done)(void *), void *arg);
struct agent_req *agent_sign(struct event_base *, const char *sock,
	    double timeout, const unsigned char *blob, size_t bloblen,
	    const unsigned char *data, size_t datalen, unsigned int flags,
	    void (*done)(void *), void *arg);
enum agent_status agent_req_status(const struct agent_req *);
/* AGENT_NONE, AGENT_FAILED: why, one line naming the socket. */
const char *agent_req_error(const struct agent_req *);
/*
 * AGENT_DONE: the keys (agent_list_keys), valid until the request is
 * freed; or the signature blob (string type, string signature).
 */
const struct agent_key *agent_req_keys(const struct agent_req *, int *n);
const unsigned char *agent_req_signature(const struct agent_req *,
	    size_t *len);
void	agent_req_free(struct agent_req *);

#endif
