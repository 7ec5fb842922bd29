/* The signed-pinset format library and the file module's pinset parser,
 * compiled into the tlspin command from their one place in modules/ (the
 * tools build compiles each C file of tools/): the command and signed.so check a signed
 * pinset with the same code. */
#include "../modules/signed/sigfmt.c"
#include "../modules/signed/sigstore.c"
#include "../modules/signed/sigbody.c"
#include "../modules/file/pinset.c"
#include "../modules/file/pinset_parse.c"
#include "../modules/file/host_index.c"
#include "../modules/file/strmap.c"
#include "../modules/file/date.c"
#include "../modules/file/diag.c"
#include "../modules/file/conf_tree.c"
