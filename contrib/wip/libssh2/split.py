import sys
p='src/transport_ssh.c'
s=open(p).read()
lines=s.split('\n')
def find(prefix,start=0):
    for i in range(start,len(lines)):
        if lines[i].startswith(prefix): return i
    raise Exception(prefix)
a=find('enum ssh_step {')
b=find('struct ssh_run {')
b_end=find('};',b)
types='\n'.join(lines[a:b_end+1])
names_start=types.index('static const char *ssh_step_names[]')
names_end=types.index('};',names_start)+2
names=types[names_start:names_end]
types=types[:names_start]+types[names_end:].lstrip('\n')
c=find('ssh_authlist_has(struct ssh_conn *c, const char *method)')-1
d=find('/* ---- running')
auth='\n'.join(lines[c:d])
h=find('ssh_home_key(char *buf')-1
h_end=find('}',h)
home='\n'.join(lines[h:h_end+1])
new=lines[:a]+[names]+lines[b_end+1:h]+lines[h_end+2:c]+lines[d:]
s='\n'.join(new)
a=s.index('/*\n * libssh2 >= 1.11 signs and verifies RSA')
b=s.index('#endif\n',a)+len('#endif\n')
rsa=s[a:b]
s=s[:a]+s[b:].lstrip('\n')
a=s.index('/* One read buffer for every session of the run. */')
b=s.index('\n',s.index('#define SSH_READ_SIZE'))+1
rd=s[a:b]
s=s[:a]+s[b:]
for fn in ['ssh_set_step(struct ssh_conn *c, enum ssh_step step)','ssh_fail(struct ssh_conn *c, enum fail_kind kind, const char *fmt, ...)\n{','ssh_errstr(struct ssh_conn *c)','ssh_user(struct ssh_conn *c)']:
    i=s.index('\n'+fn)
    j=s.rindex('\n',0,i)
    line=s[j+1:i]
    assert line.startswith('static '), (fn,line)
    s=s[:j+1]+line[len('static '):]+s[i:]
old='''static void
ssh_fail(struct ssh_conn *c, enum fail_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
'''
assert old in s
s=s.replace(old,'')
assert '#include "ssh_keys.h"\n' in s
s=s.replace('#include "ssh_keys.h"\n','#include "ssh_conn.h"\n#include "ssh_keys.h"\n',1)
old=''' * above the socket and the kernel will not wake us for what it holds.
 *
'''
new=''' * above the socket and the kernel will not wake us for what it holds.
 * User authentication is in ssh_auth.c; the state both share is in
 * ssh_conn.h.
 *
'''
assert old in s; s=s.replace(old,new,1)
open(p,'w').write(s)
hdr='''/*
 * Private to the ssh transport: one SSH session's state (struct ssh_conn),
 * the run's shared state (struct ssh_run), and what transport_ssh.c (the
 * session's life: connect, handshake, running, teardown) and ssh_auth.c
 * (user authentication) call in each other.
 */
#ifndef MRSH_SSH_CONN_H
#define MRSH_SSH_CONN_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <stdint.h>

#include <event2/event.h>
#include <libssh2.h>

#include "mrsh/session.h"
#include "mrsh/sshconfig.h"

#include "ssh_keys.h"

'''+rd+'\n'+rsa+'\n'+types+'''

/* transport_ssh.c */
void	ssh_set_step(struct ssh_conn *, enum ssh_step);
void	ssh_fail(struct ssh_conn *, enum fail_kind, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
const char *ssh_errstr(struct ssh_conn *);
const char *ssh_user(struct ssh_conn *);

/* ssh_auth.c */
void	ssh_home_key(char *, size_t, const char *);
void	ssh_auth_next(struct ssh_conn *);
int	ssh_auth_step(struct ssh_conn *);
void	ssh_agent_close(struct ssh_conn *);

#endif
'''
open('src/ssh_conn.h','w').write(hdr)
for fn in ['ssh_auth_next(struct ssh_conn *c)','ssh_auth_step(struct ssh_conn *c)','ssh_agent_close(struct ssh_conn *c)']:
    i=auth.index('\n'+fn)
    j=auth.rindex('\n',0,i)
    line=auth[j+1:i]
    assert line.startswith('static '),(fn,line)
    auth=auth[:j+1]+line[len('static '):]+auth[i:]
auth=auth.replace('fatalx("ssh_auth_step in %s", ssh_step_names[c->step]);','fatalx("ssh_auth_step in step %d", (int)c->step);')
home=home.replace('static void\nssh_home_key','void\nssh_home_key')
src='''/*
 * User authentication for the ssh transport: after the handshake, the
 * server's accepted methods (AUTHLIST), then agent keys, key files, and
 * with --askpass password and keyboard-interactive, each attempt a
 * non-blocking libssh2 call repeated on EAGAIN; and the one failure line
 * that names what was tried.
 */
#include "config.h"

#include <sys/types.h>

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh2.h>

#include "mrsh/hostlist.h"
#include "mrsh/log.h"
#include "mrsh/run.h"
#include "mrsh/session.h"
#include "mrsh/sshconfig.h"
#include "mrsh/xmalloc.h"

#include "ssh_conn.h"
#include "ssh_keys.h"
#include "ssh_sign.h"

/* ~/.ssh/NAME of the user running mrsh. */
'''+home+'\n\n'+auth.rstrip('\n')+'\n'
open('src/ssh_auth.c','w').write(src)
m=open('Makefile.am').read()
old='SSH_SOURCES = src/netconn.c src/transport_ssh.c '
assert old in m
m=m.replace(old,'SSH_SOURCES = src/netconn.c src/transport_ssh.c src/ssh_conn.h src/ssh_auth.c ',1)
open('Makefile.am','w').write(m)
