/* SHA-256 through OpenSSL's libcrypto, loaded on first use.
 *
 * Blob digests need a real hash; libcrypto (present wherever openssh is) computes it with the
 * CPU's SHA instructions. It is opened with dlopen only when a blob is hashed, so a worker that
 * never fetches a blob does not pay for loading it at start-up (one-shot kinds start one worker
 * per job). */
#include "csupport.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>

typedef void *(*md_fn)(void);
typedef void *(*ctx_new_fn)(void);
typedef void (*ctx_free_fn)(void *);
typedef int (*init_fn)(void *, const void *, void *);
typedef int (*update_fn)(void *, const void *, size_t);
typedef int (*final_fn)(void *, unsigned char *, unsigned int *);

static struct {
    md_fn sha256;
    ctx_new_fn ctx_new;
    ctx_free_fn ctx_free;
    init_fn init;
    update_fn update;
    final_fn final;
    int loaded;
} crypto;

static pthread_once_t crypto_once = PTHREAD_ONCE_INIT;

static void load_crypto(void) {
    void *library = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) library = dlopen("libcrypto.so", RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) return;
    crypto.sha256 = (md_fn)dlsym(library, "EVP_sha256");
    crypto.ctx_new = (ctx_new_fn)dlsym(library, "EVP_MD_CTX_new");
    crypto.ctx_free = (ctx_free_fn)dlsym(library, "EVP_MD_CTX_free");
    crypto.init = (init_fn)dlsym(library, "EVP_DigestInit_ex");
    crypto.update = (update_fn)dlsym(library, "EVP_DigestUpdate");
    crypto.final = (final_fn)dlsym(library, "EVP_DigestFinal_ex");
    crypto.loaded = crypto.sha256 && crypto.ctx_new && crypto.ctx_free && crypto.init && crypto.update && crypto.final;
}

void *csupport_sha256_begin(void) {
    pthread_once(&crypto_once, load_crypto);
    if (!crypto.loaded) return NULL;
    void *context = crypto.ctx_new();
    if (context == NULL) return NULL;
    if (crypto.init(context, crypto.sha256(), NULL) != 1) {
        crypto.ctx_free(context);
        return NULL;
    }
    return context;
}

int csupport_sha256_update(void *context, const void *data, size_t length) {
    return crypto.update(context, data, length) == 1 ? 0 : -1;
}

int csupport_sha256_end(void *context, uint8_t digest[32]) {
    unsigned int length = 0;
    int ok = crypto.final(context, digest, &length) == 1 && length == 32;
    crypto.ctx_free(context);
    return ok ? 0 : -1;
}
