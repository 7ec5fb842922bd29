/* The subcommands of `tlspin`. Each takes the arguments after its name
 * (argv[0] is the subcommand name) and returns the process exit status. */
#ifndef TLSPIN_COMMANDS_H
#define TLSPIN_COMMANDS_H

int cmd_pin(int argc, char **argv);      /* cmd_pin.c */
int cmd_check(int argc, char **argv);    /* cmd_check.c */
int cmd_probe(int argc, char **argv);    /* cmd_probe.c */
int cmd_run(int argc, char **argv);      /* cmd_run.c */
int cmd_doctor(int argc, char **argv);   /* cmd_run.c */
int cmd_enable_system(int argc, char **argv);  /* cmd_system.c */
int cmd_disable_system(int argc, char **argv); /* cmd_system.c */
int cmd_status(int argc, char **argv);   /* cmd_system.c */
int cmd_log(int argc, char **argv);      /* cmd_log.c */
int cmd_keygen(int argc, char **argv);   /* cmd_signed.c */
int cmd_sign(int argc, char **argv);     /* cmd_signed.c */
int cmd_verify(int argc, char **argv);   /* cmd_signed.c */
int cmd_update(int argc, char **argv);   /* cmd_update.c */

#endif
