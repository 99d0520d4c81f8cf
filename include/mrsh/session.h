/*
 * One host = one session, driven by a state machine shared by every
 * transport. States are ordered; session_set_state() is the only setter and
 * traces every transition at -vv.
 *
 * A transport reports what happens through the session_* calls below; the
 * session decides when it is finished: stdout EOF, stderr EOF and the exit
 * status must all have arrived (any order), then the transport closes the
 * connection (CLOSING) and calls session_closed().
 *
 * ops->close() is never called from inside a session_* call: the join (or a
 * failure) schedules it, and the loop calls it on its next iteration, so a
 * transport may keep using its state after session_eof()/session_fail()
 * return. Data that arrives after a failure is still shown.
 */
#ifndef MRSH_SESSION_H
#define MRSH_SESSION_H

#include <sys/queue.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>

struct run;
struct host;
struct transport_ops;
struct event;

enum session_state {
	S_NEW = 0,
	S_PENDING,	/* waiting for a fanout slot or a source port */
	S_RESOLVING,	/* name lookup (evdns) */
	S_CONNECTING,	/* TCP connect */
	S_SETUP,	/* handshake, host key, auth / rcmd handshake / spawn */
	S_RUNNING,	/* command running, output flowing */
	S_CLOSING,	/* all data in; waiting for the remote FIN / reap */
	S_DONE,
	S_FAILED
};
#define S_COUNT (S_FAILED + 1)

/* Why a session failed; decides the exit status and the summary grouping. */
enum fail_kind {
	FAIL_NONE = 0,
	FAIL_UNREACHABLE,	/* resolve/connect/banner/kex/ports: exit 255 */
	FAIL_AUTH,		/* host key or authentication: exit 255 */
	FAIL_TIMEOUT,		/* connect or command timeout: exit 255 */
	FAIL_PROTOCOL,		/* server broke the protocol: exit 255 */
	FAIL_ABORTED,		/* ctrl-c: exit 130 overall */
	FAIL_LOCAL,		/* local resource (fork, pipe, fd): exit 255 */
	FAIL_COPY		/* the server refused a copy (SFTP): exit 255 */
};

/* How the connection (if any) was finally closed. */
enum close_how {
	CLOSED_NONE = 0,	/* no socket (exec) or never connected */
	CLOSED_REMOTE_FIRST,	/* server's FIN seen before our close() */
	CLOSED_LOCAL_FIRST,	/* we closed first (--close local) */
	CLOSED_RESET		/* SO_LINGER {1,0}: RST */
};

enum stream { STREAM_STDOUT = 0, STREAM_STDERR = 1 };

/* How the command's end is known; set once, by the first report. */
enum session_exit {
	SX_NONE = 0,	/* not yet */
	SX_STATUS,	/* an exit status: exit_code */
	SX_SIGNAL,	/* killed by a signal: exit_signal, exit_signame */
	SX_UNKNOWN	/* ended, but the status cannot be told */
};

/*
 * Where a session's close is: a sub-state of its own, beside the state
 * (session_set_close(), traced, only ever forward). ops->close is never
 * called from inside a transport's call: it is due first, then called from
 * the loop; the transport reports the end (session_closed()), and the run
 * frees the transport's part last.
 */
enum session_close {
	SC_OPEN = 0,	/* no close asked for */
	SC_DUE,		/* ops->close due on the next loop iteration */
	SC_DUE_ABORT,	/* ... to abort (a failure, a timeout) */
	SC_CALLED,	/* ops->close called: the transport closes */
	SC_CLOSED,	/* session_closed(): DONE or FAILED */
	SC_FREED	/* ops->free done, or nothing to free */
};
#define SC_COUNT (SC_FREED + 1)

/* Which of the run's queues holds the session (they share one entry). */
enum session_queue {
	SQ_NONE = 0,	/* not started yet, or freed */
	SQ_ACTIVE,	/* run->active: holds a fanout slot */
	SQ_PORTWAIT,	/* run->portwait: parked for a port, keeps its slot */
	SQ_FREE		/* run->freeq: finished, its transport to be freed */
};

struct session {
	TAILQ_ENTRY(session)	 entry;		/* run's active or wait queue */
	struct run		*run;
	size_t			 idx;		/* position in the host list */
	const struct host	*host;
	const char		*user;		/* effective user (host, -l, $USER) */
	enum session_state	 state;

	const struct transport_ops *ops;
	void			*tdata;		/* transport private */

	int			 eof[2];	/* STREAM_* EOF seen */
	enum session_exit	 exit_how;
	int			 exit_code;	/* SX_STATUS: as sent (ssh: a
						   uint32) */
	int			 exit_signal;	/* signal number, 0 if none */
	char			*exit_signame;	/* ssh signal name, or NULL */

	enum fail_kind		 fail_kind;
	enum session_state	 fail_stage;	/* state when it failed */
	char			*fail_reason;	/* one line */
	const char		*fail_func;	/* session_fail()'s caller */
	int			 fail_line;
	char			*via;		/* jump host / "proxycommand" */
	/* What ssh_config made of the host (ssh): for --json, the summary */
	char			*cfg_user;	/* User, -l, user@; NULL: user */
	char			*cfg_hostname;	/* HostName; NULL: host name */
	int			 cfg_port;	/* Port, -p, :port; 0: none */
	/*
	 * ssh: TCP up, no SSH banner yet. Not a state of its own: a detail
	 * of SETUP that words a timeout as ssh does ("during banner
	 * exchange"); no transition depends on it.
	 */
	int			 awaiting_banner;
	const char		*awaiting;	/* what setup waits for, if
						   the -t message should say */

	enum close_how		 close_how;
	enum session_close	 close_step;
	enum session_queue	 queue;
	/*
	 * Output backpressure, set by the run for every active session. Not
	 * a state: a session is paused or not in any state, and the
	 * transport only stops reading.
	 */
	int			 paused;
	double			 connect_timeout_used;
	const char		*connect_timeout_what;	/* NULL: -t */
	struct sockaddr_storage	 wait_dst;	/* session_wait_port_for() */
	socklen_t		 wait_dstlen;

	struct event		*timer;		/* connect / command timeout */
	struct timeval		 t[S_COUNT];	/* time each state was entered */

	void			*out;		/* output module per-host state */

	/* --copy/--rcopy: file bytes moved so far, and expected (0: unknown) */
	uint64_t		 copy_bytes;
	uint64_t		 copy_total;
	const char		*copy_via;	/* "sftp" or "tar", once chosen */
};

const char *session_state_name(enum session_state);
const char *session_fail_kind_name(enum fail_kind);

/*
 * May a session go from one state to the other? The table in session.c;
 * the setter treats any other transition as a bug.
 */
int	session_transition_ok(enum session_state from, enum session_state to);

/*
 * The one setter: checks the transition, records the time, traces
 * "host: FROM -> TO" at -vv with the caller's function and line.
 */
void	session_set_state_at(struct session *, enum session_state,
	    const char *func, int line);
#define session_set_state(s, st) \
	session_set_state_at((s), (st), __func__, __LINE__)

/*
 * Transport -> session: what happened on the way to the command. The
 * session decides which state each event means (session.c, checked
 * against the transition table); transports never name a state. Traced as
 * the state change it makes, with the transport's function and line.
 */
enum session_event {
	SEV_STARTED = 0,	/* a transport began a session of its own
				   (a jump host's login), not the run */
	SEV_LOOKUP,		/* a name lookup began */
	SEV_DIALING,		/* a connect began: TCP, a ProxyCommand, a
				   jump host's channel */
	SEV_CONNECTED,		/* the stream is up: the protocol's setup
				   (SSH handshake, rcmd request) begins */
	SEV_SPAWNING,		/* exec: the local command is being started */
	SEV_REFUSED,		/* the host is refused before any connect (a
				   bad ssh_config): it fails in setup */
	SEV_COMMAND_STARTED	/* the command (or the copy) runs */
};
#define SEV_COUNT (SEV_COMMAND_STARTED + 1)

const char *session_event_name(enum session_event);
/* The state an event moves a session to. */
enum session_state session_event_state(enum session_event);
void	session_event_at(struct session *, enum session_event,
	    const char *func, int line);
#define session_event(s, ev) \
	session_event_at((s), (ev), __func__, __LINE__)

/*
 * The close sub-state's one setter: traces "close FROM -> TO" at -vvv with
 * the caller's function and line; a step back is a bug (as a state
 * transition not in the table).
 */
const char *session_close_name(enum session_close);
void	session_set_close_at(struct session *, enum session_close,
	    const char *func, int line);
#define session_set_close(s, cs) \
	session_set_close_at((s), (cs), __func__, __LINE__)
/* Is ops->close due (deferred to the loop), not yet called? */
int	session_close_due(const struct session *);

/*
 * Was the session given to its transport? Derived: it left NEW, unless
 * it failed in NEW (the run never started it).
 */
int	session_started(const struct session *);

/*
 * Run -> session: start it (NEW -> PENDING, the connect timeout, then
 * ops->start), or resume it after a port wait (ops->start again, unless
 * it failed meanwhile).
 */
void	session_start(struct session *);
void	session_resume(struct session *);

/* Transport -> session: data and events. */
void	session_output(struct session *, enum stream, const char *, size_t);
void	session_eof(struct session *, enum stream);
void	session_exit_status(struct session *, int code);
/*
 * A remote exit status as mrsh's own: 0-255 as is; anything else (an ssh
 * server may send any uint32, e.g. 256 or 0xffffffff) is 255, as ssh does,
 * so that no non-zero status ever becomes 0.
 */
int	session_exit_code_mapped(int code);
void	session_exit_signal(struct session *, int signo, const char *name);
void	session_exit_unknown(struct session *, const char *why);
/* Has the command's end (status, signal or unknown) been reported? */
int	session_exit_known(const struct session *);

/*
 * The session failed in its current state with a one-line reason. The
 * session asks the transport to tear down (ops->close with abort = 1); the
 * transport then calls session_closed(). Safe to call more than once: the
 * first reason wins. The caller's function and line are kept and traced at
 * -vv, as session_set_state() does.
 */
void	session_fail_at(struct session *, const char *func, int line,
	    enum fail_kind, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));
#define session_fail(s, kind, ...) \
	session_fail_at((s), __func__, __LINE__, (kind), __VA_ARGS__)

/* Transport finished closing and released every resource it held. */
void	session_closed(struct session *, enum close_how);

/*
 * No source port is free for dst: park in PENDING until
 * run_port_released(). A connect timeout while parked explains itself: how
 * many ports the range has, how many are in use and how many cool towards
 * dst (dst may be NULL: the error then says only that no port came).
 */
void	session_wait_port_for(struct session *, const struct sockaddr *dst,
	    socklen_t dstlen);

/* Deadlines: (re)arm the session timer; 0 disarms. */
void	session_set_timeout(struct session *, double seconds);

/* Output backpressure: is output congested right now? */
int	session_output_blocked(const struct session *);

int	session_is_finished(const struct session *);

/*
 * How a finished session ended, read in one place for the exit status,
 * the headers, the summary and --json: failed (any fail_kind), killed by
 * a signal, status unknown, exited non-zero, or ok. code is what the host
 * adds to mrsh's exit status (the largest wins): 255 for a failure or an
 * unknown status, 128 + N for signal N, the mapped exit code otherwise.
 */
enum session_end {
	SESSION_OK = 0,
	SESSION_EXIT,		/* exited non-zero */
	SESSION_SIGNAL,
	SESSION_UNKNOWN,	/* no exit status, or one that cannot be read */
	SESSION_FAILED
};
struct session_outcome {
	enum session_end	 end;
	int			 code;
	/* What the host sent, whatever end says (a host may fail after). */
	int			 has_status;	/* an exit status arrived */
	unsigned int		 status;	/* it, as sent (ssh: a uint32) */
	int			 signal;	/* killed by it, 0 if not */
	const char		*signame;	/* the server's name, or NULL */
};
struct session_outcome session_outcome(const struct session *);

#endif
