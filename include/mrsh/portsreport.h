/*
 * mrsh --ports-report [RANGE]: what holds the TCP ports of a range (TCP
 * states, TIME_WAIT by destination and by listening port, the programs
 * that own the sockets), read from the kernel.
 */
#ifndef MRSH_PORTSREPORT_H
#define MRSH_PORTSREPORT_H

/*
 * Print the report, return the exit status. lo 0 means no range given:
 * the ephemeral range and 512-1023.
 */
int	portsreport_run(int lo, int hi);

#endif
