/* fuzz_pin — pins as a policy, a pinset or the command line spell them
 * (loader/engine/pin.c): tlspin_pin_parse, base64 both ways. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "pin.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    unsigned char pin[TLSPIN_PIN_LEN], again[TLSPIN_PIN_LEN], raw[128];
    char err[256], out[TLSPIN_PIN_TEXT_MAX], b64[256];
    int n;

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (tlspin_pin_parse(text, pin, err, sizeof err) == 0) {
        /* What parses formats, and the formatted text parses to the same. */
        tlspin_pin_format(pin, out, sizeof out);
        if (tlspin_pin_parse(out, again, err, sizeof err) != 0 ||
            memcmp(pin, again, sizeof pin) != 0)
            abort();
    }
    /* Raw base64 both ways; the encoder may refuse for the output size. */
    n = tlspin_base64_decode(text, size, raw, sizeof raw);
    if (n >= 0)
        (void)tlspin_base64_encode(raw, (size_t)n, b64, sizeof b64);
    free(text);
    return 0;
}
