/* A task kind "future" whose descriptor is 1 KiB longer than this host's: the extra fields a
   later minor version might add are written with a pattern. The host must load it without
   writing or reading past what it knows. Tasks are echoed. */
#include "include/future_abi_plugin.h"

#include <string.h>

typedef struct future_descriptor {
    ph_plugin_descriptor known;
    unsigned char later_fields[1024];
} future_descriptor;

static void *open_master(const ph_master_host *host, const ph_open_params *params, const ph_error_sink *errors) {
    (void)errors;
    for (int i = 1; i < params->argc; i++) host->push_task(host, params->argv[i], strlen(params->argv[i]), 0, 0);
    return (void *)host;
}

static ph_request_result request_of_task(void *m, const ph_worker_status *s, ph_bytes task, const ph_request_sink *out) {
    (void)m; (void)s;
    out->set_request(out, task.data, task.len);
    return PH_REQUEST_READY;
}

static void use_response(void *m, const ph_worker_status *s, ph_bytes task, ph_bytes response, const ph_response_sink *out) {
    (void)m; (void)s;
    int same = task.len == response.len && memcmp(task.data, response.data, task.len) == 0;
    out->resolve(out, same ? PH_OUTCOME_DONE : PH_OUTCOME_FAILED, same ? "echoed" : "wrong echo");
}

static int perform(void *w, ph_bytes request, const ph_perform_context *ctx) {
    (void)w;
    ctx->respond(ctx, request.data, request.len);
    return 0;
}

int32_t plugin_host_entry(uint32_t host_major, uint32_t host_minor, ph_plugin_descriptor *out) {
    (void)host_minor;
    future_descriptor *d = (future_descriptor *)out;
    memset(d, 0xA5, sizeof *d);
    memset(&d->known, 0, sizeof d->known);
    d->known.abi_major = PH_ABI_VERSION_MAJOR;
    d->known.abi_minor = PH_ABI_VERSION_MINOR + 1;
    d->known.name = "future";
    d->known.version = "1.0.0";
    d->known.description = "Echoes tasks; its descriptor is longer than this host's.";
    d->known.usage = "future WORD...";
    d->known.default_policy = PH_POLICY_PERSISTENT;
    d->known.master_open = open_master;
    d->known.request_of_task = request_of_task;
    d->known.use_response = use_response;
    d->known.perform = perform;
    return host_major == PH_ABI_VERSION_MAJOR ? 0 : 1;
}
