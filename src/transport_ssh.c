/*
 * The ssh transport (-R ssh, the default): libssh2 in non-blocking mode,
 * driven by the run's one event loop. Each session walks a chain of
 * sub-steps (resolve, connect, handshake, host key, auth, channel, exec,
 * running, wait for the channel close, then the cleanup calls). Every
 * libssh2 call that can return EAGAIN owns a sub-step and is repeated with
 * the same arguments; the fd is then watched for exactly the directions
 * libssh2_session_block_directions() reports. Output is drained from both
 * streams until both say EAGAIN before re-arming, because libssh2 buffers
 * above the socket and the kernel will not wake us for what it holds.
 * Each step is one function (ssh_steps[]); user authentication (the AUTH
 * step) is ssh_auth.c's, -I's stdin fan-out ssh_stdin.c's, and the
 * explanation of a failed key exchange ssh_kexdiag.c's.
 *
 * libssh2 keeps at most one half-sent packet per session, and only a send
 * of the same bytes at the same address may finish it: any other send is
 * refused (send_existing: 1.10 says LIBSSH2_ERROR_BAD_USE, 1.11.1 says
 * EAGAIN for ever). So once a call leaves a packet half-sent (EAGAIN with
 * BLOCK_OUTBOUND) that same call is the only one made until it completes:
 * no read (a read may send a window adjust), no stdin write, no keepalive.
 * See ssh_pending. Packets libssh2 builds on its own stack must also be
 * retried from the same stack depth: see ssh_teardown_soon().
 *
 * Closing follows DESIGN.md: stdin EOF is in-band (channel EOF), never a
 * TCP half-close; after the server's channel close the channel is freed,
 * the session disconnected and freed, and the fd goes to net_close(),
 * which waits for the server's FIN.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/util.h>
#include <libssh2.h>

#include "mrsh/copy.h"
#include "mrsh/copy_tar.h"
#include "mrsh/dialer.h"
#include "mrsh/faultinj.h"
#include "mrsh/hostlist.h"
#include "mrsh/jump.h"
#include "mrsh/jumptun.h"
#include "mrsh/log.h"
#include "mrsh/netconn.h"
#include "mrsh/options.h"
#include "mrsh/proxycmd.h"
#include "mrsh/run.h"
#include "mrsh/session.h"
#include "mrsh/signame.h"
#include "mrsh/ssh_sftp.h"
#include "mrsh/sshconfig.h"
#include "mrsh/transport.h"
#include "mrsh/xmalloc.h"

#include "mrsh/ssh_auth.h"
#include "mrsh/sshalgs.h"
#include "mrsh/sshcanon.h"
#include "ssh_chansetup.h"
#include "ssh_internal.h"
#include "ssh_kexdiag.h"
#include "ssh_keys.h"

/* Server bytes kept during the handshake (banner and KEXINIT). */
#define SSH_SNIFF_MAX		4096
/*
 * libssh2 reads the server's banner one byte per recv(). During the
 * handshake, a small read is served from a buffer filled by one recv() of
 * this size instead (issue 14: 40 syscalls per session saved).
 */
#define SSH_RBUF_SIZE		1024
/*
 * Bytes handed to libssh2 by one call before the command runs: past this
 * the recv callback says EAGAIN, so a server that keeps sending (lines
 * before the banner, ignore packets) cannot keep libssh2 reading inside
 * one call while the loop, its timers and signals wait.
 */
#define SSH_SETUP_CALL_BYTES	(16 * 1024)
/*
 * libssh2 1.10 waits in a loop of its own in one place: the channel of a
 * refused SFTP subsystem is freed with "while (channel_free() ==
 * EAGAIN);" (sftp.c, sftp_init). EAGAIN from ssh_recv_cb without reading
 * (the socket was dry, or the turn's byte bound is used) would never end
 * that loop: after this many calls in one turn with nothing given, the
 * socket is read whatever the bounds say.
 */
#define SSH_DRY_SPINS		256
/*
 * ... and after this many, during setup, the connection is given up
 * (ECONNABORTED): a peer that never sends the CHANNEL_CLOSE (a target
 * behind a jump host, whose bytes the pump moves only from the event
 * loop, or a silent network) would hold that loop, and the whole run,
 * for ever. libssh2's loop then ends and the host fails.
 */
#define SSH_DRY_SPINS_MAX	(256 * 1024)
/* Bytes before the "SSH-" line: more and it is not an SSH server. */
#define SSH_PREBANNER_MAX	(64 * 1024)
/* Bytes read from one host before letting the others run. */
#define SSH_FAIR_BYTES		(256 * 1024)

static const char *ssh_step_names[SSH_STEP_COUNT] = {
	"NEW", "DIAL", "HANDSHAKE", "HOSTKEY", "AUTH", "TAR_CHECK",
	"CHANNEL_OPEN",
	"CHANSETUP", "EXEC", "SFTP", "RUNNING", "JUMP", "WAIT_CLOSED",
	"EXITED", "SIG_SYNC", "CH_FREE", "DISCONNECT", "SESS_FREE",
	"NETCLOSE", "CLOSED"
};

/*
 * What one step function (ssh_steps[]) tells the driver, ssh_step(): it
 * blocked in libssh2, it moved on to the next step, it left the session
 * to an event that is not the fd's (a timer, ops->close), or it failed.
 */
enum ssh_res {
	STEP_AGAIN,	/* blocked: wait for what libssh2 waits on */
	STEP_NEXT,	/* on to the next step: run it now */
	STEP_DONE,	/* nothing more to do now; the fd is not armed */
	STEP_FAILED	/* ssh_fail() was called (or the session closes) */
};

/*
 * ProxyJump: one session per jump host (per distinct spec) for the whole
 * run. Its login is an ssh_conn like a target's, on a session of its own
 * that is on no run queue (its label says "jump host NAME"); once
 * authenticated it serves the targets' direct-tcpip channels (jumptun.h)
 * and is closed last, when no target needs it any more.
 */
struct ssh_jump {
	TAILQ_ENTRY(ssh_jump)	 entry;
	struct ssh_run		*r;
	char			*key;		/* the ProxyJump spec */
	char			*name;		/* the hop as named: "bastion1" */
	struct host		 host;
	struct session		 fs;
	struct ssh_conn		*c;
	struct jump_pump	*pump;
	int			 users;		/* targets not yet freed */
	enum fail_kind		 fail_kind;
	char			*fail_reason;	/* for every target behind it */
	int			 closing;
	int			 closed;
	struct event		*ev_close;	/* a failure's close, deferred */
	/* Another session to the same hop (a "lane"), for stalled opens. */
	struct ssh_jump		*parent;	/* the hop before, or NULL */
	char			*hop_user;	/* as the spec gave them */
	int			 hop_port;
	struct event		*ev_lane;
};

/*
 * Sessions to one hop at most: a forward that hangs in the jump host's
 * connect holds up the channels queued behind it on its session
 * (jumptun.h), which then move to another session to the same hop.
 */
#define SSH_JUMP_LANES	4

static void	ssh_step(struct ssh_conn *);
static void	ssh_canon_done(void *);
static void	ssh_configured(struct ssh_conn *);
static void	ssh_io_cb(evutil_socket_t, short, void *);
static void	ssh_teardown(struct ssh_conn *);
static void	ssh_teardown_soon(struct ssh_conn *);
static void	ssh_free_now(struct ssh_conn *);
static void	ssh_netclose(struct ssh_conn *, int);
static ssize_t	ssh_recv_cb(libssh2_socket_t, void *, size_t, int, void **);
static void	ssh_jump_failed(struct ssh_jump *, enum fail_kind, const char *);
static void	ssh_jump_check_close(struct ssh_jump *);
static void	ssh_jump_stalled(void *);
static int	ssh_jump_route(struct ssh_conn *, char *, size_t);
static void	ssh_jumps_finish(struct ssh_run *);
static void	ssh_jump_keepalive(struct ssh_conn *);
static void	ssh_free(struct session *);

/*
 * The one setter of the sub-step: traces "FROM -> TO" at -vvv with the
 * caller's function and line, as session_set_state().
 */
#define ssh_set_step(c, st) ssh_set_step_at((c), (st), __func__, __LINE__)
static void
ssh_set_step_at(struct ssh_conn *c, enum ssh_step step, const char *func,
    int line)
{
	if (c->step == step)
		return;
	log_msg(LOG_DEBUG2, func, line, "%s: ssh %s -> %s", c->s->host->label,
	    ssh_step_names[c->step], ssh_step_names[step]);
	c->step = step;
}

/*
 * The session failed: record it once; the engine calls ops->close. The
 * caller's function and line go to session_fail_at().
 */
void
ssh_fail_at(struct ssh_conn *c, const char *func, int line,
    enum fail_kind kind, const char *fmt, ...)
{
	char	buf[1024];
	va_list	ap;

	if (c->failed || c->closing)
		return;
	c->failed = 1;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (c->ev_rd != NULL)
		event_del(c->ev_rd);
	if (c->ev_wr != NULL)
		event_del(c->ev_wr);
	if (c->ev_kick != NULL)
		event_del(c->ev_kick);
	if (c->ev_timer != NULL)
		event_del(c->ev_timer);
	if (c->jump != NULL) {
		ssh_jump_failed(c->jump, kind, buf);
		return;
	}
	session_fail_at(c->s, func, line, kind, "%s", buf);
}

/* libssh2's last error text for this session. */
static const char *
ssh_errstr(struct ssh_conn *c)
{
	char	*msg = NULL;

	if (c->ssh == NULL)
		return ("no session");
	libssh2_session_last_error(c->ssh, &msg, NULL, 0);
	return (msg != NULL && *msg != '\0' ? msg : "unknown error");
}

/* Why the connection broke, in words better than "transport read". */
const char *
ssh_lost(struct ssh_conn *c)
{
	switch (libssh2_session_last_errno(c->ssh)) {
	case LIBSSH2_ERROR_SOCKET_RECV:
	case LIBSSH2_ERROR_SOCKET_DISCONNECT:
		return ("the server closed or reset the connection");
	case LIBSSH2_ERROR_SOCKET_SEND:
		return ("cannot send to the server");
	default:
		return (ssh_errstr(c));
	}
}

int
ssh_blocked_out(struct ssh_conn *c)
{
	return ((libssh2_session_block_directions(c->ssh) &
	    LIBSSH2_SESSION_BLOCK_OUTBOUND) != 0);
}

/* ---- events --------------------------------------------------------- */

/*
 * Watch the fd for what libssh2 is blocked on. While running with nothing
 * half-sent and output not paused, incoming data is always welcome.
 */
static void
ssh_arm(struct ssh_conn *c)
{
	int	dirs = 0, rd, wr;

	if (c->failed || c->fd < 0 || c->ev_rd == NULL)
		return;
	if (c->rbuf_len > 0) {
		/* Bytes already read from the socket: no event will say so. */
		event_active(c->ev_kick, EV_TIMEOUT, 0);
		return;
	}
	if (c->ssh != NULL)
		dirs = libssh2_session_block_directions(c->ssh);
	rd = (dirs & LIBSSH2_SESSION_BLOCK_INBOUND) != 0;
	wr = (dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND) != 0;
	if (c->step == SSH_RUNNING) {
		if (c->pending == PEND_KEEPALIVE)
			rd = wr = 0;	/* the keepalive timer finishes it */
		else if (c->pending == PEND_NONE) {
			rd = !c->paused || (c->wblocked && rd);
			wr = c->wblocked && wr;
		}
	}
	if (c->step == SSH_WAIT_CLOSED && c->pending == PEND_NONE)
		rd = 1;
	if (c->step == SSH_EXITED)
		rd = wr = 0;
	/* A jump session reads while it has channels (or a call to end). */
	if (c->step == SSH_JUMP)
		rd = jump_pump_busy(c->jump->pump);
	/* Setup waits on the server when libssh2 names no direction. */
	if (c->step < SSH_RUNNING && !rd && !wr)
		rd = 1;
	/* Waiting for the ssh-agent: its answer kicks us (ssh_auth.c). */
	if (c->step == SSH_AUTH && c->auth != NULL &&
	    ssh_auth_waiting(c->auth))
		rd = wr = 0;
	if (rd)
		event_add(c->ev_rd, NULL);
	else
		event_del(c->ev_rd);
	if (wr)
		event_add(c->ev_wr, NULL);
	else
		event_del(c->ev_wr);
}

/* Run the session again on the next loop iteration. */
void
ssh_kick(struct ssh_conn *c)
{
	if (c->ev_kick != NULL && !c->failed)
		event_active(c->ev_kick, EV_TIMEOUT, 0);
}

/* ssh_auth.c: the ssh-agent answered. */
static void
ssh_auth_kick(void *arg)
{
	ssh_kick(arg);
}

static void
ssh_events_free(struct ssh_conn *c)
{
	if (c->ev_rd != NULL)
		event_free(c->ev_rd);
	if (c->ev_wr != NULL)
		event_free(c->ev_wr);
	if (c->ev_kick != NULL)
		event_free(c->ev_kick);
	c->ev_rd = c->ev_wr = c->ev_kick = NULL;
}

/* ---- init / cleanup ------------------------------------------------- */

/*
 * --sudo (clush's sudo mode): ask the password once, and run the command
 * as "sudo -S -p '' -- sh -c 'COMMAND'" with the password on its input.
 * The command's own input is /dev/null, so a password sudo did not ask
 * for (root, NOPASSWD, a cached ticket) is never read by the command.
 *
 * With a pty (--tty, RequestTTY: sudoers' requiretty, which asks for a
 * controlling terminal, not for a terminal on sudo's input) the pty is made
 * with ECHO off (ssh_chansetup_step), and a shell reads the password line
 * from it and pipes it to sudo -S: sudo reading the pty itself would flush
 * its input after a wrong password and wait for another one until -u,
 * where from a pipe it gets end of file ("1 incorrect password attempt",
 * exit 1) as without a pty. read and printf are sh builtins: the password
 * is on no command line.
 */
static const char sudo_head[] = "sudo -S -p '' -- sh -c ";
static const char sudo_head_tty[] = "sh -c 'IFS= read -r p; "
    "printf \"%s\\n\" \"$p\" | sudo -S -p \"\" -- sh -c \"$1\"' sh ";

/* head, then 'exec </dev/null; CMD' single-quoted for the remote shell. */
static char *
ssh_sudo_command(const char *head, const char *cmdline)
{
	struct evbuffer	*b = xevbuffer_new();
	char		*cmd;

	xasprintf(&cmd, "exec </dev/null; %s", cmdline);
	xevbuffer_addstr(b, head);
	xevbuffer_add_shquoted(b, cmd);
	free(cmd);
	return (xevbuffer_take(b, NULL));
}

static int
ssh_sudo_init(struct ssh_run *r, const struct options *opt)
{
	char	*pw;

	if ((pw = ssh_prompt_secret("[sudo] password: ")) == NULL) {
		error("--sudo: no terminal to ask the password on");
		return (-1);
	}
	xasprintf(&r->sudo_pw, "%s\n", pw);
	ssh_secret_free(pw);
	r->sudo_cmd = ssh_sudo_command(sudo_head, opt->cmdline);
	r->sudo_cmd_tty = ssh_sudo_command(sudo_head_tty, opt->cmdline);
	return (0);
}

static int
ssh_init(struct run *run)
{
	const struct options	*opt = run_options(run);
	struct ssh_host_config	 hc;
	struct ssh_run		*r;
	const char		*sock;
	char			 err[1024];
	int			 i;

	if (libssh2_init(0) != 0) {
		error("libssh2_init failed");
		return (-1);
	}
	r = xcalloc(1, sizeof *r);
	r->run = run;
	TAILQ_INIT(&r->inq);
	TAILQ_INIT(&r->tarq);
	TAILQ_INIT(&r->jumps);
	run_set_tpriv(run, r);
	if ((r->devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1) {
		error("/dev/null: %s", strerror(errno));
		return (-1);
	}
	if ((r->cfg = sshconfig_load(opt)) == NULL)
		return (-1);
	if (opt->copy != COPY_NONE &&
	    (r->copy = copy_plan_new(opt, run_nsessions(run))) == NULL)
		return (-1);

	r->keys.prompt_ok = 1;
	if (opt->askpass) {
		r->password = ssh_prompt_secret("Password: ");
		if (r->password == NULL) {
			error("--askpass: no terminal to ask the password on");
			return (-1);
		}
	}
	if (opt->sudo && ssh_sudo_init(r, opt) != 0)
		return (-1);

	/*
	 * Read the keys of the first host now so that passphrases are asked
	 * before the first connection, unless an agent may do the work.
	 */
	sock = getenv("SSH_AUTH_SOCK");
	if (opt->hosts.n > 0 && (sock == NULL || *sock == '\0')) {
		if (sshconfig_resolve(r->cfg, opt, opt->hosts.hosts[0].name,
		    opt->hosts.hosts[0].user, opt->hosts.hosts[0].port, &hc,
		    err, sizeof err) == 0) {
			r->keys.batch = hc.batch_mode;
			for (i = 0; i < hc.nidentity; i++)
				(void)ssh_key_get(&r->keys, hc.identity[i],
				    hc.identity_explicit);
		}
		ssh_host_config_free(&hc);
	}

	if (opt->stdin_stream)
		ssh_stdin_init(r);
	return (0);
}

static void
ssh_cleanup(struct run *run)
{
	struct ssh_run	*r = run_tpriv(run);

	if (r == NULL)
		return;
	ssh_jumps_finish(r);
	ssh_stdin_free(r);
	ssh_keyring_free(&r->keys);
	ssh_secret_free(r->password);
	ssh_secret_free(r->sudo_pw);
	free(r->sudo_cmd);
	free(r->sudo_cmd_tty);
	copy_plan_report(r->copy, run_nsessions(run));
	copy_plan_free(r->copy);
	if (r->cfg != NULL)
		sshconfig_free(r->cfg);
	sshcanon_free(r->canon);
	sshalgs_cache_free();
	if (r->devnull != -1)
		close(r->devnull);
	free(r);
	run_set_tpriv(run, NULL);
	libssh2_exit();
}

/* ---- the stream (dialer.h) ------------------------------------------ */

static void
ssh_dial_failed(void *arg, enum fail_kind kind, const char *reason)
{
	ssh_fail(arg, kind, "%s", reason);
}

/* The stream is up: start the SSH handshake on it. */
static void
ssh_dial_ready(void *arg)
{
	struct ssh_conn	*c = arg;
	struct session	*s = c->s;
	char		 msg[1024];

	c->fd = dial_fd(c->dial);
	/*
	 * Persistent: ssh_arm() decides after every step, and an event that
	 * stays wanted costs no epoll_ctl() (issue 14: two per round trip).
	 */
	c->ev_rd = event_new(run_base(s->run), c->fd, EV_READ | EV_PERSIST,
	    ssh_io_cb, c);
	c->ev_wr = event_new(run_base(s->run), c->fd, EV_WRITE | EV_PERSIST,
	    ssh_io_cb, c);
	c->ev_kick = event_new(run_base(s->run), -1, 0, ssh_io_cb, c);
	if (c->ev_rd == NULL || c->ev_wr == NULL || c->ev_kick == NULL)
		fatalx("event_new failed");
	session_event(s, SEV_CONNECTED);
	/* A timeout from now until the banner line is ssh's banner one. */
	s->awaiting_banner = 1;
	c->ssh = libssh2_session_init_ex(NULL, NULL, NULL, c);
	if (c->ssh == NULL) {
		ssh_fail(c, FAIL_LOCAL, "cannot create an SSH session");
		return;
	}
	libssh2_session_set_blocking(c->ssh, 0);
	c->sniff = xmalloc(SSH_SNIFF_MAX);
	c->sniff_len = 0;
	c->rbuf = xmalloc(SSH_RBUF_SIZE);
#ifdef HAVE_LIBSSH2_SESSION_CALLBACK_SET2
	libssh2_session_callback_set2(c->ssh, LIBSSH2_CALLBACK_RECV,
	    (libssh2_cb_generic *)ssh_recv_cb);
#else
	libssh2_session_callback_set(c->ssh, LIBSSH2_CALLBACK_RECV,
	    (void *)ssh_recv_cb);
#endif
	faultinj_install(c->ssh, c, ssh_recv_cb);	/* tests: MRSH_FAULT */
	if (sshalgs_apply(c->ssh, &c->hc, c->s->connect_timeout_used,
	    &c->offered, msg, sizeof msg) != 0) {
		ssh_fail(c, FAIL_LOCAL, "%s", msg);
		return;
	}
	ssh_set_step(c, SSH_HANDSHAKE);
	ssh_step(c);
}

static const struct dial_ops ssh_dial_ops = {
	.ready = ssh_dial_ready,
	.failed = ssh_dial_failed,
};

/* ---- setup: handshake, host key ------------------------------------- */

/* A failed recv() for libssh2: -errno; EAGAIN also marks the socket dry. */
static ssize_t
ssh_recv_error(struct ssh_conn *c)
{
	int	e = errno;

	if (e == EAGAIN || e == EWOULDBLOCK)
		c->rx_dry = 1;
	return (-e);
}

/*
 * recv() for libssh2 that keeps the server's first bytes until the
 * handshake is done, so that a failed key exchange can name what the
 * server offered (libssh2 1.10 does not say).
 *
 * A server's first line must be its SSH banner: libssh2 1.10 fails at once
 * on any other first line, but 1.11 skips lines before the banner (RFC 4253
 * allows them), so a peer that speaks something else (HTTP, SMTP) and keeps
 * the connection open would hold the session until -t. We fail it here, on
 * the first bytes, on both versions.
 */
static ssize_t
ssh_recv_cb(libssh2_socket_t fd, void *buf, size_t len, int flags,
    void **abstract)
{
	struct ssh_conn	*c = *abstract;
	const unsigned char *p = buf;
	ssize_t		 n, i;
	size_t		 room;

	int		 spin = ++c->dry_spins > SSH_DRY_SPINS;

	if (c->prebanner_over && c->step < SSH_RUNNING)
		return (-ECONNABORTED);
	if (c->dry_spins > SSH_DRY_SPINS_MAX && c->step < SSH_RUNNING) {
		debug("%s: libssh2 waited in a loop of its own for %d reads "
		    "with nothing to read; giving the connection up",
		    c->s->host->label, SSH_DRY_SPINS_MAX);
		return (-ECONNABORTED);
	}
	if (c->step < SSH_RUNNING && !spin) {
		/* Bounded per call: the loop gets control back. */
		if (c->call_bytes >= SSH_SETUP_CALL_BYTES)
			return (-EAGAIN);
		if (len > SSH_SETUP_CALL_BYTES - c->call_bytes)
			len = SSH_SETUP_CALL_BYTES - c->call_bytes;
	}
	/*
	 * The socket gave less than asked or said EAGAIN: until the read
	 * event fires again, say EAGAIN without asking the kernel (issue 14:
	 * libssh2 tries a read after every packet it sends). The fd is
	 * level-triggered, so bytes that came in meanwhile wake us at once.
	 * Not for a jump host's session: channel events read it too.
	 */
	if (c->rx_dry && c->rbuf_len == 0 && c->jump == NULL && !spin)
		return (-EAGAIN);
	if (c->rbuf_len == 0 && c->rbuf != NULL && c->step == SSH_HANDSHAKE &&
	    len < SSH_RBUF_SIZE) {
		if ((n = recv(fd, c->rbuf, SSH_RBUF_SIZE, flags)) < 0)
			return (ssh_recv_error(c));
		c->rbuf_off = 0;
		c->rbuf_len = (size_t)n;
		c->rx_dry = n > 0 && n < SSH_RBUF_SIZE;
		if (n == 0) {
			c->peer_eof = 1;
			return (0);
		}
	}
	if (c->rbuf_len > 0) {
		n = (ssize_t)(len < c->rbuf_len ? len : c->rbuf_len);
		memcpy(buf, c->rbuf + c->rbuf_off, (size_t)n);
		c->rbuf_off += (size_t)n;
		c->rbuf_len -= (size_t)n;
	} else if ((n = recv(fd, buf, len, flags)) < 0)
		return (ssh_recv_error(c));
	else {
		c->rx_dry = n > 0 && (size_t)n < len;
		if (n == 0 && c->step < SSH_RUNNING)
			c->peer_eof = 1;
	}
	c->call_bytes += (size_t)n;
	if (n > 0)
		c->dry_spins = 0;
	/* Bounded per session before the banner line ("SSH-..."). */
	for (i = 0; i < n && c->s->awaiting_banner; i++) {
		if (c->banner_seen) {
			/* The banner exchange ends with the banner's line. */
			if (p[i] == '\n')
				c->s->awaiting_banner = 0;
			continue;
		}
		if (p[i] == '\n') {
			c->banner_pos = 0;
			c->banner_miss = 0;
		} else if (c->banner_pos < 4) {
			if (p[i] != (unsigned char)"SSH-"[c->banner_pos])
				c->banner_miss = 1;
			if (++c->banner_pos == 4 && !c->banner_miss)
				c->banner_seen = 1;
		}
		if (++c->prebanner > SSH_PREBANNER_MAX) {
			c->prebanner_over = 1;
			return (-ECONNABORTED);
		}
	}
	if (c->sniff != NULL && c->sniff_len < SSH_SNIFF_MAX) {
		room = SSH_SNIFF_MAX - c->sniff_len;
		if ((size_t)n < room)
			room = (size_t)n;
		memcpy(c->sniff + c->sniff_len, buf, room);
		c->sniff_len += room;
		if (memcmp(c->sniff, "SSH-", c->sniff_len < 4 ?
		    c->sniff_len : 4) != 0) {
			c->not_ssh = 1;
			return (-ECONNABORTED);
		}
	}
	/*
	 * A jump session's input is mostly read by runs that its channels'
	 * events start, not by its own read event: any byte is the answer
	 * ServerAliveCountMax waits for (as ssh resets its count on any
	 * packet).
	 */
	if (n > 0 && c->jump != NULL) {
		c->last_rx = run_now();
		c->ka_unanswered = 0;
	}
	return (n);
}

/* The handshake failed: say why in the user's terms (ssh_kexdiag.c). */
static void
ssh_handshake_failed(struct ssh_conn *c, int rc)
{
	struct ssh_kexdiag	kd;
	char			why[2048];

	memset(&kd, 0, sizeof kd);
	kd.ssh = c->ssh;
	kd.hc = &c->hc;
	kd.dial = c->dial;
	kd.sniff = c->sniff;
	kd.sniff_len = c->sniff_len;
	kd.offered = c->offered;
	kd.prebanner_over = c->prebanner_over ? SSH_PREBANNER_MAX : 0;
	kd.not_ssh = c->not_ssh;
	kd.peer_eof = c->peer_eof;
	ssh_kexdiag_explain(&kd, rc, why, sizeof why);
	ssh_fail(c, FAIL_UNREACHABLE, "%s", why);
}

/* ---- running -------------------------------------------------------- */

/*
 * Extended data of a type other than stderr (RFC 4254 defines only type 1)
 * has no reader, and while it sits in libssh2's queue it masks the
 * channel's EOF: the join would wait for it for ever. Called when both
 * streams said EAGAIN and the channel still has data queued, which is then
 * all of unknown types (every read pulls the socket before it looks at the
 * queue, and nothing pulled it after the stderr read): discard it, as ssh
 * does. libssh2 then widens the window, which may block (PEND_FLUSH).
 * Returns -1 if the session failed, 0 if blocked, 1 if done.
 */
static int
ssh_discard_extended(struct ssh_conn *c)
{
	int	rc;

	rc = libssh2_channel_flush_ex(c->ch, LIBSSH2_CHANNEL_FLUSH_EXTENDED_DATA);
	if (rc == LIBSSH2_ERROR_EAGAIN) {
		c->pending = ssh_blocked_out(c) ? PEND_FLUSH : PEND_NONE;
		return (0);
	}
	c->pending = PEND_NONE;
	if (rc < 0) {
		ssh_fail(c, FAIL_PROTOCOL, "connection lost: %s", ssh_lost(c));
		return (-1);
	}
	debug("%s: discarded %d bytes of extended data of an unknown type",
	    c->s->host->label, rc);
	return (1);
}

/*
 * A tar install's output is what the host's tools say (tar's and mv's
 * errors quoting names, a login shell's banner), not a command's: made
 * safe as mrsh's own text is (log_safe), line by line, so that no byte
 * from the server reaches the terminal raw.
 */
static void
ssh_output_safe(struct session *s, enum stream st, const char *buf,
    size_t n)
{
	const char	*nl, *end = buf + n;
	char		*out;
	size_t		 o = 0, len;

	out = xmalloc(n * 4 + 1);
	while (buf < end) {
		nl = memchr(buf, '\n', (size_t)(end - buf));
		len = (nl != NULL ? nl : end) - buf;
		(void)log_safe(out + o, n * 4 + 1 - o, buf, len);
		o += strlen(out + o);
		buf += len;
		if (nl != NULL) {
			out[o++] = '\n';
			buf++;
		}
	}
	session_output(s, st, out, o);
	free(out);
}

/*
 * Read both streams until both say EAGAIN (or EOF). Returns -1 if the
 * session failed, 1 at the channel's EOF, 0 otherwise.
 */
static int
ssh_drain(struct ssh_conn *c)
{
	struct session	*s = c->s;
	ssize_t		 n;
	size_t		 total = 0;
	int		 st, progress, idle = 0, r;

	if (c->pending == PEND_FLUSH && (r = ssh_discard_extended(c)) <= 0)
		return (r);
	for (;;) {
		progress = 0;
		for (st = STREAM_STDOUT; st <= STREAM_STDERR; st++) {
			if (c->pending == PEND_READ && c->pend_stream != st)
				continue;
			n = libssh2_channel_read_ex(c->ch, st == STREAM_STDOUT ?
			    0 : SSH_EXTENDED_DATA_STDERR, c->r->buf,
			    sizeof c->r->buf);
			if (n == LIBSSH2_ERROR_EAGAIN) {
				if (ssh_blocked_out(c)) {
					debug2("%s: a read left a packet "
					    "half-sent; it goes on alone",
					    s->host->label);
					c->pending = PEND_READ;
					c->pend_stream = st;
					return (0);
				}
				c->pending = PEND_NONE;
				continue;
			}
			c->pending = PEND_NONE;
			if (n < 0) {
				ssh_fail(c, FAIL_PROTOCOL, "connection lost: "
				    "%s", ssh_lost(c));
				return (-1);
			}
			if (n == 0)
				continue;	/* no data; EOF is checked below */
			progress = 1;
			total += (size_t)n;
			if (c->tar != NULL)
				ssh_output_safe(s, (enum stream)st, c->r->buf,
				    (size_t)n);
			else
				session_output(s, (enum stream)st, c->r->buf,
				    (size_t)n);
			if (c->failed || c->closing)
				return (-1);
		}
		if (libssh2_channel_eof(c->ch) == 1) {
			/* Data still queued masks the EOF; none is left. */
			if (!progress)
				return (1);
			continue;
		}
		if (c->paused)
			return (0);
		if (!progress) {
			/*
			 * Every read pulls all packets off the socket first,
			 * so reading stderr can queue stdout data that came
			 * in after stdout said EAGAIN. The socket would then
			 * never wake us for it: look in libssh2's queue
			 * (window_read_ex does not touch the socket) and go
			 * round once more if anything waits there.
			 */
			unsigned long avail = 0;

			libssh2_channel_window_read_ex(c->ch, &avail, NULL);
			if (avail == 0)
				return (0);
			if (++idle > 1) {
				/* Queued, yet neither stdout nor stderr. */
				if ((r = ssh_discard_extended(c)) <= 0)
					return (r);
				idle = 0;
			}
			continue;
		}
		idle = 0;
		if (total >= SSH_FAIR_BYTES) {
			ssh_kick(c);	/* let the other hosts run */
			return (0);
		}
	}
}

/*
 * The server closed the channel: report how the command ended.
 *
 * libssh2 1.10 keeps the last exit-status value (0 until one arrives) and
 * the exit-signal name, but cannot say whether an exit-status message came
 * at all. With libssh2_channel_has_exit_status (configure checks for it)
 * "no status" is told apart; without it a channel closed with neither
 * message reads as exit 0. What we can still tell: an exit signal, a
 * non-zero status, and a connection lost before the channel close (the
 * session fails instead).
 */
static void
ssh_report_exit(struct ssh_conn *c)
{
	struct session	*s = c->s;
	char		*sig = NULL, why[128];
	size_t		 siglen = 0;
	int		 code;

	libssh2_channel_get_exit_signal(c->ch, &sig, &siglen, NULL, NULL,
	    NULL, NULL);
	if (sig != NULL && siglen > 0) {
		session_exit_signal(s, signame_ssh_number(sig), sig);
		libssh2_free(c->ssh, sig);
		return;
	}
	if (sig != NULL) {
		libssh2_free(c->ssh, sig);
		/* ssh ignores exit-signal; without a name it is no signal. */
		session_exit_unknown(s, "the server sent an exit-signal "
		    "without a signal name");
		return;
	}
#ifdef HAVE_LIBSSH2_CHANNEL_HAS_EXIT_STATUS
	if (!libssh2_channel_has_exit_status(c->ch)) {
		session_exit_unknown(s, "the server sent no exit status");
		return;
	}
#endif
	code = libssh2_channel_get_exit_status(c->ch);
	if (c->tar != NULL && code != 0) {
		/* The tar install failed: a failed copy, as over SFTP. */
		c->copy_failed = 1;	/* closed in order all the same */
		session_fail(s, FAIL_COPY, "%s", copy_tar_failure(code, why,
		    sizeof why));
		return;
	}
	session_exit_status(s, code);
}

/* RUNNING: stdin out, output in; at the channel's EOF, WAIT_CLOSED. */
static enum ssh_res
ssh_step_running(struct ssh_conn *c)
{
	struct session	*s = c->s;
	int		 r;

	/* A half-sent packet is finished first, by the call that began it. */
	if (c->pending == PEND_KEEPALIVE)
		return (STEP_AGAIN);	/* the keepalive timer flushes it */
	if (c->pending == PEND_NONE || c->pending == PEND_WRITE ||
	    c->pending == PEND_SENDEOF) {
		if (ssh_write_stdin(c) == -1)
			return (STEP_FAILED);
	}
	if (c->paused && c->pending != PEND_READ && c->pending != PEND_FLUSH)
		return (STEP_AGAIN);
	if (c->pending != PEND_NONE && c->pending != PEND_READ &&
	    c->pending != PEND_FLUSH)
		return (STEP_AGAIN);
	if ((r = ssh_drain(c)) < 0)
		return (STEP_FAILED);
	if (r == 0) {
		/*
		 * The write found the server's window full, and the drain
		 * then read the window adjust: the server waits for our
		 * bytes and sends nothing that would wake us. Write now.
		 */
		if (c->wblocked && c->pending == PEND_NONE && !c->eof_sent &&
		    !c->paused && !(libssh2_session_block_directions(c->ssh) &
		    LIBSSH2_SESSION_BLOCK_OUTBOUND) &&
		    libssh2_channel_window_write_ex(c->ch, NULL) > 0)
			return (STEP_NEXT);
		return (STEP_AGAIN);
	}

	/* Channel EOF: both streams are done. */
	ssh_stdin_detach(c);
	session_eof(s, STREAM_STDOUT);
	session_eof(s, STREAM_STDERR);
	if (c->failed || c->closing)
		return (STEP_FAILED);
	ssh_set_step(c, SSH_WAIT_CLOSED);
	return (STEP_NEXT);
}

/*
 * ServerAliveCountMax keepalives unanswered: fail the host as ssh does
 * (direct sessions and a jump host's shared session alike). 1 if failed.
 */
static int
ssh_keepalive_overdue(struct ssh_conn *c)
{
	if (c->hc.server_alive_count_max <= 0 ||
	    c->ka_unanswered < c->hc.server_alive_count_max)
		return (0);
	ssh_fail(c, FAIL_TIMEOUT, "no answer from the server for %.0fs "
	    "(ServerAliveInterval %d, ServerAliveCountMax %d)",
	    run_now() - c->last_rx, c->hc.server_alive_interval,
	    c->hc.server_alive_count_max);
	return (1);
}

/* libssh2's keepalive interval: ServerAliveInterval, 2 s at least. */
static int
ssh_keepalive_every(const struct ssh_conn *c)
{
	return (c->hc.server_alive_interval < 2 ? 2 :
	    c->hc.server_alive_interval);
}

/* ServerAliveInterval: send a keepalive; fail a silent server. */
static void
ssh_keepalive_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ssh_conn	*c = arg;
	int		 next, every;

	if (c->failed || c->closing || c->ssh == NULL)
		return;
	if (c->step == SSH_JUMP) {
		ssh_jump_keepalive(c);
		return;
	}
	if (c->step != SSH_RUNNING && c->step != SSH_WAIT_CLOSED)
		return;
	/*
	 * As ssh(1): fail once ServerAliveCountMax keepalives went
	 * unanswered. Counted in keepalives really sent, not in seconds:
	 * libssh2 1.10 sends at most one per interval as time() sees it,
	 * and every 2 s for an interval of 1, so a fixed silence limit of
	 * interval * count failed live servers.
	 */
	if (c->paused)
		c->ka_unanswered = 0;	/* we are not reading: no verdict */
	else if (ssh_keepalive_overdue(c))
		return;
	/*
	 * Never interleave with another call's half-sent packet. Our own
	 * half-sent keepalive is flushed by the next (due) keepalive_send:
	 * libssh2 then finishes the old packet and sends nothing new.
	 */
	if (c->pending != PEND_NONE && c->pending != PEND_KEEPALIVE)
		return;
	next = 0;
	if (libssh2_keepalive_send(c->ssh, &next) < 0) {
		ssh_fail(c, FAIL_PROTOCOL, "connection lost: %s", ssh_lost(c));
		return;
	}
	/* Sent now: the next one is a whole (libssh2) interval away. */
	every = ssh_keepalive_every(c);
	if (next >= every && !c->paused)
		c->ka_unanswered++;
	if (ssh_blocked_out(c)) {
		debug2("%s: keepalive half-sent; the next one finishes it",
		    c->s->host->label);
		c->pending = PEND_KEEPALIVE;
	} else if (c->pending == PEND_KEEPALIVE) {
		c->pending = PEND_NONE;
		ssh_kick(c);
	}
	ssh_arm(c);
}

/*
 * ServerAliveInterval of a jump host, on its shared session: as ssh -J's
 * own connection to it (its ssh -W reads the jump host's config), so a
 * frozen jump host fails the targets behind it, naming it.
 */
static void
ssh_jump_keepalive(struct ssh_conn *c)
{
	int	next, every, rc;

	if (ssh_keepalive_overdue(c))
		return;
	if ((rc = jump_pump_keepalive(c->jump->pump, c->fd, &next)) == -1) {
		ssh_fail(c, FAIL_PROTOCOL, "connection lost: %s", ssh_lost(c));
		return;
	}
	every = ssh_keepalive_every(c);
	if (rc == 1 || next >= every)
		c->ka_unanswered++;
	else if (next == 0 && jump_pump_count(c->jump->pump) == 0)
		c->ka_unanswered = 0;	/* idle: nothing reads, no verdict */
	ssh_arm(c);
}

/* ---- the driver ----------------------------------------------------- */

/* ServerAliveInterval: libssh2's keepalives, sent from our timer. */
static void
ssh_keepalive_start(struct ssh_conn *c)
{
	struct timeval	tv;

	libssh2_keepalive_config(c->ssh, 1,
	    (unsigned)c->hc.server_alive_interval);
	c->ev_timer = event_new(run_base(c->s->run), -1, EV_PERSIST,
	    ssh_keepalive_cb, c);
	tv.tv_sec = c->hc.server_alive_interval;
	tv.tv_usec = 0;
	event_add(c->ev_timer, &tv);
}

/* HANDSHAKE: key exchange, banner first. */
static enum ssh_res
ssh_step_handshake(struct ssh_conn *c)
{
	struct session	*s = c->s;
	int		 rc;

	rc = libssh2_session_handshake(c->ssh, c->fd);
	if (rc == LIBSSH2_ERROR_EAGAIN)
		return (STEP_AGAIN);
	if (rc != 0) {
		ssh_handshake_failed(c, rc);
		return (STEP_FAILED);
	}
	free(c->sniff);
	c->sniff = NULL;
	if (c->rbuf_len == 0) {
		free(c->rbuf);
		c->rbuf = NULL;
	}
	debug("%s: kex %s, host key %s, cipher %s",
	    s->host->label, libssh2_session_methods(c->ssh,
	    LIBSSH2_METHOD_KEX), libssh2_session_methods(c->ssh,
	    LIBSSH2_METHOD_HOSTKEY), libssh2_session_methods(c->ssh,
	    LIBSSH2_METHOD_CRYPT_CS));
	ssh_set_step(c, SSH_HOSTKEY);
	return (STEP_NEXT);
}

/*
 * HOSTKEY: the server's host key against known_hosts, as ssh checks it
 * (no network: it never blocks); then the keepalive timer, and AUTH.
 */
static enum ssh_res
ssh_step_hostkey(struct ssh_conn *c)
{
	struct session	*s = c->s;
	struct sockaddr_storage peer;
	socklen_t	 peerlen;
	char		 err[1024];
	int		 rc;

	peerlen = sizeof peer;
	if (getpeername(c->fd, (struct sockaddr *)&peer, &peerlen) == -1)
		peer.ss_family = AF_UNSPEC;
	/* A jump channel or a ProxyCommand: AF_UNIX. */
	rc = knownhosts_check(c->ssh, &c->hc, (struct sockaddr *)&peer,
	    s->connect_timeout_used, err, sizeof err);
	if (rc < 0) {
		ssh_fail(c, FAIL_AUTH, "%s", err);
		return (STEP_FAILED);
	}
	if (rc == 1)	/* untrusted key: as ssh */
		c->hc.password_auth = c->hc.kbdint_auth = 0;
	if (c->hc.server_alive_interval > 0)
		ssh_keepalive_start(c);
	c->auth = ssh_auth_new(c->ssh, &c->hc, &c->r->keys,
	    c->r->password, s->host->label, run_base(s->run),
	    s->connect_timeout_used, ssh_auth_kick, c);
	ssh_set_step(c, SSH_AUTH);
	return (STEP_NEXT);
}

/* AUTH: ssh_auth.c tries each method in ssh's order. */
static enum ssh_res
ssh_step_auth(struct ssh_conn *c)
{
	enum fail_kind	kind;
	char		err[1024];

	switch (ssh_auth_step(c->auth, &kind, err, sizeof err)) {
	case SSH_AUTH_AGAIN:
		return (STEP_AGAIN);
	case SSH_AUTH_FAILED:
		ssh_fail(c, kind, "%s", err);
		return (STEP_FAILED);
	case SSH_AUTH_DONE:
		break;
	}
	ssh_auth_free(c->auth);
	c->auth = NULL;
	ssh_set_step(c, SSH_CHANNEL_OPEN);
	return (STEP_NEXT);
}

/*
 * --copy without --tar or --sftp: a plan with a directory in it (-r) goes
 * by tar where the host's check says it can, the rest by SFTP.
 */
static int
ssh_copy_wants_check(const struct ssh_conn *c)
{
	const struct copy_plan	*p = c->r->copy;
	size_t			 i;

	if (c->tar_checked || run_options(c->s->run)->copy_method != COPY_AUTO ||
	    run_options(c->s->run)->copy != COPY_PUSH)
		return (0);
	for (i = 0; i < p->nentries; i++)
		if (p->entries[i].kind == CE_DIR)
			return (1);
	return (0);
}

static int
ssh_copy_by_tar(const struct ssh_conn *c)
{
	switch (run_options(c->s->run)->copy_method) {
	case COPY_BY_TAR:
		return (1);
	case COPY_BY_SFTP:
		return (0);
	case COPY_AUTO:
		break;
	}
	return (c->tar_checked && c->tar_why_not == NULL);
}

/* A "session" channel into c->ch: STEP_NEXT once it is open. */
static enum ssh_res
ssh_session_channel(struct ssh_conn *c)
{
	c->ch = libssh2_channel_open_ex(c->ssh, "session",
	    sizeof "session" - 1, SSH_WINDOW, SSH_PACKET, NULL, 0);
	if (c->ch != NULL)
		return (STEP_NEXT);
	if (libssh2_session_last_errno(c->ssh) == LIBSSH2_ERROR_EAGAIN)
		return (STEP_AGAIN);
	ssh_fail(c, FAIL_PROTOCOL, "channel open refused: %s", ssh_errstr(c));
	return (STEP_FAILED);
}

/* The check's stdout: its last sizeof tar_check_out bytes. */
static void
ssh_tar_check_keep(struct ssh_conn *c, const char *buf, size_t n)
{
	size_t	cap = sizeof c->tar_check_out, keep;

	if (n >= cap) {
		memcpy(c->tar_check_out, buf + n - cap, cap);
		c->tar_check_len = cap;
		return;
	}
	keep = c->tar_check_len + n > cap ? cap - n : c->tar_check_len;
	memmove(c->tar_check_out, c->tar_check_out + c->tar_check_len - keep,
	    keep);
	memcpy(c->tar_check_out + keep, buf, n);
	c->tar_check_len = keep + n;
}

/* Where TAR_CHECK is. */
enum { TC_OPEN, TC_EXEC, TC_EOF, TC_READ, TC_FLUSH, TC_FREE };

/*
 * TAR_CHECK: run copy_tar_check_command() on a channel of its own, stdin
 * at EOF, and keep the last bytes of its stdout; then free the channel
 * and open the copy's. A refused exec means SFTP (an SFTP-only account).
 * Still setup: -t bounds it.
 */
static enum ssh_res
ssh_step_tar_check(struct ssh_conn *c)
{
	struct session	*s = c->s;
	char		 buf[4096], *dest;
	enum ssh_res	 res;
	unsigned long	 avail;
	ssize_t		 n;
	int		 rc, more, idle = 0;

	switch (c->tar_check_at) {
	case TC_OPEN:
		s->awaiting = "the check for GNU tar";
		if ((res = ssh_session_channel(c)) != STEP_NEXT)
			return (res);
		dest = copy_expand(run_options(s->run)->copy_dest,
		    s->host->label);
		c->tar_check_cmd = copy_tar_check_command(dest);
		free(dest);
		c->tar_check_at = TC_EXEC;
		/* FALLTHROUGH */
	case TC_EXEC:
		rc = libssh2_channel_process_startup(c->ch, "exec",
		    sizeof "exec" - 1, c->tar_check_cmd,
		    (unsigned int)strlen(c->tar_check_cmd));
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return (STEP_AGAIN);
		if (rc == LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED) {
			c->tar_why_not = "the server refused the check's "
			    "command";
			c->tar_check_at = TC_FREE;
			return (STEP_NEXT);
		}
		if (rc != 0) {
			ssh_fail(c, FAIL_PROTOCOL, "exec refused by the "
			    "server: %s", ssh_errstr(c));
			return (STEP_FAILED);
		}
		c->tar_check_at = TC_EOF;
		/* FALLTHROUGH */
	case TC_EOF:
		rc = libssh2_channel_send_eof(c->ch);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return (STEP_AGAIN);
		if (rc != 0) {
			ssh_fail(c, FAIL_PROTOCOL, "connection lost: %s",
			    ssh_lost(c));
			return (STEP_FAILED);
		}
		c->tar_check_at = TC_READ;
		/* FALLTHROUGH */
	case TC_READ:
	again:
		do {
			more = 0;
			n = libssh2_channel_read_ex(c->ch,
			    SSH_EXTENDED_DATA_STDERR, buf, sizeof buf);
			if (n > 0)
				more = 1;	/* thrown away */
			else if (n < 0 && n != LIBSSH2_ERROR_EAGAIN)
				goto lost;
			n = libssh2_channel_read_ex(c->ch, 0, buf, sizeof buf);
			if (n > 0) {
				ssh_tar_check_keep(c, buf, (size_t)n);
				more = 1;
			} else if (n < 0 && n != LIBSSH2_ERROR_EAGAIN)
				goto lost;
			if (more)
				idle = 0;
		} while (more);
		/*
		 * Every read pulls all packets off the socket, so the stdout
		 * read can queue stderr bytes after the stderr read said
		 * EAGAIN. The socket never wakes us for them, and queued data
		 * masks the EOF: look in libssh2's queue, as ssh_drain does,
		 * and go round again while anything waits there.
		 */
		avail = 0;
		libssh2_channel_window_read_ex(c->ch, &avail, NULL);
		if (avail > 0) {
			if (++idle < 2)
				goto again;
			/* Queued, yet neither stdout nor stderr. */
			c->tar_check_at = TC_FLUSH;
			return (STEP_NEXT);
		}
		if (!libssh2_channel_eof(c->ch))
			return (STEP_AGAIN);
		c->tar_why_not = copy_tar_verdict(c->tar_check_out,
		    c->tar_check_len);
		c->tar_check_at = TC_FREE;
		/* FALLTHROUGH */
	case TC_FREE:
		rc = libssh2_channel_free(c->ch);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return (STEP_AGAIN);
		c->ch = NULL;
		if (rc != 0) {
			ssh_fail(c, FAIL_PROTOCOL, "connection lost: %s",
			    ssh_lost(c));
			return (STEP_FAILED);
		}
		break;
	case TC_FLUSH:
		/* Extended data of another type: dropped, then read on. */
		rc = libssh2_channel_flush_ex(c->ch,
		    LIBSSH2_CHANNEL_FLUSH_EXTENDED_DATA);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return (STEP_AGAIN);
		if (rc < 0)
			goto lost;
		c->tar_check_at = TC_READ;
		return (STEP_NEXT);
	}
	free(c->tar_check_cmd);
	c->tar_check_cmd = NULL;
	c->tar_checked = 1;
	s->awaiting = NULL;
	if (c->tar_why_not == NULL)
		info("%s: the tree goes as a tar stream", s->host->label);
	else
		info("%s: the tree goes over SFTP: %s", s->host->label,
		    c->tar_why_not);
	ssh_set_step(c, SSH_CHANNEL_OPEN);
	return (STEP_NEXT);
lost:
	ssh_fail(c, FAIL_PROTOCOL, "connection lost: %s", ssh_lost(c));
	return (STEP_FAILED);
}

/*
 * CHANNEL_OPEN: the "session" channel for the command; a jump host's
 * session serves its targets' channels instead, and --copy's SFTP opens
 * its own.
 */
static enum ssh_res
ssh_step_channel_open(struct ssh_conn *c)
{
	struct session	*s = c->s;
	enum ssh_res	 res;

	if (c->jump != NULL) {
		debug("%s: up; its targets come as channels", s->host->label);
		ssh_set_step(c, SSH_JUMP);
		jump_pump_attach(c->jump->pump, c->ssh);
		return (STEP_NEXT);
	}
	if (c->r->copy != NULL && c->tar == NULL) {
		if (ssh_copy_wants_check(c)) {
			ssh_set_step(c, SSH_TAR_CHECK);
			return (STEP_NEXT);
		}
		if (!ssh_copy_by_tar(c)) {
			/* SFTP opens its own channel. */
			c->xfer = sftp_xfer_new(s, c->ssh, c->r->copy,
			    &c->call_bytes);
			ssh_set_step(c, SSH_SFTP);
			c->last_rx = run_now();
			/*
			 * Still setup (-t) until the SFTP server answers: a
			 * subsystem that never does (it exits first) would
			 * otherwise hold the host until -u, or for ever.
			 * sftp_chan_run starts the command.
			 */
			s->awaiting = "the SFTP server";
			return (STEP_NEXT);
		}
		/* --tar: a command channel, the stream as its input. */
		ssh_tar_start(c);
	}
	if ((res = ssh_session_channel(c)) != STEP_NEXT)
		return (res);
	memset(&c->chansetup, 0, sizeof c->chansetup);
	/* Never a terminal for a tar stream (RequestTTY force or not). */
	c->tty = c->tar != NULL ? 0 :
	    ssh_chansetup_want_tty(run_options(s->run)->tty, &c->hc);
	ssh_set_step(c, SSH_CHANSETUP);
	return (STEP_NEXT);
}

/* CHANSETUP: pty-req and the environment (ssh_chansetup.c). */
static enum ssh_res
ssh_step_chansetup(struct ssh_conn *c)
{
	char	err[1024];
	int	rc;

	rc = ssh_chansetup_step(c->ch, &c->chansetup, &c->hc, c->tty,
	    c->r->sudo_pw != NULL, err, sizeof err);
	if (rc == LIBSSH2_ERROR_EAGAIN)
		return (STEP_AGAIN);
	if (rc != 0) {
		ssh_fail(c, FAIL_PROTOCOL, "%s", err);
		return (STEP_FAILED);
	}
	ssh_set_step(c, SSH_EXEC);
	return (STEP_NEXT);
}

/* EXEC: the command (--sudo's wrapping of it); then it runs. */
static enum ssh_res
ssh_step_exec(struct ssh_conn *c)
{
	struct session	*s = c->s;
	const char	*cmd;
	int		 rc;

	cmd = run_options(s->run)->cmdline != NULL ?
	    run_options(s->run)->cmdline : "";
	if (c->r->sudo_cmd != NULL)
		cmd = c->tty ? c->r->sudo_cmd_tty : c->r->sudo_cmd;
	if (c->tar_cmd != NULL)
		cmd = c->tar_cmd;
	rc = libssh2_channel_process_startup(c->ch, "exec", sizeof "exec" - 1,
	    cmd, (unsigned int)strlen(cmd));
	if (rc == LIBSSH2_ERROR_EAGAIN)
		return (STEP_AGAIN);
	if (rc != 0) {
		ssh_fail(c, FAIL_PROTOCOL, "exec refused by the server: %s",
		    ssh_errstr(c));
		return (STEP_FAILED);
	}
	ssh_set_step(c, SSH_RUNNING);
	c->last_rx = run_now();
	session_event(s, SEV_COMMAND_STARTED);
	return (STEP_NEXT);
}

/*
 * SFTP: the copy goes on. At the end the session reports like a command:
 * exit 0, or a copy failure (after ssh_sftp.c cleaned up and shut SFTP
 * down, so the connection still closes in order).
 */
static enum ssh_res
ssh_step_sftp(struct ssh_conn *c)
{
	struct session		*s = c->s;
	enum sftp_result	 r;

	r = sftp_xfer_step(c->xfer);
	if (c->closing && r != SFTP_AGAIN && r != SFTP_YIELD) {
		/* An abort's cleanup (ssh_close) is over: reset, as aborts. */
		debug("%s: temporary files removed after the abort",
		    s->host->label);
		ssh_free_now(c);
		ssh_netclose(c, 1);
		return (STEP_DONE);
	}
	switch (r) {
	case SFTP_AGAIN:
		return (STEP_AGAIN);
	case SFTP_YIELD:
		ssh_kick(c);
		return (STEP_DONE);
	case SFTP_LOST:
		ssh_fail(c, FAIL_PROTOCOL, "%s: %s",
		    sftp_xfer_error(c->xfer), ssh_lost(c));
		return (STEP_FAILED);
	case SFTP_LOCAL:
		ssh_fail(c, FAIL_LOCAL, "%s", sftp_xfer_error(c->xfer));
		return (STEP_FAILED);
	case SFTP_FAILED:
	case SFTP_DONE:
		break;
	}
	ssh_set_step(c, SSH_EXITED);
	event_del(c->ev_rd);
	event_del(c->ev_wr);
	if (c->ev_timer != NULL)
		event_del(c->ev_timer);
	session_eof(s, STREAM_STDOUT);
	session_eof(s, STREAM_STDERR);
	if (r == SFTP_FAILED) {
		c->copy_failed = 1;	/* closed in order all the same */
		session_fail(s, FAIL_COPY, "%s", sftp_xfer_error(c->xfer));
	} else
		session_exit_status(s, 0);
	return (STEP_DONE);
}

/* JUMP: a jump host's session moves its targets' channels. */
static enum ssh_res
ssh_step_jump(struct ssh_conn *c)
{
	if (jump_pump_run(c->jump->pump) == -1) {
		ssh_fail(c, FAIL_PROTOCOL, "connection lost: %s", ssh_lost(c));
		return (STEP_FAILED);
	}
	ssh_jump_check_close(c->jump);
	if (c->closing)
		return (STEP_DONE);
	return (STEP_AGAIN);
}

/*
 * Did the server send the command's exit signal (or, where libssh2 can
 * tell, its exit status)? Otherwise an exit status of 0 cannot be told
 * from none.
 */
static int
ssh_exit_received(struct ssh_conn *c)
{
	char	*sig = NULL;
	size_t	 siglen = 0;

	libssh2_channel_get_exit_signal(c->ch, &sig, &siglen, NULL, NULL,
	    NULL, NULL);
	if (sig != NULL) {
		libssh2_free(c->ssh, sig);
		return (1);
	}
#ifdef HAVE_LIBSSH2_CHANNEL_HAS_EXIT_STATUS
	return (libssh2_channel_has_exit_status(c->ch));
#else
	return (0);
#endif
}

/* WAIT_CLOSED: the server's channel close, then the exit status. */
static enum ssh_res
ssh_step_wait_closed(struct ssh_conn *c)
{
	int	rc;

	rc = libssh2_channel_wait_closed(c->ch);
	if (rc == LIBSSH2_ERROR_EAGAIN)
		return (STEP_AGAIN);
	if (rc != 0 && !ssh_exit_received(c)) {
		ssh_fail(c, FAIL_PROTOCOL, "connection lost before the "
		    "channel closed: %s", rc == LIBSSH2_ERROR_SOCKET_RECV ||
		    rc == LIBSSH2_ERROR_SOCKET_DISCONNECT ? "the server "
		    "closed or reset the connection" : ssh_lost(c));
		return (STEP_FAILED);
	}
	if (rc != 0)	/* as ssh: the exit came, the close did not */
		info("%s: connection lost after the command's exit (no "
		    "channel close)", c->s->host->label);
	ssh_set_step(c, SSH_EXITED);
	event_del(c->ev_rd);
	event_del(c->ev_wr);
	if (c->ev_timer != NULL)
		event_del(c->ev_timer);
	ssh_report_exit(c);
	return (STEP_DONE);
}

/* The cleanup steps (ops->close): ssh_teardown() arms its own events. */
static enum ssh_res
ssh_step_teardown(struct ssh_conn *c)
{
	ssh_teardown(c);
	return (STEP_DONE);
}

/*
 * Start the cleanup from the loop (ssh_io_cb), never from inside whatever
 * closed the session. libssh2 builds some of the cleanup's packets on its
 * own stack (the channel EOF that libssh2_channel_free() sends when mrsh
 * sent none); a half-sent one must be retried from the same stack depth,
 * or 1.11.1 answers EAGAIN for ever (1.10: an error). Every later call
 * comes from ssh_io_cb too, so every call has the same depth.
 */
static void
ssh_teardown_soon(struct ssh_conn *c)
{
	if (c->failed || c->ev_kick == NULL) {
		ssh_teardown(c);
		return;
	}
	event_active(c->ev_kick, EV_TIMEOUT, 0);
}

/*
 * One function per step; a step without one (NEW, DIAL, EXITED and the
 * net close) waits for an event that is not the fd's.
 */
static enum ssh_res (*const ssh_steps[SSH_STEP_COUNT])(struct ssh_conn *) = {
	[SSH_HANDSHAKE] =	ssh_step_handshake,
	[SSH_HOSTKEY] =		ssh_step_hostkey,
	[SSH_AUTH] =		ssh_step_auth,
	[SSH_TAR_CHECK] =	ssh_step_tar_check,
	[SSH_CHANNEL_OPEN] =	ssh_step_channel_open,
	[SSH_CHANSETUP] =	ssh_step_chansetup,
	[SSH_EXEC] =		ssh_step_exec,
	[SSH_SFTP] =		ssh_step_sftp,
	[SSH_RUNNING] =		ssh_step_running,
	[SSH_JUMP] =		ssh_step_jump,
	[SSH_WAIT_CLOSED] =	ssh_step_wait_closed,
	[SSH_SIG_SYNC] =	ssh_step_teardown,
	[SSH_CH_FREE] =		ssh_step_teardown,
	[SSH_DISCONNECT] =	ssh_step_teardown,
	[SSH_SESS_FREE] =	ssh_step_teardown,
};

/* Advance the session as far as it goes without blocking, then arm. */
static void
ssh_step(struct ssh_conn *c)
{
	enum ssh_res	(*fn)(struct ssh_conn *);

	c->call_bytes = 0;	/* a new turn: see ssh_recv_cb */
	c->dry_spins = 0;
	for (;;) {
		if (c->failed)
			return;
		if ((fn = ssh_steps[c->step]) == NULL)
			return;
		switch (fn(c)) {
		case STEP_NEXT:
			continue;
		case STEP_AGAIN:
			ssh_arm(c);
			return;
		case STEP_DONE:
		case STEP_FAILED:
			return;
		}
	}
}

static void
ssh_io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ssh_conn	*c = arg;

	if (what & EV_READ) {
		c->last_rx = run_now();
		c->ka_unanswered = 0;
		c->rx_dry = 0;
	}
	if (c->failed)
		return;
	ssh_step(c);
}

/* ---- ops ------------------------------------------------------------ */

static void
ssh_start(struct session *s)
{
	struct ssh_run	*r = run_tpriv(s->run);
	struct ssh_conn	*c = s->tdata;
	const struct host *h = s->host;

	if (c != NULL) {
		/* Resumed after session_wait_port_for(). */
		if (c->step == SSH_DIAL && !c->failed)
			dial_resume(c->dial);
		return;
	}
	c = xcalloc(1, sizeof *c);
	c->s = s;
	c->r = r;
	c->fd = -1;
	s->tdata = c;
	c->cfgh = sshconfig_begin(r->cfg, run_options(s->run), h->name,
	    h->user, h->port);
	if (sshconfig_canon_next(c->cfgh) != NULL) {
		/* CanonicalizeHostname: look names up first, as ssh. */
		session_event(s, SEV_LOOKUP);
		if (r->canon == NULL)
			r->canon = sshcanon_new(run_base(s->run));
		c->canon = sshcanon_start(r->canon, c->cfgh, ssh_canon_done,
		    c);
		return;
	}
	ssh_configured(c);
}

/* The canonicalization lookups are answered. */
static void
ssh_canon_done(void *arg)
{
	struct ssh_conn	*c = arg;

	c->canon = NULL;
	ssh_configured(c);
}

/* ssh_config is known for the host: dial it (or refuse it). */
static void
ssh_configured(struct ssh_conn *c)
{
	struct session	*s = c->s;
	const struct host *h = s->host;
	char		 err[1024], *cmd, *jcmd = NULL, *via;
	int		 rc;

	c->have_hc = 1;
	rc = sshconfig_end(c->cfgh, &c->hc, err, sizeof err);
	sshconfig_host_free(c->cfgh);
	c->cfgh = NULL;
	if (rc != 0) {
		/* Never connect where ssh would not: refuse the host. */
		session_event(s, SEV_REFUSED);
		ssh_fail(c, FAIL_LOCAL, "%s", err);
		return;
	}
	/* What ssh_config decided, for --json and the summary. */
	free(s->cfg_user);
	s->cfg_user = c->hc.user != NULL ? xstrdup(c->hc.user) : NULL;
	free(s->cfg_hostname);
	s->cfg_hostname = c->hc.hostname != NULL ?
	    xstrdup(c->hc.hostname) : NULL;
	s->cfg_port = c->hc.port > 0 ? c->hc.port : 22;
	if (c->hc.connect_timeout > 0 &&
	    (run_options(s->run)->connect_timeout <= 0 ||
	    c->hc.connect_timeout < run_options(s->run)->connect_timeout)) {
		/* The smaller of -t and ConnectTimeout applies. */
		session_set_timeout(s, c->hc.connect_timeout);
		s->connect_timeout_what = "ConnectTimeout in ssh_config";
	}
	if (run_options(s->run)->stdin_stream)
		ssh_stdin_attach(c);
	ssh_set_step(c, SSH_DIAL);
	c->dial = dial_new(s, &ssh_dial_ops, c);
	if (c->hc.proxy_jump != NULL) {
		/* A channel of the run's one session to the last hop. */
		switch (ssh_jump_route(c, err, sizeof err)) {
		case 1:
			return;
		case -1:
			ssh_fail(c, FAIL_LOCAL, "%s", err);
			return;
		default:
			break;
		}
		/*
		 * A hop with its own ProxyCommand, for now: as ssh, the
		 * ProxyCommand ssh itself would run.
		 */
		jcmd = jump_proxy_command(c->hc.proxy_jump,
		    run_options(s->run)->ssh_config, err, sizeof err);
		if (jcmd == NULL) {
			/* Never connect directly instead. */
			ssh_fail(c, FAIL_LOCAL, "ProxyJump %s: %s",
			    c->hc.proxy_jump, err);
			return;
		}
		via = jump_last_host(c->hc.proxy_jump);
		dial_set_route(c->dial, via);
		free(via);
	}
	if (jcmd != NULL || c->hc.proxy_command != NULL) {
		free(s->via);
		s->via = xstrdup(jcmd != NULL ? dial_route(c->dial) :
		    "proxycommand");
	}
	if (jcmd != NULL || c->hc.proxy_command != NULL) {
		cmd = proxycmd_expand(jcmd != NULL ? jcmd :
		    c->hc.proxy_command, c->hc.hostname,
		    c->hc.port, c->hc.user, h->name, err, sizeof err);
		free(jcmd);
		if (cmd == NULL) {
			ssh_fail(c, FAIL_LOCAL, "%s", err);
			return;
		}
		dial_command(c->dial, cmd);
		free(cmd);
		return;
	}
	if (c->hc.naddrs > 0) {
		/* As ssh: the addresses canonicalization found. */
		dial_tcp_addrs(c->dial, c->hc.addrs, c->hc.naddrs,
		    c->hc.port > 0 ? c->hc.port : 22);
		return;
	}
	dial_tcp(c->dial, c->hc.hostname != NULL ? c->hc.hostname : h->name,
	    c->hc.port > 0 ? c->hc.port : 22);
}

/* The fd is closed: tell the engine, once. */
static void
ssh_net_closed(enum close_how how, void *arg)
{
	struct ssh_conn	*c = arg;

	ssh_set_step(c, SSH_CLOSED);
	if (c->jump != NULL) {
		debug("%s: connection closed (%s)", c->s->host->label,
		    how == CLOSED_REMOTE_FIRST ? "remote first" :
		    how == CLOSED_RESET ? "reset" : how == CLOSED_LOCAL_FIRST ?
		    "local first" : "no connection");
		c->jump->closed = 1;
		return;
	}
	session_closed(c->s, how);
}

/*
 * Give the stream back to the dialer (our events on it go first), which
 * closes it by the rules of its kind. A connect still in progress (a
 * connect timeout) is no connection: counted as no socket.
 */
static void
ssh_netclose(struct ssh_conn *c, int abort_now)
{
	ssh_events_free(c);
	if (c->ev_timer != NULL) {
		event_free(c->ev_timer);
		c->ev_timer = NULL;
	}
	ssh_set_step(c, SSH_NETCLOSE);
	c->fd = -1;
	if (c->dial == NULL) {
		/* Refused before dialing (ssh_config): no socket at all. */
		ssh_net_closed(CLOSED_NONE, c);
		return;
	}
	dial_close(c->dial, abort_now, ssh_net_closed, c);
}

/*
 * Free the libssh2 objects without waiting on the network: the socket is
 * reset first and its fd number pointed at /dev/null, so every send or
 * recv libssh2 still tries fails at once instead of returning EAGAIN.
 */
static void
ssh_free_now(struct ssh_conn *c)
{
	struct linger	l;

	ssh_auth_free(c->auth);	/* its agent uses the session */
	c->auth = NULL;
	if (c->ssh == NULL)
		return;
	c->rx_dry = 0;		/* every recv goes to the (dead) fd */

	if (c->fd >= 0) {
		/*
		 * Out of epoll while the fd is still the socket: afterwards
		 * epoll_ctl() on /dev/null fails, and libevent says so on
		 * stderr (a cleanup deadline with a write pending).
		 */
		if (c->ev_rd != NULL)
			event_del(c->ev_rd);
		if (c->ev_wr != NULL)
			event_del(c->ev_wr);
		l.l_onoff = 1;
		l.l_linger = 0;
		(void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
		if (dup2(c->r->devnull, c->fd) == -1)
			fatal("dup2");
	}
	sftp_xfer_free(c->xfer);	/* its SFTP calls now fail at once */
	c->xfer = NULL;
	ssh_tar_free(c);
	if (c->ch != NULL)
		(void)libssh2_channel_free(c->ch);
	c->ch = NULL;
	(void)libssh2_session_free(c->ssh);
	c->ssh = NULL;
}

/* The graceful cleanup took longer than --close-wait: reset. */
static void
ssh_cleanup_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ssh_conn	*c = arg;

	debug("%s: SSH cleanup timed out, reset", c->s->host->label);
	ssh_free_now(c);
	ssh_netclose(c, 1);
}

/*
 * Graceful cleanup: free the channel (sends our channel close), send
 * disconnect, free the session, then the close discipline of netconn.
 */
static void
ssh_teardown(struct ssh_conn *c)
{
	int	rc;

	for (;;) {
		switch (c->step) {
		case SSH_SIG_SYNC:
			/*
			 * The signal, then a request sshd answers (it refuses
			 * env on a running channel): its answer means the
			 * signal was taken, and the reset may follow. Without
			 * it the reset can discard the signal unread.
			 */
#ifdef HAVE_LIBSSH2_CHANNEL_SIGNAL_EX
			if (c->sig_partial) {
				rc = libssh2_channel_signal_ex(c->ch,
				    c->sig_name, strlen(c->sig_name));
				if (rc == LIBSSH2_ERROR_EAGAIN)
					goto wait;
				c->sig_partial = 0;
			}
#endif
			rc = libssh2_channel_setenv_ex(c->ch,
			    "MRSH_SIGNAL_SYNC", 16, "1", 1);
			if (rc == LIBSSH2_ERROR_EAGAIN)
				goto wait;
			debug("%s: signal %s taken by the server",
			    c->s->host->label, c->sig_name);
			ssh_free_now(c);
			ssh_netclose(c, 1);
			return;
		case SSH_CH_FREE:
			if (c->ch != NULL) {
				rc = libssh2_channel_free(c->ch);
				if (rc == LIBSSH2_ERROR_EAGAIN)
					goto wait;
				if (rc != 0)
					c->cleanup_abort = 1;
				c->ch = NULL;
			}
			ssh_set_step(c, SSH_DISCONNECT);
			break;
		case SSH_DISCONNECT:
			if (!c->cleanup_abort) {
				rc = libssh2_session_disconnect(c->ssh,
				    "mrsh: done");
				if (rc == LIBSSH2_ERROR_EAGAIN)
					goto wait;
				if (rc != 0)
					c->cleanup_abort = 1;
			}
			ssh_set_step(c, SSH_SESS_FREE);
			break;
		case SSH_SESS_FREE:
			if (c->cleanup_abort) {
				ssh_free_now(c);
				ssh_netclose(c, 1);
				return;
			}
			rc = libssh2_session_free(c->ssh);
			if (rc == LIBSSH2_ERROR_EAGAIN)
				goto wait;
			c->ssh = NULL;
			ssh_netclose(c, 0);
			return;
		default:
			return;
		}
	}
wait:
	if (libssh2_session_block_directions(c->ssh) &
	    LIBSSH2_SESSION_BLOCK_INBOUND)
		event_add(c->ev_rd, NULL);
	else
		event_del(c->ev_rd);
	if (libssh2_session_block_directions(c->ssh) &
	    LIBSSH2_SESSION_BLOCK_OUTBOUND)
		event_add(c->ev_wr, NULL);
	else
		event_del(c->ev_wr);
}

/*
 * Ctrl-C (SIGINT) and a -u command timeout (SIGTERM): ask the server to
 * deliver the signal to the remote command (RFC 4254 6.9, libssh2 >= 1.11;
 * OpenSSH delivers it only to non-root logins and ignores it for root),
 * before the session is closed as usual. Best effort: nothing is sent
 * while another packet is half-sent (libssh2 must finish that one alone),
 * and a signal the socket does not take at once is lost with the close.
 */
static void
ssh_signal(struct session *s, int signo)
{
#ifdef HAVE_LIBSSH2_CHANNEL_SIGNAL_EX
	struct ssh_conn	*c = s->tdata;
	const char	*name;
	int		 rc;

	if (c == NULL || c->ssh == NULL || c->ch == NULL || c->closing ||
	    c->xfer != NULL || (c->step != SSH_RUNNING &&
	    c->step != SSH_WAIT_CLOSED))
		return;
	if ((name = signame_ssh_name(signo)) == NULL)
		return;
	if (c->pending != PEND_NONE) {
		debug("%s: signal %s not sent: a packet is half-sent",
		    s->host->label, name);
		return;
	}
	rc = libssh2_channel_signal_ex(c->ch, name, strlen(name));
	debug("%s: signal %s to the remote command: %s", s->host->label,
	    name, rc == 0 ? "sent" : rc == LIBSSH2_ERROR_EAGAIN ?
	    "partly sent" : ssh_errstr(c));
	if (rc == 0 || rc == LIBSSH2_ERROR_EAGAIN) {
		c->sig_name = name;	/* ssh_close waits until it is taken */
		c->sig_partial = rc != 0;
	}
#else
	(void)s;
	(void)signo;
#endif
}

/* Bound the graceful part of a close by --close-wait: then a reset. */
static void
ssh_close_deadline(struct ssh_conn *c, struct run *run)
{
	struct timeval	 tv;
	double		 wait;

	wait = run_options(run)->close_wait;
	if (wait <= 0)
		wait = 1;
	if (c->ev_timer != NULL)
		event_free(c->ev_timer);	/* the keepalive's */
	faultinj_closing(c);
	c->ev_timer = evtimer_new(run_base(run), ssh_cleanup_deadline_cb, c);
	tv.tv_sec = (time_t)wait;
	tv.tv_usec = (suseconds_t)((wait - (double)tv.tv_sec) * 1e6);
	evtimer_add(c->ev_timer, &tv);
	event_del(c->ev_rd);
	event_del(c->ev_wr);
	c->pending = PEND_NONE;
}

static void
ssh_close(struct session *s, int abort_it)
{
	struct ssh_conn	*c = s->tdata;

	if (c == NULL) {
		session_closed(s, CLOSED_NONE);
		return;
	}
	if (c->closing)
		return;
	if (s->fail_kind == FAIL_TIMEOUT)
		ssh_signal(s, SIGTERM);		/* -u: as the exec transport */
	c->closing = 1;
	c->failed = 0;		/* from here on the teardown drives events */
	sshcanon_cancel(c->canon);	/* a timeout while looking up */
	c->canon = NULL;
	ssh_stdin_detach(c);
	if (c->ev_timer != NULL) {
		event_free(c->ev_timer);
		c->ev_timer = NULL;
	}
	if (c->sig_name != NULL && c->fd >= 0 && c->ssh != NULL &&
	    c->ch != NULL && (c->step == SSH_RUNNING ||
	    c->step == SSH_WAIT_CLOSED)) {
		/* A signal went out: the reset waits until sshd has it. */
		ssh_close_deadline(c, c->s->run);
		ssh_set_step(c, SSH_SIG_SYNC);
		ssh_teardown_soon(c);
		return;
	}

	if (abort_it && c->xfer != NULL && c->step == SSH_SFTP &&
	    c->fd >= 0 && c->ssh != NULL && sftp_xfer_abort(c->xfer)) {
		/*
		 * A push aborted (ctrl-c, SIGTERM, -u): its temporary files
		 * on the host are removed first, within --close-wait.
		 */
		ssh_close_deadline(c, c->s->run);
		ssh_kick(c);
		return;
	}
	if (c->fd < 0 || (abort_it && !c->copy_failed) || c->ssh == NULL ||
	    c->step != SSH_EXITED) {
		ssh_free_now(c);
		ssh_netclose(c, 1);
		return;
	}

	ssh_close_deadline(c, c->s->run);
	ssh_set_step(c, SSH_CH_FREE);
	ssh_teardown_soon(c);
}

static void
ssh_set_paused(struct session *s, int paused)
{
	struct ssh_conn	*c = s->tdata;

	if (c == NULL || c->paused == paused)
		return;
	c->paused = paused;
	if (c->step != SSH_RUNNING || c->failed || c->closing)
		return;
	if (paused)
		ssh_arm(c);
	else
		ssh_kick(c);	/* drain what libssh2 already holds */
}

static void
ssh_free(struct session *s)
{
	struct ssh_conn	*c = s->tdata;

	if (c == NULL)
		return;
	sshcanon_cancel(c->canon);
	sshconfig_host_free(c->cfgh);
	ssh_stdin_detach(c);
	if (c->ssh != NULL)
		ssh_free_now(c);
	sftp_xfer_free(c->xfer);
	c->xfer = NULL;
	ssh_tar_free(c);
	ssh_events_free(c);
	if (c->ev_timer != NULL)
		event_free(c->ev_timer);
	dial_free(c->dial);
	if (c->via_jump != NULL) {
		c->via_jump->users--;
		ssh_jump_check_close(c->via_jump);
	}
	if (c->have_hc)
		ssh_host_config_free(&c->hc);
	free(c->sniff);
	free(c->rbuf);
	free(c->offered);
	free(c->tar_check_cmd);
	free(c);
	s->tdata = NULL;
}

/* ---- ProxyJump: one shared session per jump host ------------------- */

static void
ssh_jump_wake(void *arg)
{
	struct ssh_conn	*c = arg;

	if (c->step == SSH_JUMP)
		ssh_kick(c);
}

/*
 * Close the jump session: the channels are forgotten (libssh2 frees them
 * with the session), then disconnect, free and the close discipline of
 * every connection: the bastion closes first. abort_now or a session not
 * up: RST at once.
 */
static void
ssh_jump_close(struct ssh_jump *j, int abort_now)
{
	struct ssh_conn	*c = j->c;

	if (j->closing)
		return;
	j->closing = 1;
	jump_pump_fail(j->pump, FAIL_ABORTED, "jump host closed");
	debug("%s: closing", j->host.label);
	if (c->step != SSH_JUMP || abort_now || c->failed || c->ssh == NULL) {
		c->closing = 1;
		c->failed = 0;
		ssh_free_now(c);
		ssh_netclose(c, 1);
		return;
	}
	c->closing = 1;
	ssh_close_deadline(c, j->r->run);
	ssh_set_step(c, SSH_DISCONNECT);
	ssh_teardown_soon(c);
}

static void
ssh_jump_close_cb(evutil_socket_t fd, short what, void *arg)
{
	ssh_jump_close(arg, 1);
}

/*
 * Another session to j's hop that can still carry channels: not closing,
 * not failed; one whose opens are not stuck if there is one. NULL: none.
 */
static struct ssh_jump *
ssh_jump_other(struct ssh_jump *j)
{
	struct ssh_jump	*o, *best = NULL;

	TAILQ_FOREACH(o, &j->r->jumps, entry) {
		if (o == j || o->closing || o->fail_reason != NULL ||
		    strcmp(o->key, j->key) != 0)
			continue;
		if (!jump_pump_stalled(o->pump))
			return (o);
		if (best == NULL)
			best = o;
	}
	return (best);
}

/*
 * The jump session failed: every target behind it fails with the hop,
 * but for the channels still queued (their open not begun), which go to
 * another live session to the same hop when there is one. A lane whose
 * own login failed (the bastion refusing a second connection) so hands
 * back the targets moved onto it, to the session they came from, rather
 * than failing them with its reason. No lane is made here: their number
 * stays bound (ssh_jump_lane_cb).
 */
static void
ssh_jump_failed(struct ssh_jump *j, enum fail_kind kind, const char *why)
{
	struct timeval	 zero = { 0, 0 };
	struct ssh_jump	*o;
	int		 n;

	if (j->fail_reason != NULL)
		return;
	j->fail_kind = kind;
	if (kind == FAIL_AUTH && strncmp(why, "permission denied", 17) == 0)
		xasprintf(&j->fail_reason, "jump host %s: auth failed: %s",
		    j->name, why);
	else
		xasprintf(&j->fail_reason, "jump host %s: %s", j->name, why);
	debug("%s", j->fail_reason);
	if ((o = ssh_jump_other(j)) != NULL &&
	    (n = jump_pump_move_queued(j->pump, o->pump)) > 0)
		debug("%s: this session failed; %d queued target%s move to "
		    "another session to it", j->host.label, n,
		    n == 1 ? "" : "s");
	jump_pump_fail(j->pump, kind, j->fail_reason);
	/* Not from inside the libssh2 call that failed. */
	if (!j->closing) {
		if (j->ev_close == NULL &&
		    (j->ev_close = evtimer_new(run_base(j->r->run),
		    ssh_jump_close_cb, j)) == NULL)
			fatalx("event_new failed");
		evtimer_add(j->ev_close, &zero);
	}
}

/* No target needs the jump host any more: close it (last). */
static void
ssh_jump_check_close(struct ssh_jump *j)
{
	struct run	*run = j->r->run;

	if (j->closing || j->users > 0 || !run_all_started(run) ||
	    jump_pump_count(j->pump) > 0)
		return;
	debug2("%s: no target needs it any more", j->host.label);
	ssh_jump_close(j, 0);
}

/* Start the session to a jump host, configured as ssh configures it. */
static struct ssh_jump *
ssh_jump_new(struct ssh_run *r, const char *spec, const char *name,
    struct ssh_host_config *hc, struct ssh_jump *parent)
{
	struct ssh_jump	*j;
	struct ssh_conn	*c;

	j = xcalloc(1, sizeof *j);
	j->r = r;
	j->key = xstrdup(spec);
	j->name = xstrdup(name);
	j->host.name = xstrdup(name);
	xasprintf(&j->host.label, "jump host %s", name);
	j->fs.run = r->run;
	j->fs.host = &j->host;
	j->fs.user = hc->user;
	c = xcalloc(1, sizeof *c);
	c->s = &j->fs;
	c->r = r;
	c->fd = -1;
	c->jump = j;
	c->hc = *hc;
	c->have_hc = 1;
	j->c = c;
	j->fs.tdata = c;
	j->pump = jump_pump_new(run_base(r->run), name, ssh_jump_wake, c);
	jump_pump_on_stall(j->pump, ssh_jump_stalled);
	j->parent = parent;
	TAILQ_INSERT_TAIL(&r->jumps, j, entry);
	debug("%s: one session for every target behind it", j->host.label);
	/* Started at once, as run.c starts a target's: NEW -> PENDING. */
	session_event(&j->fs, SEV_STARTED);
	ssh_set_step(c, SSH_DIAL);
	c->dial = dial_new(&j->fs, &ssh_dial_ops, c);
	dial_set_no_park(c->dial);
	if (parent != NULL) {
		/* A chain: this hop is a channel of the one before it. */
		c->via_jump = parent;
		parent->users++;
		if (parent->fail_reason != NULL) {
			session_event(&j->fs, SEV_DIALING);
			ssh_fail(c, parent->fail_kind, "%s",
			    parent->fail_reason);
			return (j);
		}
		dial_tunnel(c->dial, parent->pump, c->hc.hostname != NULL ?
		    c->hc.hostname : name, c->hc.port > 0 ? c->hc.port : 22,
		    parent->name);
		return (j);
	}
	dial_tcp(c->dial, c->hc.hostname != NULL ? c->hc.hostname : name,
	    c->hc.port > 0 ? c->hc.port : 22);
	return (j);
}

/*
 * A new session to j's hop, and the channels queued on j's move to it
 * (from the event loop, not from inside j's pump).
 */
static void
ssh_jump_lane_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ssh_jump		*j = arg, *lane;
	struct ssh_host_config	 hc;
	char			 why[512];
	int			 n = 0;

	TAILQ_FOREACH(lane, &j->r->jumps, entry) {
		if (strcmp(lane->key, j->key) == 0)
			n++;
	}
	if (n >= SSH_JUMP_LANES || j->closing || j->fail_reason != NULL ||
	    !jump_pump_stalled(j->pump) || jump_pump_queued(j->pump) == 0)
		return;
	memset(&hc, 0, sizeof hc);
	if (sshconfig_resolve_hop(j->r->cfg, run_options(j->r->run), j->name,
	    j->hop_user, j->hop_port, &hc, why, sizeof why) != 0) {
		ssh_host_config_free(&hc);
		return;		/* it was resolved before: not now */
	}
	lane = ssh_jump_new(j->r, j->key, j->name, &hc, j->parent);
	if (j->hop_user != NULL)
		lane->hop_user = xstrdup(j->hop_user);
	lane->hop_port = j->hop_port;
	if (lane->fail_reason != NULL)
		return;		/* failed at once: the queue stays */
	n = jump_pump_move_queued(j->pump, lane->pump);
	debug("%s: a forward is unanswered; %d queued target%s move to "
	    "another session to it", j->host.label, n, n == 1 ? "" : "s");
}

/* The pump's news: an open of j's is stuck with channels behind it. */
static void
ssh_jump_stalled(void *arg)
{
	struct ssh_conn	*c = arg;
	struct ssh_jump	*j = c->jump;
	struct timeval	 zero = { 0, 0 };

	if (j->ev_lane == NULL && (j->ev_lane = evtimer_new(run_base(
	    j->r->run), ssh_jump_lane_cb, j)) == NULL)
		fatalx("event_new failed");
	evtimer_add(j->ev_lane, &zero);
}

/*
 * Jump chains deeper than this (through hops' own ProxyJump) are refused:
 * most likely a loop, for which ssh would start ssh -W processes for ever.
 */
#define SSH_JUMP_DEPTH	8

/*
 * The shared session for hop i of spec (hops parsed from it), made on
 * first use together with the hops before it: hop i > 0 is a channel of
 * hop i - 1 (as ssh -J earlier,hops -W ... hop_i, whose -J wins over hop
 * i's own ProxyJump); hop 0 is direct, or behind its own ProxyJump from
 * ssh_config. Returns 1 with *jp, 0 when this is not done here (a hop
 * with a ProxyCommand: the caller runs ssh -W), -1 with a reason in err
 * (a chain too deep among them).
 */
static int
ssh_jump_get(struct ssh_run *r, const char *spec, struct jump_hop *hops,
    int i, int depth, struct ssh_jump **jp, char *err, size_t errlen)
{
	struct ssh_jump		*j, *parent = NULL;
	struct ssh_host_config	 hc;
	struct jump_hop		*own;
	const char		*p;
	char			*key, why[512];
	int			 k, n, rc;

	if (depth >= SSH_JUMP_DEPTH) {
		snprintf(err, errlen, "jump host %s: a ProxyJump chain of more "
		    "than %d hops (a loop?); not connecting", hops[i].host,
		    SSH_JUMP_DEPTH);
		return (-1);
	}
	/* The key: spec up to hop i, as written. */
	for (p = spec, k = 0; k <= i && p != NULL; k++) {
		p = strchr(p, ',');
		if (p != NULL && k < i)
			p++;
	}
	key = p != NULL ? xstrndup(spec, (size_t)(p - spec)) : xstrdup(spec);
	/*
	 * A live session to this hop whose opens are not stuck; else a live
	 * one; else the first (whose failure the target then shares).
	 */
	*jp = NULL;
	TAILQ_FOREACH(j, &r->jumps, entry) {
		if (strcmp(j->key, key) != 0)
			continue;
		if (*jp == NULL || (((*jp)->closing ||
		    (*jp)->fail_reason != NULL) && !j->closing &&
		    j->fail_reason == NULL))
			*jp = j;
		if (!j->closing && j->fail_reason == NULL &&
		    !jump_pump_stalled(j->pump)) {
			*jp = j;
			break;
		}
	}
	if (*jp != NULL) {
		free(key);
		return (1);
	}
	memset(&hc, 0, sizeof hc);
	if (sshconfig_resolve_hop(r->cfg, run_options(r->run), hops[i].host,
	    hops[i].user, hops[i].port, &hc, why, sizeof why) != 0) {
		snprintf(err, errlen, "jump host %s: %s", hops[i].host, why);
		rc = -1;
		goto out;
	}
	rc = 0;
	if (hc.proxy_command != NULL)
		goto out;		/* ssh -W runs it */
	if (i > 0)
		rc = ssh_jump_get(r, spec, hops, i - 1, depth + 1, &parent,
		    err, errlen);
	else if (hc.proxy_jump != NULL) {
		if ((n = jump_spec_parse(hc.proxy_jump, &own, why,
		    sizeof why)) == -1) {
			snprintf(err, errlen, "jump host %s: ProxyJump %s: %s",
			    hops[i].host, hc.proxy_jump, why);
			rc = -1;
			goto out;
		}
		rc = n == 0 ? 1 : ssh_jump_get(r, hc.proxy_jump, own, n - 1,
		    depth + 1, &parent, err, errlen);
		jump_hops_free(own, n);
	} else
		rc = 1;
	if (rc != 1)
		goto out;
	*jp = ssh_jump_new(r, key, hops[i].host, &hc, parent);
	if (hops[i].user != NULL)
		(*jp)->hop_user = xstrdup(hops[i].user);
	(*jp)->hop_port = hops[i].port;
	free(key);
	return (1);
out:
	ssh_host_config_free(&hc);
	free(key);
	return (rc);
}

/*
 * A target with ProxyJump: through the run's session to its jump host
 * (made on first use, with the hops before it). Returns 1 when routed (or
 * failed with the hop's reason), 0 when the chain is not done this way
 * (the caller runs ssh -W), -1 with a reason in err.
 */
static int
ssh_jump_route(struct ssh_conn *c, char *err, size_t errlen)
{
	struct session		*s = c->s;
	struct ssh_run		*r = c->r;
	struct ssh_jump		*j;
	struct jump_hop		*hops;
	char			 why[512];
	int			 n, rc;

	if ((n = jump_spec_parse(c->hc.proxy_jump, &hops, why,
	    sizeof why)) == -1) {
		snprintf(err, errlen, "ProxyJump %s: %s", c->hc.proxy_jump,
		    why);
		return (-1);
	}
	if (n == 0)
		return (0);
	rc = ssh_jump_get(r, c->hc.proxy_jump, hops, n - 1, 0, &j, err,
	    errlen);
	jump_hops_free(hops, n);
	if (rc != 1)
		return (rc);
	c->via_jump = j;
	j->users++;
	free(s->via);
	s->via = xstrdup(j->name);
	if (j->fail_reason != NULL) {
		session_event(s, SEV_DIALING);
		ssh_fail(c, j->fail_kind, "%s", j->fail_reason);
		return (1);
	}
	dial_tunnel(c->dial, j->pump, c->hc.hostname != NULL ?
	    c->hc.hostname : s->host->name, c->hc.port > 0 ? c->hc.port : 22,
	    j->name);
	return (1);
}

/*
 * The jump session to close next at the end of the run: a hop of a chain
 * before every session to the hop before it, whose channel it may be on;
 * not simply the last made, as a lane to the hop before may have been made
 * after it, and its channel moved there. Among equals, the last made.
 */
static struct ssh_jump *
ssh_jump_close_next(struct ssh_run *r)
{
	struct ssh_jump	*j, *p, *last = NULL;
	int		 depth, max = -1;

	TAILQ_FOREACH_REVERSE(j, &r->jumps, ssh_jump_q, entry) {
		for (depth = 0, p = j->parent; p != NULL; p = p->parent)
			depth++;
		if (depth > max) {
			max = depth;
			last = j;
		}
	}
	return (last);
}

/* End of the run: close every jump session (bounded), then free them. */
static void
ssh_jumps_finish(struct ssh_run *r)
{
	struct ssh_jump	*j;
	int		 i;

	while ((j = ssh_jump_close_next(r)) != NULL) {
		if (!j->closing)
			ssh_jump_close(j, run_aborting(r->run));
		/* Each step of the close has a deadline (--close-wait). */
		for (i = 0; !j->closed && i < 100000; i++) {
			if (event_base_loop(run_base(r->run),
			    EVLOOP_ONCE) == -1)
				break;
		}
		TAILQ_REMOVE(&r->jumps, j, entry);
		if (j->ev_close != NULL)
			event_free(j->ev_close);
		if (j->ev_lane != NULL)
			event_free(j->ev_lane);
		free(j->hop_user);
		ssh_free(&j->fs);
		jump_pump_free(j->pump);
		free(j->fail_reason);
		free(j->host.name);
		free(j->host.label);
		free(j->key);
		free(j->name);
		free(j);
	}
}

const struct transport_ops transport_ssh = {
	.name = "ssh",
	.fds_per_session = 1,
	.ports_per_session = 1,
	.init = ssh_init,
	.start = ssh_start,
	.close = ssh_close,
	.set_paused = ssh_set_paused,
	.signal = ssh_signal,
	.free = ssh_free,
	.cleanup = ssh_cleanup,
};
