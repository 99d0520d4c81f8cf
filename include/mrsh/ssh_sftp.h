/*
 * One host's side of --copy / --rcopy: an SFTP conversation on an
 * authenticated libssh2 session, driven by the ssh transport in place of
 * the exec channel. Non-blocking: every libssh2 call owns a step and is
 * repeated with the same arguments after EAGAIN; the caller waits for
 * libssh2_session_block_directions() and calls sftp_xfer_step() again.
 *
 * Push: each file goes to a temporary name beside its destination, is
 * given its mode (and times with --preserve), fsync'ed where the server
 * can (fsync@openssh.com), closed, then renamed over the destination: the
 * destination name never holds a partial file. Pull: the same locally.
 */
#ifndef MRSH_SSH_SFTP_H
#define MRSH_SSH_SFTP_H

#include <stdint.h>

#include <libssh2.h>

struct session;
struct copy_plan;
struct sftp_xfer;

enum sftp_result {
	SFTP_AGAIN = 0,	/* blocked: wait for libssh2's directions */
	SFTP_YIELD,	/* did a fair share: run again next loop pass */
	SFTP_DONE,	/* every file copied; SFTP shut down */
	SFTP_FAILED,	/* a copy failed (sftp_xfer_error); SFTP shut down */
	SFTP_LOCAL,	/* a local file failed (sftp_xfer_error) */
	SFTP_LOST	/* the connection broke (sftp_xfer_error says where) */
};

/*
 * rx: a counter of the bytes libssh2 read from the socket, which the
 * transport's recv callback advances (to know when a pass over the
 * channels may have buffered answers).
 */
struct sftp_xfer *sftp_xfer_new(struct session *, LIBSSH2_SESSION *,
	    struct copy_plan *, const size_t *rx);
enum sftp_result sftp_xfer_step(struct sftp_xfer *);
const char *sftp_xfer_error(const struct sftp_xfer *);
/*
 * The session is being aborted (ctrl-c, SIGTERM, -u): a push stops taking
 * files and removes the temporary files it has on the host (a file being
 * renamed into place is finished first) before shutting SFTP down, which
 * sftp_xfer_step then reports as SFTP_FAILED. 0 when there is nothing to
 * clean up there (a pull: its temporary files are local).
 */
int	sftp_xfer_abort(struct sftp_xfer *);
/*
 * Free everything; called before libssh2_session_free(). If the transfer
 * did not finish, handles and the SFTP channel are dropped without
 * waiting (the caller has made the socket fail every call).
 */
void	sftp_xfer_free(struct sftp_xfer *);

#endif
