/* Small option-parsing helpers the subcommands share. */
#ifndef TLSPIN_CLI_OPTS_H
#define TLSPIN_CLI_OPTS_H

/* 1 for "-h" or "--help". */
int cli_is_help(const char *arg);

/* The value of "--opt VALUE" or "--opt=VALUE" at argv[*i] (advancing *i past
 * a separate value), or NULL when argv[*i] is not that option. Sets *missing
 * when the option is there but its value is not. */
const char *cli_opt_value(int argc, char **argv, int *i, const char *opt, int *missing);

#endif
