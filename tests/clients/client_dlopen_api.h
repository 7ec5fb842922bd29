/*
 * client_dlopen_api.h — OpenSSL through dlsym'ed pointers (tls_client_dlopen).
 *
 * Included by client_ossl.h after OpenSSL's headers when TLSC_DLOPEN is
 * defined. Each function the clients call becomes a macro naming a member
 * of tlsc_api, filled by client_dlopen.c from RTLD_LOCAL handles, so the
 * program has no undefined OpenSSL symbol and no DT_NEEDED on libssl: it is
 * the python3/perl way of loading libssl, where a preload's hooks are not
 * reached by the program's own calls. OpenSSL's own macros (BIO_get_ssl,
 * SSL_set_tlsext_host_name, BIO_should_retry...) expand to the functions
 * below and so go through the pointers too.
 *
 * To call a new function: add it to the right list and add its #define. A
 * forgotten #define fails the link (tls_client_dlopen links no OpenSSL); a
 * forgotten list entry fails the compile.
 */
#ifndef TLSC_CLIENT_DLOPEN_API_H
#define TLSC_CLIENT_DLOPEN_API_H

/* Functions that live in libssl.so.3. */
#define TLSC_LIBSSL_FUNCS(X) \
    X(BIO_new_ssl_connect) X(PEM_read_SSL_SESSION) X(PEM_write_SSL_SESSION) \
    X(SSL_CTX_ctrl) X(SSL_CTX_free) X(SSL_CTX_load_verify_locations) X(SSL_CTX_new) \
    X(SSL_CTX_set_cert_verify_callback) X(SSL_CTX_set_cipher_list) X(SSL_CTX_set_default_verify_paths) \
    X(SSL_CTX_set_verify) X(SSL_SESSION_free) X(SSL_SESSION_is_resumable) \
    X(SSL_connect) X(SSL_ctrl) X(SSL_do_handshake) X(SSL_free) X(SSL_get0_param) \
    X(SSL_get0_peer_certificate) X(SSL_get1_session) X(SSL_get_error) \
    X(SSL_get_ex_data) X(SSL_get_fd) X(SSL_get_verify_result) X(SSL_get_version) \
    X(SSL_has_pending) X(SSL_is_init_finished) X(SSL_new) X(SSL_peek) X(SSL_peek_ex) \
    X(SSL_read) X(SSL_read_ex) X(SSL_session_reused) X(SSL_set1_host) \
    X(SSL_set_connect_state) X(SSL_set_ex_data) X(SSL_set_fd) X(SSL_set_info_callback) \
    X(SSL_set_session) X(SSL_shutdown) X(SSL_version) X(SSL_write) X(SSL_write_ex) \
    X(TLS_client_method) X(TLS_method)

/* Functions that live in libcrypto.so.3. */
#define TLSC_LIBCRYPTO_FUNCS(X) \
    X(BIO_ctrl) X(BIO_free_all) X(BIO_test_flags) X(ERR_clear_error) \
    X(ERR_error_string_n) X(ERR_get_error) X(ERR_peek_error) X(EVP_Digest) \
    X(EVP_EncodeBlock) X(EVP_sha256) X(X509_STORE_CTX_get_error) \
    X(X509_STORE_CTX_get_error_depth) X(X509_VERIFY_PARAM_set1_ip_asc) \
    X(X509_get_X509_PUBKEY) X(X509_verify_cert) X(X509_verify_cert_error_string) \
    X(i2d_X509_PUBKEY)

#define TLSC_API_MEMBER(name) __typeof__(name) *p_##name;
struct tlsc_api {
    TLSC_LIBSSL_FUNCS(TLSC_API_MEMBER)
    TLSC_LIBCRYPTO_FUNCS(TLSC_API_MEMBER)
};
#undef TLSC_API_MEMBER

extern struct tlsc_api tlsc_api;

/* From here on, calls go through the pointers. */
#define BIO_new_ssl_connect (tlsc_api.p_BIO_new_ssl_connect)
#define PEM_read_SSL_SESSION (tlsc_api.p_PEM_read_SSL_SESSION)
#define PEM_write_SSL_SESSION (tlsc_api.p_PEM_write_SSL_SESSION)
#define SSL_CTX_ctrl (tlsc_api.p_SSL_CTX_ctrl)
#define SSL_CTX_free (tlsc_api.p_SSL_CTX_free)
#define SSL_CTX_load_verify_locations (tlsc_api.p_SSL_CTX_load_verify_locations)
#define SSL_CTX_new (tlsc_api.p_SSL_CTX_new)
#define SSL_CTX_set_cert_verify_callback (tlsc_api.p_SSL_CTX_set_cert_verify_callback)
#define SSL_CTX_set_cipher_list (tlsc_api.p_SSL_CTX_set_cipher_list)
#define SSL_CTX_set_default_verify_paths (tlsc_api.p_SSL_CTX_set_default_verify_paths)
#define SSL_CTX_set_verify (tlsc_api.p_SSL_CTX_set_verify)
#define SSL_SESSION_free (tlsc_api.p_SSL_SESSION_free)
#define SSL_SESSION_is_resumable (tlsc_api.p_SSL_SESSION_is_resumable)
#define SSL_connect (tlsc_api.p_SSL_connect)
#define SSL_ctrl (tlsc_api.p_SSL_ctrl)
#define SSL_do_handshake (tlsc_api.p_SSL_do_handshake)
#define SSL_free (tlsc_api.p_SSL_free)
#define SSL_get0_param (tlsc_api.p_SSL_get0_param)
#define SSL_get0_peer_certificate (tlsc_api.p_SSL_get0_peer_certificate)
#define SSL_get1_session (tlsc_api.p_SSL_get1_session)
#define SSL_get_error (tlsc_api.p_SSL_get_error)
#define SSL_get_ex_data (tlsc_api.p_SSL_get_ex_data)
#define SSL_get_fd (tlsc_api.p_SSL_get_fd)
#define SSL_get_verify_result (tlsc_api.p_SSL_get_verify_result)
#define SSL_get_version (tlsc_api.p_SSL_get_version)
#define SSL_has_pending (tlsc_api.p_SSL_has_pending)
#define SSL_is_init_finished (tlsc_api.p_SSL_is_init_finished)
#define SSL_new (tlsc_api.p_SSL_new)
#define SSL_peek (tlsc_api.p_SSL_peek)
#define SSL_peek_ex (tlsc_api.p_SSL_peek_ex)
#define SSL_read (tlsc_api.p_SSL_read)
#define SSL_read_ex (tlsc_api.p_SSL_read_ex)
#define SSL_session_reused (tlsc_api.p_SSL_session_reused)
#define SSL_set1_host (tlsc_api.p_SSL_set1_host)
#define SSL_set_connect_state (tlsc_api.p_SSL_set_connect_state)
#define SSL_set_ex_data (tlsc_api.p_SSL_set_ex_data)
#define SSL_set_fd (tlsc_api.p_SSL_set_fd)
#define SSL_set_info_callback (tlsc_api.p_SSL_set_info_callback)
#define SSL_set_session (tlsc_api.p_SSL_set_session)
#define SSL_shutdown (tlsc_api.p_SSL_shutdown)
#define SSL_version (tlsc_api.p_SSL_version)
#define SSL_write (tlsc_api.p_SSL_write)
#define SSL_write_ex (tlsc_api.p_SSL_write_ex)
#define TLS_client_method (tlsc_api.p_TLS_client_method)
#define TLS_method (tlsc_api.p_TLS_method)
#define BIO_ctrl (tlsc_api.p_BIO_ctrl)
#define BIO_free_all (tlsc_api.p_BIO_free_all)
#define BIO_test_flags (tlsc_api.p_BIO_test_flags)
#define ERR_clear_error (tlsc_api.p_ERR_clear_error)
#define ERR_error_string_n (tlsc_api.p_ERR_error_string_n)
#define ERR_get_error (tlsc_api.p_ERR_get_error)
#define ERR_peek_error (tlsc_api.p_ERR_peek_error)
#define EVP_Digest (tlsc_api.p_EVP_Digest)
#define EVP_EncodeBlock (tlsc_api.p_EVP_EncodeBlock)
#define EVP_sha256 (tlsc_api.p_EVP_sha256)
#define X509_STORE_CTX_get_error (tlsc_api.p_X509_STORE_CTX_get_error)
#define X509_STORE_CTX_get_error_depth (tlsc_api.p_X509_STORE_CTX_get_error_depth)
#define X509_VERIFY_PARAM_set1_ip_asc (tlsc_api.p_X509_VERIFY_PARAM_set1_ip_asc)
#define X509_get_X509_PUBKEY (tlsc_api.p_X509_get_X509_PUBKEY)
#define X509_verify_cert (tlsc_api.p_X509_verify_cert)
#define X509_verify_cert_error_string (tlsc_api.p_X509_verify_cert_error_string)
#define i2d_X509_PUBKEY (tlsc_api.p_i2d_X509_PUBKEY)

#endif
