/* bypass_eap_server.c PORT CERT KEY — an EAP-FAST style server for
 * test_bypass_nocert.c: session_secret_cb supplies the master secret, so a
 * client with the same secret gets an abbreviated handshake and no
 * certificate. Serves three connections, prints what it receives. */
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static int secret_cb(SSL *s, void *secret, int *len, STACK_OF(SSL_CIPHER) *peer, const SSL_CIPHER **pref, void *arg)
{ (void)s;(void)arg; memset(secret, 0x42, 48); *len = 48;
  for (int i = 0; peer && i < sk_SSL_CIPHER_num(peer); i++) if (!strcmp(SSL_CIPHER_get_name(sk_SSL_CIPHER_value(peer, i)), "ECDHE-ECDSA-AES128-GCM-SHA256")) *pref = sk_SSL_CIPHER_value(peer, i);
  return 1; }
int main(int c, char **v){ (void)c;
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_use_certificate_chain_file(ctx, v[2]); SSL_CTX_use_PrivateKey_file(ctx, v[3], SSL_FILETYPE_PEM);
  int ls = socket(AF_INET, SOCK_STREAM, 0), one=1; setsockopt(ls,SOL_SOCKET,SO_REUSEADDR,&one,4);
  struct sockaddr_in a={.sin_family=AF_INET,.sin_port=htons(atoi(v[1]))}; inet_pton(AF_INET,"127.0.0.1",&a.sin_addr);
  bind(ls,(void*)&a,sizeof a); listen(ls,5);
  socklen_t al = sizeof a; getsockname(ls, (void*)&a, &al);
  printf("ACCEPT 127.0.0.1:%d\n", ntohs(a.sin_port)); fflush(stdout);
  for (int i=0;i<3;i++){ int fd=accept(ls,0,0); SSL *s=SSL_new(ctx); SSL_set_fd(s,fd);
    SSL_set_session_secret_cb(s, secret_cb, NULL);
    if (SSL_accept(s)==1){ char b[100]; int n=SSL_read(s,b,99); if(n>0){b[n]=0; printf("server got: %s (cipher %s reused %d)\n", b, SSL_get_cipher_name(s), SSL_session_reused(s));} }
    else ERR_print_errors_fp(stdout);
    fflush(stdout); SSL_free(s); close(fd);} }
