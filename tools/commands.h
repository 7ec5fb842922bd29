/* The subcommands of `tlspin`. Each takes the arguments after its name
 * (argv[0] is the subcommand name) and returns the process exit status.
 *
 * Two homes (tools/CMakeLists.txt): enable-system, disable-system and status
 * are in bin/tlspin itself, which links only libc; every other command is in
 * tlspin-commands.so, which links the engine and OpenSSL and which main.c
 * dlopens for them. Those are exported from it (TLSPIN_COMMAND) so that
 * main.c finds each by its name with dlsym. */
#ifndef TLSPIN_COMMANDS_H
#define TLSPIN_COMMANDS_H

#define TLSPIN_COMMAND __attribute__((visibility("default")))

TLSPIN_COMMAND int cmd_pin(int argc, char **argv);      /* cmd_pin.c */
TLSPIN_COMMAND int cmd_check(int argc, char **argv);    /* cmd_check.c */
TLSPIN_COMMAND int cmd_probe(int argc, char **argv);    /* cmd_probe.c */
TLSPIN_COMMAND int cmd_run(int argc, char **argv);      /* cmd_run.c */
TLSPIN_COMMAND int cmd_doctor(int argc, char **argv);   /* cmd_run.c */
TLSPIN_COMMAND int cmd_log(int argc, char **argv);      /* cmd_log.c */
TLSPIN_COMMAND int cmd_keygen(int argc, char **argv);   /* cmd_signed.c */
TLSPIN_COMMAND int cmd_sign(int argc, char **argv);     /* cmd_signed.c */
TLSPIN_COMMAND int cmd_verify(int argc, char **argv);   /* cmd_signed.c */
TLSPIN_COMMAND int cmd_update(int argc, char **argv);   /* cmd_update.c */

/* In bin/tlspin (cmd_system.c): they need nothing but libc to start. */
int cmd_enable_system(int argc, char **argv);
int cmd_disable_system(int argc, char **argv);
int cmd_status(int argc, char **argv);

#endif
