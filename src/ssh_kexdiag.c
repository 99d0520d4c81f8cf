/*
 * Key-exchange diagnostics for the ssh transport: a failed handshake
 * explained from the server's first bytes (banner and KEXINIT), which
 * transport_ssh.c keeps until the handshake ends, and libssh2's error.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <libssh2.h>

#include "mrsh/dialer.h"
#include "mrsh/ssh_auth.h"
#include "mrsh/sshalgs.h"
#include "mrsh/sshconfig.h"
#include "mrsh/sshwire.h"
#include "ssh_kexdiag.h"

#define SSH_MSG_IGNORE		2	/* RFC 4253 */
#define SSH_MSG_DEBUG		4
#define SSH_MSG_KEXINIT		20

/* The next name-list into out, NUL-terminated; -1 if cut short or long. */
static int
ssh_namelist(struct sshwire *w, char *out, size_t outlen)
{
	const unsigned char	*p;
	size_t			 l;

	if (sshwire_string(w, &p, &l) != 0 || l >= outlen)
		return (-1);
	memcpy(out, p, l);
	out[l] = '\0';
	return (0);
}

/*
 * The server's kex, host key, cipher and MAC (client to server) lists
 * from its KEXINIT, each into a buffer of len bytes.
 */
static int
ssh_sniff_kexinit(const unsigned char *sniff, size_t sniff_len,
    char (*lists)[1024])
{
	const unsigned char	*p = sniff, *end, *nl;
	struct sshwire		 w;
	char			 skip[1024];
	size_t			 l;

	if (p == NULL)
		return (-1);
	end = p + sniff_len;
	/*
	 * The banner is the first line: transport_ssh.c fails first bytes
	 * other than "SSH-" as not SSH before a handshake can fail here.
	 */
	if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
		return (-1);
	p = nl + 1;
	/*
	 * uint32 length, byte padding, byte type. Before its KEXINIT a
	 * server may send IGNORE, UNIMPLEMENTED and DEBUG messages (RFC
	 * 4253 11): skipped.
	 */
	while (end - p >= 6 && p[5] >= SSH_MSG_IGNORE &&
	    p[5] <= SSH_MSG_DEBUG) {
		l = sshwire_peek32(p);
		if (l > (size_t)(end - p) - 4)
			return (-1);
		p += 4 + l;
	}
	/* ... then SSH_MSG_KEXINIT and its cookie */
	if (end - p < 4 + 1 + 1 + 16 || p[5] != SSH_MSG_KEXINIT)
		return (-1);
	p += 4 + 1 + 1 + 16;
	sshwire_init(&w, p, (size_t)(end - p));
	if (ssh_namelist(&w, lists[0], 1024) != 0 ||
	    ssh_namelist(&w, lists[1], 1024) != 0 ||
	    ssh_namelist(&w, lists[2], 1024) != 0 ||
	    ssh_namelist(&w, skip, sizeof skip) != 0 ||
	    ssh_namelist(&w, lists[3], 1024) != 0)
		return (-1);
	return (0);
}

/*
 * Does the comma list have a host key type we can verify? (1.10: none of
 * the RSA ones a current OpenSSH offers.)
 */
static int
ssh_hostkeys_usable(const char *list)
{
	static const char *ok[] = { "ssh-ed25519", "ecdsa-sha2-nistp256",
	    "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
#ifdef SSH_HAVE_RSA_SHA2
	    "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa",
#endif
	};
	const char	*p;
	size_t		 i, len;

	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		len = strlen(ok[i]);
		for (p = list; (p = strstr(p, ok[i])) != NULL; p += len) {
			if ((p == list || p[-1] == ',') &&
			    (p[len] == ',' || p[len] == '\0'))
				return (1);
		}
	}
	return (0);
}

void
ssh_kexdiag_explain(const struct ssh_kexdiag *kd, int rc, char *out,
    size_t outlen)
{
	const char	*banner = libssh2_session_banner_get(kd->ssh);
	const char	*msg, *srv[4];
	const char	*offered = kd->offered != NULL ? kd->offered : "?";
	char		 lists[4][1024], why[2048], *err = NULL;
	int		 i;

	libssh2_session_last_error(kd->ssh, &err, NULL, 0);
	msg = err != NULL && *err != '\0' ? err : "unknown error";
	if (kd->prebanner_over > 0) {
		snprintf(out, outlen, "not an SSH server (no SSH banner in the "
		    "first %zu bytes)", kd->prebanner_over);
		return;
	}
	if (kd->not_ssh || (banner != NULL && *banner != '\0' &&
	    strncmp(banner, "SSH-", 4) != 0)) {
		snprintf(out, outlen, "not an SSH server (bad banner)");
		return;
	}
	if (ssh_sniff_kexinit(kd->sniff, kd->sniff_len, lists) == 0) {
		for (i = 0; i < 4; i++)
			srv[i] = lists[i];
		/* As ssh: "no matching host key type found. Their offer:" */
		if (sshalgs_mismatch(kd->ssh, kd->hc, srv, why,
		    sizeof why) == 0)
			snprintf(out, outlen, "key exchange failed: %s%s", why,
			    ssh_hostkeys_usable(lists[1]) ? "" :
			    " (" SSH_RSA_HINT ")");
		else
			snprintf(out, outlen, "key exchange failed: %s (server "
			    "offers kex %s; host keys %s; we offer %s)", msg,
			    lists[0], lists[1], offered);
		return;
	}
	/*
	 * The server closed: whatever libssh2 made of it (1.10 reports an
	 * EOF in the key exchange as -1, "Unable to exchange encryption
	 * keys"), it is a closed connection.
	 */
	if (kd->peer_eof)
		rc = LIBSSH2_ERROR_SOCKET_DISCONNECT;
	switch (rc) {
	case LIBSSH2_ERROR_BANNER_RECV:
	case LIBSSH2_ERROR_SOCKET_DISCONNECT:
	case LIBSSH2_ERROR_SOCKET_RECV:
		if ((banner == NULL || *banner == '\0') &&
		    dial_explain_eof(kd->dial, out, outlen))
			break;
		else if (banner == NULL || *banner == '\0')
			snprintf(out, outlen, "connection closed before the "
			    "SSH banner (not an SSH server?)");
		else
			snprintf(out, outlen, "connection closed during key "
			    "exchange: %s", msg);
		break;
	case LIBSSH2_ERROR_KEX_FAILURE:
	case LIBSSH2_ERROR_METHOD_NOT_SUPPORTED:
	case LIBSSH2_ERROR_HOSTKEY_INIT:
	case LIBSSH2_ERROR_HOSTKEY_SIGN:
		snprintf(out, outlen, "key exchange failed: %s (we offer %s)",
		    msg, offered);
		break;
	default:
		snprintf(out, outlen, "SSH handshake failed: %s", msg);
		break;
	}
}
