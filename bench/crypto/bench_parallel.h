/*
 * osap-bench-crypto's parallel mode: the same crypto work run by N threads of one
 * process and by N processes, to see what threads sharing one OpenSSL cost each
 * other (the LBS runs its handshakes on the threads of one pool).
 */
#ifndef OSAP_BENCH_PARALLEL_H
#define OSAP_BENCH_PARALLEL_H

/** Run the parallel mode with the command line after the program name
 *  (options --threads, --procs, --compare, --op, --seconds, --rounds); returns the
 *  process exit status. */
int bench_parallel_main(int argc, char **argv);

#endif /* OSAP_BENCH_PARALLEL_H */
