/* bypass_mkpsk.c OUT.pem — writes an external-PSK TLS 1.3 session (no peer
 * certificate, max_early_data 16384) for test_bypass_nocert.c. */
#include <openssl/ssl.h>
#include <openssl/pem.h>
#include <stdio.h>
int main(int c, char **v){ (void)c;
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method()); SSL *s = SSL_new(ctx);
  const SSL_CIPHER *ci = SSL_CIPHER_find(s, (const unsigned char*)"\x13\x01");
  SSL_SESSION *ss = SSL_SESSION_new(); unsigned char k[32]; for (int i=0;i<32;i++) k[i]=i;
  SSL_SESSION_set1_master_key(ss,k,32); SSL_SESSION_set_cipher(ss,ci); SSL_SESSION_set_protocol_version(ss,TLS1_3_VERSION);
  SSL_SESSION_set_max_early_data(ss, 16384);
  FILE *f=fopen(v[1],"w"); PEM_write_SSL_SESSION(f,ss); fclose(f); return 0;}
