/* safe_text — text from elsewhere (a server's header, a body, anything a
 * mirror controls) made safe to print into a person's terminal or cron mail.
 *
 * A control character in such text would be obeyed by the terminal: ESC
 * sequences can retitle the window, move the cursor over earlier lines,
 * rewrite what an administrator reads, or worse on some terminals. Every
 * C0 control (including CR, LF and TAB: one message is one line), DEL, each
 * byte that is not part of well-formed UTF-8, and the C1 controls in either
 * spelling (raw 0x80..0x9f, UTF-8 U+0080..U+009F) become \xNN, as the
 * records do; printable ASCII and other well-formed UTF-8 (a path in the
 * user's language) are kept. */
#ifndef TLSPIN_SAFE_TEXT_H
#define TLSPIN_SAFE_TEXT_H

#include <stddef.h>

/* `in` escaped into out (always NUL-terminated when outlen > 0; cut short
 * at a character boundary when it does not fit). Returns out. */
char *safe_text(const char *in, char *out, size_t outlen);

#endif
