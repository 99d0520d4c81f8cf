/*
 * Private to the ssh transport: why a key exchange failed, in the user's
 * terms. libssh2 1.10 does not say what the server offered, so the
 * transport keeps the server's first bytes (its banner and KEXINIT) until
 * the handshake ends, and a failure is explained from them: not an SSH
 * server, no common algorithm (as ssh words it), or the connection lost.
 */
#ifndef MRSH_SSH_KEXDIAG_H
#define MRSH_SSH_KEXDIAG_H

#include <stddef.h>

struct _LIBSSH2_SESSION;
struct ssh_host_config;
struct dial;

/* What the failed handshake saw. */
struct ssh_kexdiag {
	struct _LIBSSH2_SESSION		*ssh;
	const struct ssh_host_config	*hc;
	struct dial			*dial;		/* dial_explain_eof() */
	const unsigned char		*sniff;		/* server's first bytes */
	size_t				 sniff_len;
	const char			*offered;	/* our lists, or NULL */
	size_t				 prebanner_over; /* no banner in so
							    many bytes; 0 */
	int				 not_ssh;	/* first bytes not "SSH-" */
	int				 peer_eof;	/* the server closed */
};

/*
 * The one-line reason for a handshake that returned rc (a libssh2 error),
 * into why. Every such failure is FAIL_UNREACHABLE.
 */
void	ssh_kexdiag_explain(const struct ssh_kexdiag *, int rc, char *why,
	    size_t len);

#endif
