/* tls_certs: building an SSL_CTX from the shared parameters: protocol range and cipher list,
 * certificates with their keys and chains (cert/key pairs per algorithm, or chain files
 * holding keys each next to its chain, so RSA and ECDSA sit side by side), and the CAs. */
#include "mail/tls_int.h"

#include "base/argv.h"
#include "base/log.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <string.h>

#define TLS_MAX_PEM_OBJECTS 100

/* The protocol range and cipher string for the plain or the mandatory settings. */
static int settings(const struct tls_common_params *c, int mandatory, int *minv, int *maxv,
                    uint64_t *no, struct str *ciphers, struct str *err)
{
    const char *plist = mandatory ? c->mandatory_protocols : c->protocols;
    int mask = tls_protocols_parse(plist ? plist : "", err);
    if (mask < 0)
        return -1;
    tls_protocols_openssl(mask, minv, maxv, no);
    struct str excl = STR_INIT;
    str_set(&excl, c->exclude_ciphers ? c->exclude_ciphers : "");
    if (mandatory && c->mandatory_exclude_ciphers)
        str_appendf(&excl, " %s", c->mandatory_exclude_ciphers);
    int rc = tls_cipher_string(&c->lists, mandatory ? c->mandatory_ciphers : c->ciphers,
                               str_cstr(&excl), ciphers, err);
    str_release(&excl);
    return rc;
}

int tls_ctx_setup(SSL_CTX *ctx, const struct tls_common_params *c, int mandatory, struct str *err)
{
    int minv, maxv;
    uint64_t no;
    struct str ciphers = STR_INIT;
    int rc = settings(c, mandatory, &minv, &maxv, &no, &ciphers, err);
    if (rc == 0) {
        SSL_CTX_set_min_proto_version(ctx, minv);
        SSL_CTX_set_max_proto_version(ctx, maxv);
        SSL_CTX_set_options(ctx, no);
        if (SSL_CTX_set_cipher_list(ctx, str_cstr(&ciphers)) != 1) {
            str_setf(err, "invalid cipher list: \"%s\"", str_cstr(&ciphers));
            rc = -1;
        }
    }
    str_release(&ciphers);
    if (rc < 0)
        return -1;
    if (c->preempt_cipherlist)
        SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_verify_depth(ctx, c->verify_depth > 0 ? c->verify_depth + 1 : 10);
    return 0;
}

int tls_ssl_setup(SSL *ssl, const struct tls_common_params *c, int mandatory, struct str *err)
{
    int minv, maxv;
    uint64_t no;
    struct str ciphers = STR_INIT;
    int rc = settings(c, mandatory, &minv, &maxv, &no, &ciphers, err);
    if (rc == 0) {
        SSL_set_min_proto_version(ssl, minv);
        SSL_set_max_proto_version(ssl, maxv);
        SSL_set_options(ssl, no);
        if (SSL_set_cipher_list(ssl, str_cstr(&ciphers)) != 1) {
            str_setf(err, "invalid cipher list: \"%s\"", str_cstr(&ciphers));
            rc = -1;
        }
    }
    str_release(&ciphers);
    return rc;
}

/* ---- PEM files --------------------------------------------------------------------------- */

struct pem_item {
    X509 *cert;
    EVP_PKEY *key;
};

/* Reads every certificate and private key of a PEM file in order. -1 on a bad file. */
static int read_pem(const char *file, struct pem_item *items, int *count)
{
    BIO *in = BIO_new_file(file, "r");
    if (in == NULL)
        return -1;
    *count = 0;
    char *name = NULL, *header = NULL;
    unsigned char *data = NULL;
    long len = 0;
    int rc = 0;
    while (*count < TLS_MAX_PEM_OBJECTS && PEM_read_bio(in, &name, &header, &data, &len)) {
        const unsigned char *p = data;
        struct pem_item it = {NULL, NULL};
        if (strstr(name, "CERTIFICATE"))
            it.cert = d2i_X509(NULL, &p, len);
        else if (strcmp(name, "RSA PRIVATE KEY") == 0)
            it.key = d2i_PrivateKey(EVP_PKEY_RSA, NULL, &p, len);
        else if (strcmp(name, "EC PRIVATE KEY") == 0)
            it.key = d2i_PrivateKey(EVP_PKEY_EC, NULL, &p, len);
        else if (strcmp(name, "PRIVATE KEY") == 0)
            it.key = d2i_AutoPrivateKey(NULL, &p, len);
        else if (strstr(name, "PARAMETERS") == NULL)
            rc = -1; /* encrypted keys and unknown objects */
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(data);
        if (it.cert || it.key)
            items[(*count)++] = it;
        if (rc < 0)
            break;
    }
    unsigned long e = ERR_peek_last_error();
    if (ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
        ERR_clear_error();
    BIO_free(in);
    return rc;
}

static void free_items(struct pem_item *items, int n)
{
    for (int i = 0; i < n; i++) {
        X509_free(items[i].cert);
        EVP_PKEY_free(items[i].key);
    }
}

/* Installs one key with its leaf (the certificate matching the key) and chain. */
static int use_group(SSL_CTX *ctx, EVP_PKEY *key, struct pem_item *certs, int n, const char *file,
                     struct str *err)
{
    X509 *leaf = NULL;
    STACK_OF(X509) *chain = sk_X509_new_null();
    for (int i = 0; i < n; i++) {
        if (leaf == NULL && X509_check_private_key(certs[i].cert, key))
            leaf = certs[i].cert;
        else
            sk_X509_push(chain, certs[i].cert);
    }
    ERR_clear_error();
    int ok = leaf && SSL_CTX_use_cert_and_key(ctx, leaf, key, chain, 1) == 1;
    sk_X509_free(chain);
    if (!ok) {
        str_setf(err, "cannot load certificate and key from file \"%s\"%s", file,
                 leaf ? "" : ": no certificate matches the private key");
        return -1;
    }
    return 0;
}

/* Installs the group (key, certs) and starts a new one; a group with only one half fails. */
static int flush_group(SSL_CTX *ctx, EVP_PKEY **key, struct pem_item *certs, int *nc,
                       const char *file, struct str *err)
{
    int rc = 0;
    if (*key && *nc)
        rc = use_group(ctx, *key, certs, *nc, file, err);
    else if (*key || *nc) {
        str_setf(err, "cannot load certificate chain from file \"%s\": %s", file,
                 *key ? "private key without certificate" : "certificate without private key");
        rc = -1;
    }
    *key = NULL;
    *nc = 0;
    return rc;
}

/* A chain file: each private key directly followed by its certificate chain (or, when the
 * file starts with a certificate, each chain followed by its key). */
static int load_chain_file(SSL_CTX *ctx, const char *file, struct str *err)
{
    struct pem_item items[TLS_MAX_PEM_OBJECTS], certs[TLS_MAX_PEM_OBJECTS];
    int n = 0, nc = 0, rc = 0;
    if (read_pem(file, items, &n) < 0 || n == 0) {
        free_items(items, n);
        str_setf(err, "cannot load certificate chain from file \"%s\"", file);
        return -1;
    }
    int key_first = items[0].key != NULL;
    EVP_PKEY *key = NULL;
    for (int i = 0; i < n && rc == 0; i++) {
        if (items[i].cert) {
            certs[nc++] = items[i];
        } else if (key_first) {
            rc = flush_group(ctx, &key, certs, &nc, file, err);
            key = items[i].key;
        } else {
            key = items[i].key;
            rc = flush_group(ctx, &key, certs, &nc, file, err);
        }
    }
    if (rc == 0)
        rc = flush_group(ctx, &key, certs, &nc, file, err);
    free_items(items, n);
    return rc;
}

/* A legacy cert_file/key_file pair: the leaf and its chain, the key (possibly the same file). */
static int load_pair(SSL_CTX *ctx, const char *kind, const char *cert_file, const char *key_file,
                     struct str *err)
{
    struct pem_item citems[TLS_MAX_PEM_OBJECTS], kitems[TLS_MAX_PEM_OBJECTS];
    int nc = 0, nk = 0, rc = -1;
    const char *kf = key_file && *key_file ? key_file : cert_file;
    struct pem_item certs[TLS_MAX_PEM_OBJECTS];
    int n = 0;
    EVP_PKEY *key = NULL;
    if (read_pem(cert_file, citems, &nc) < 0) {
        str_setf(err, "cannot get %s certificate from file \"%s\"", kind, cert_file);
    } else if (read_pem(kf, kitems, &nk) < 0) {
        str_setf(err, "cannot get %s private key from file \"%s\"", kind, kf);
    } else {
        for (int i = 0; i < nc; i++)
            if (citems[i].cert)
                certs[n++] = citems[i];
        for (int i = 0; i < nk && key == NULL; i++)
            key = kitems[i].key;
        if (n == 0)
            str_setf(err, "cannot get %s certificate from file \"%s\"", kind, cert_file);
        else if (key == NULL)
            str_setf(err, "cannot get %s private key from file \"%s\"", kind, kf);
        else if (use_group(ctx, key, certs, n, cert_file, err) == 0)
            rc = 0;
        else
            str_setf(err, "%s private key in %s does not match public key in %s", kind, kf,
                     cert_file);
    }
    free_items(citems, nc);
    free_items(kitems, nk);
    return rc;
}

int tls_certs_configured(const struct tls_common_params *c)
{
    return (c->chain_files && *c->chain_files) || (c->cert_file && *c->cert_file) ||
           (c->eccert_file && *c->eccert_file) || (c->dcert_file && *c->dcert_file);
}

int tls_ctx_load_certs(SSL_CTX *ctx, const struct tls_common_params *c, struct str *err)
{
    if (c->chain_files && *c->chain_files) {
        struct argv *files = argv_split(c->chain_files, " \t\r\n,");
        int rc = 0;
        for (size_t i = 0; i < files->n && rc == 0; i++)
            rc = load_chain_file(ctx, files->v[i], err);
        argv_free(files);
        return rc;
    }
    if (c->cert_file && *c->cert_file && load_pair(ctx, "RSA", c->cert_file, c->key_file, err))
        return -1;
    if (c->dcert_file && *c->dcert_file && load_pair(ctx, "DSA", c->dcert_file, c->dkey_file, err))
        return -1;
    if (c->eccert_file && *c->eccert_file &&
        load_pair(ctx, "ECDSA", c->eccert_file, c->eckey_file, err))
        return -1;
    return 0;
}

int tls_ctx_load_CA(SSL_CTX *ctx, const struct tls_common_params *c, struct str *err)
{
    const char *file = c->CAfile && *c->CAfile ? c->CAfile : NULL;
    const char *path = c->CApath && *c->CApath ? c->CApath : NULL;
    if ((file || path) && SSL_CTX_load_verify_locations(ctx, file, path) != 1) {
        str_setf(err, "cannot load Certification Authority data, CAfile=\"%s\", CApath=\"%s\"",
                 file ? file : "", path ? path : "");
        return -1;
    }
    return 0;
}
