/* `hvsim fuzz`: the command line of fuzz campaigns (tools/hvsim.c calls
 * it with the arguments after "fuzz"). Returns the exit status: 0 clean,
 * 1 a failure found (shrunk and written), 2 bad usage or error. */
#ifndef HVSIM_FUZZ_ENGINE_CLI_H
#define HVSIM_FUZZ_ENGINE_CLI_H

int fz_cli_main(int argc, char **argv);

#endif
