/*
 * Private to the ssh transport (transport_ssh.c and the files split from
 * it, ssh_stdin.c): one host's connection (struct ssh_conn), the run's
 * shared state (struct ssh_run), and the few calls they share.
 */
#ifndef MRSH_SSH_INTERNAL_H
#define MRSH_SSH_INTERNAL_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

#include <libssh2.h>

#include "mrsh/session.h"
#include "mrsh/sshconfig.h"
#include "ssh_chansetup.h"
#include "ssh_keys.h"

struct event;
struct run;
struct dial;
struct sftp_xfer;
struct ssh_auth;
struct sshcanon;
struct sshcanon_job;
struct sshconfig;
struct sshconfig_host;
struct copy_plan;

/* One read buffer for every session of the run. */
#define SSH_READ_SIZE		(32 * 1024)
/*
 * Channel receive window and packet size: what libssh2 may hold for one
 * host while output is paused. libssh2 widens the window by up to one read
 * buffer as we read.
 */
#define SSH_WINDOW		(64 * 1024)
#define SSH_PACKET		(32 * 1024)

enum ssh_step {
	SSH_NEW = 0,
	SSH_DIAL,		/* the dialer resolves and connects */
	SSH_HANDSHAKE,
	SSH_HOSTKEY,		/* known_hosts, then the keepalive timer */
	SSH_AUTH,		/* ssh_auth.c */
	SSH_TAR_CHECK,		/* --copy of a tree: can it go by tar? */
	SSH_CHANNEL_OPEN,
	SSH_CHANSETUP,
	SSH_EXEC,
	SSH_SFTP,		/* --copy/--rcopy instead of EXEC (ssh_sftp.c) */
	SSH_RUNNING,
	SSH_JUMP,		/* a jump host's session: serving channels */
	SSH_WAIT_CLOSED,
	SSH_EXITED,		/* status reported, waiting for ops->close */
	SSH_SIG_SYNC,		/* signal sent: wait for the server to take it */
	SSH_CH_FREE,
	SSH_DISCONNECT,
	SSH_SESS_FREE,
	SSH_NETCLOSE,
	SSH_CLOSED
};
#define SSH_STEP_COUNT	(SSH_CLOSED + 1)

/* A call that left a packet half-sent and must be repeated alone. */
enum ssh_pending {
	PEND_NONE = 0,
	PEND_READ,
	PEND_WRITE,
	PEND_SENDEOF,
	PEND_KEEPALIVE,
	PEND_FLUSH		/* discarding unknown extended data */
};

struct ssh_run;
struct ssh_jump;

struct ssh_conn {
	struct session		*s;
	struct ssh_run		*r;
	enum ssh_step		 step;
	struct ssh_host_config	 hc;
	int			 have_hc;
	struct ssh_jump		*jump;		/* this is a jump host's login */
	struct ssh_jump		*via_jump;	/* this target is behind one */
	/* CanonicalizeHostname: the lookups before hc is known */
	struct sshconfig_host	*cfgh;
	struct sshcanon_job	*canon;

	/* the stream to the server (dialer.h); fd is dial_fd() once up */
	struct dial		*dial;
	int			 fd;
	struct event		*ev_rd;
	struct event		*ev_wr;
	struct event		*ev_kick;	/* run again, next iteration */
	struct event		*ev_timer;	/* keepalive / cleanup deadline */

	/* libssh2 */
	LIBSSH2_SESSION		*ssh;
	LIBSSH2_CHANNEL		*ch;
	struct sftp_xfer	*xfer;		/* --copy/--rcopy */
	struct copy_tar		*tar;		/* --copy --tar: the stream */
	char			*tar_cmd;	/* and its remote command */
	int			 tar_sent;	/* all of it handed over */
	char			*tar_buf;	/* one packet of it */
	size_t			 tar_len;
	size_t			 tar_off;	/* sent of tar_buf */
	int			 tar_checked;	/* the check ran: tar or not */
	int			 tar_check_at;	/* TC_* in transport_ssh.c */
	char			*tar_check_cmd;
	char			 tar_check_out[256];	/* its last bytes */
	size_t			 tar_check_len;
	const char		*tar_why_not;	/* its verdict: NULL is tar */
	struct ssh_auth		*auth;
	unsigned char		*sniff;		/* server's first bytes, */
	size_t			 sniff_len;	/* until the handshake ends */
	unsigned char		*rbuf;		/* small reads: ssh_recv_cb */
	size_t			 rbuf_off;
	size_t			 rbuf_len;	/* bytes not yet served */
	size_t			 call_bytes;	/* given to libssh2 this call */
	int			 rx_dry;	/* socket drained: ssh_recv_cb */
	int			 dry_spins;	/* ssh_recv_cb calls this turn
						   with nothing given */
	size_t			 prebanner;	/* bytes before "SSH-" */
	int			 banner_pos;	/* in the line, up to 4 */
	int			 banner_miss;	/* line is not "SSH-" */
	int			 banner_seen;
	int			 prebanner_over; /* SSH_PREBANNER_MAX hit */
	int			 not_ssh;	/* first bytes not "SSH-" */
	int			 peer_eof;	/* handshake read an EOF */
	const char		*sig_name;	/* signal sent at close ("INT") */
	int			 sig_partial;	/* ... and not all sent yet */
	char			*offered;	/* our algorithm lists */
	enum ssh_pending	 pending;
	int			 pend_stream;
	struct ssh_chansetup	 chansetup;	/* pty-req, env */
	int			 tty;		/* a pty was requested */

	/* running */
	int			 paused;
	int			 wblocked;	/* stdin write said EAGAIN */
	int			 eof_sent;
	uint64_t		 in_off;	/* -I: absolute stdin offset */
	size_t			 sudo_off;	/* --sudo: password bytes sent */
	int			 in_attached;
	int			 in_waiting;	/* wants more stdin */
	TAILQ_ENTRY(ssh_conn)	 in_entry;
	TAILQ_ENTRY(ssh_conn)	 tar_entry;	/* in tarq while sending */
	int			 tar_waiting;	/* too far ahead of the others */
	double			 tar_moved;	/* when its stream last moved */
	double			 last_rx;
	int			 ka_unanswered;	/* keepalives sent since a read */

	int			 failed;	/* session_fail() called */
	int			 copy_failed;	/* SFTP said no; SFTP closed */
	int			 closing;	/* ops->close() called */
	int			 cleanup_abort;
};

TAILQ_HEAD(ssh_conn_q, ssh_conn);
TAILQ_HEAD(ssh_jump_q, ssh_jump);

struct ssh_run {
	struct run		*run;
	struct sshconfig	*cfg;
	struct sshcanon		*canon;		/* made on first use */
	struct copy_plan	*copy;		/* --copy/--rcopy */
	struct ssh_keyring	 keys;
	char			*password;	/* --askpass */
	char			*sudo_pw;	/* --sudo: "password\n" */
	char			*sudo_cmd;	/* --sudo: the command run */
	char			*sudo_cmd_tty;	/* the same, with a pty */
	int			 devnull;
	char			 buf[SSH_READ_SIZE];

	/* -I: one copy of stdin shared by every host (ssh_stdin.c) */
	char			*in;
	size_t			 inlen;
	size_t			 incap;
	uint64_t		 in_base;	/* offset of in[0] */
	int			 in_eof;
	int			 in_reading;
	int			 in_poll;	/* ev_in watches fd 0 */
	struct event		*ev_in;
	struct ssh_conn_q	 inq;
	struct ssh_conn_q	 tarq;		/* --tar: hosts sending */
	struct event		*ev_tar;	/* looks again at stalled ones */

	struct ssh_jump_q	 jumps;
};

/* transport_ssh.c */

/*
 * The session failed: record it once; the engine calls ops->close. The
 * caller's function and line go to session_fail_at().
 */
void	ssh_fail_at(struct ssh_conn *, const char *func, int line,
	    enum fail_kind, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));
#define ssh_fail(c, kind, ...) \
	ssh_fail_at((c), __func__, __LINE__, (kind), __VA_ARGS__)
/* Run the session again on the next loop iteration. */
void	ssh_kick(struct ssh_conn *);
/* Why the connection broke, in words better than "transport read". */
const char *ssh_lost(struct ssh_conn *);
/* Is libssh2 waiting to send (a packet is half-sent)? */
int	ssh_blocked_out(struct ssh_conn *);

/* ssh_stdin.c: -I, one copy of mrsh's stdin fanned out to every host */

/* Start reading stdin for the run, with -I; at the end, stop. */
void	ssh_stdin_init(struct ssh_run *);
void	ssh_stdin_free(struct ssh_run *);
/* The host takes stdin from the start; it no longer does. */
void	ssh_stdin_attach(struct ssh_conn *);
void	ssh_stdin_detach(struct ssh_conn *);
void	ssh_tar_start(struct ssh_conn *);
void	ssh_tar_free(struct ssh_conn *);
/*
 * Send stdin (--sudo's password, then -I's stdin) and then the in-band
 * EOF. Returns -1 if the session failed, 0 otherwise (done, blocked or
 * waiting for stdin).
 */
int	ssh_write_stdin(struct ssh_conn *);

#endif
