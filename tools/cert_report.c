/* Certificates, keys and CSRs as the command shows them (see cert_report.h). */
#include "cert_report.h"

#include <openssl/bn.h>
#include <string.h>

#include "expiry.h"
#include "pin.h"
#include "term.h"

const char *cert_origin_text(enum cert_origin origin)
{
    switch (origin) {
    case ORIGIN_FILE: return NULL;
    case ORIGIN_SERVER: return "sent by the server";
    case ORIGIN_TRUST_STORE: return "from the trust store, not sent by the server";
    case ORIGIN_PRESENTED_ONLY:
        return "sent by the server but NOT in the verified chain: tlspin never counts it";
    }
    return NULL;
}

const char *cert_origin_token(enum cert_origin origin)
{
    switch (origin) {
    case ORIGIN_FILE: return "file";
    case ORIGIN_SERVER: return "server";
    case ORIGIN_TRUST_STORE: return "trust-store";
    case ORIGIN_PRESENTED_ONLY: return "presented-only";
    }
    return "?";
}

static void row(FILE *out, const char *label, const char *value)
{
    fprintf(out, "  %-10s %s\n", label, value);
}

static enum term_style expiry_style(const struct expiry *e)
{
    return e->expired || (e->mark > 0 && e->mark <= 7) ? TERM_RED : TERM_YELLOW;
}

void cert_report_block(FILE *out, const struct cert_entry *e, enum pin_spelling spelling,
                       int64_t now)
{
    char pin[PIN_SPELL_MAX], text[600];
    const char *origin = cert_origin_text(e->origin);

    pin_spell(e->pin, spelling, pin, sizeof(pin));
    fprintf(out, "%s%s%s%s%s", term_on(out, TERM_BOLD), e->position ? e->position : "",
            e->position ? " " : "", e->kind, term_off(out));
    if (origin != NULL)
        fprintf(out, " %s(%s)%s", e->origin == ORIGIN_PRESENTED_ONLY ? term_on(out, TERM_YELLOW)
                : "", origin, e->origin == ORIGIN_PRESENTED_ONLY ? term_off(out) : "");
    fputc('\n', out);
    fprintf(out, "  %-10s %s%s%s\n", "pin", term_on(out, TERM_GREEN), pin, term_off(out));
    if (e->cert != NULL) {
        struct expiry x;
        pin_name_text(X509_get_subject_name(e->cert), text, sizeof(text));
        row(out, "subject", text);
        pin_name_text(X509_get_issuer_name(e->cert), text, sizeof(text));
        row(out, "issuer", text);
        if (expiry_of_cert(e->cert, now, &x) == 0) {
            char when[64], how[128];
            expiry_format_utc(x.not_after, when, sizeof(when));
            expiry_describe(&x, how, sizeof(how));
            if (x.mark >= 0)
                fprintf(out, "  %-10s %s, %s%s%s\n", "not after", when,
                        term_on(out, expiry_style(&x)), how, term_off(out));
            else
                fprintf(out, "  %-10s %s, %s\n", "not after", when, how);
        }
        pin_key_text(X509_get0_pubkey(e->cert), text, sizeof(text));
        row(out, "key", text);
    } else {
        if (e->subject != NULL && e->subject[0] != '\0')
            row(out, "subject", e->subject);
        if (e->key != NULL)
            row(out, "key", e->key);
    }
}

static void json_time(struct json *j, const char *key, const ASN1_TIME *t)
{
    int64_t epoch;
    char text[64];

    if (expiry_asn1_to_epoch(t, &epoch) != 0) {
        json_null(j, key);
        return;
    }
    expiry_format_iso(epoch, text, sizeof(text));
    json_str(j, key, text);
}

void cert_report_json(struct json *j, const char *key, const struct cert_entry *e,
                      enum pin_spelling spelling, int64_t now)
{
    char pin[PIN_SPELL_MAX], text[600];

    json_object_open(j, key);
    json_str(j, "kind", e->kind);
    json_str(j, "position", e->position);
    json_str(j, "origin", cert_origin_token(e->origin));
    json_bool(j, "counted", e->origin == ORIGIN_SERVER || e->origin == ORIGIN_TRUST_STORE ||
                            e->origin == ORIGIN_FILE);
    pin_spell(e->pin, spelling, pin, sizeof(pin));
    json_str(j, "pin", pin);
    pin_spell(e->pin, PIN_SPELL_TLSPIN, pin, sizeof(pin));
    json_str(j, "sha256", pin + strlen("sha256/"));
    if (e->cert != NULL) {
        struct expiry x;
        const ASN1_INTEGER *serial = X509_get0_serialNumber(e->cert);
        BIGNUM *bn = serial ? ASN1_INTEGER_to_BN(serial, NULL) : NULL;
        char *hex = bn ? BN_bn2hex(bn) : NULL;

        pin_name_text(X509_get_subject_name(e->cert), text, sizeof(text));
        json_str(j, "subject", text);
        pin_name_text(X509_get_issuer_name(e->cert), text, sizeof(text));
        json_str(j, "issuer", text);
        json_str(j, "serial", hex);
        OPENSSL_free(hex);
        BN_free(bn);
        json_time(j, "not_before", X509_get0_notBefore(e->cert));
        json_time(j, "not_after", X509_get0_notAfter(e->cert));
        if (expiry_of_cert(e->cert, now, &x) == 0) {
            json_int(j, "days_left", x.days_left);
            json_bool(j, "expired", x.expired);
            if (x.mark >= 0)
                json_int(j, "expiry_mark", x.mark);
            else
                json_null(j, "expiry_mark");
        }
        pin_key_text(X509_get0_pubkey(e->cert), text, sizeof(text));
        json_str(j, "key", text);
    } else {
        json_str(j, "subject", e->subject && e->subject[0] ? e->subject : NULL);
        json_str(j, "key", e->key);
    }
    json_object_close(j);
}
