/* A task kind "future" that declares another ABI version than this host's (tasks are echoed).

   By default it is a plugin of a later minor version (major PH_ABI_VERSION_MAJOR, minor one
   more): the host must load and run it, since a minor version only adds extensions.

   With FUTURE_ABI_DECLARED=MAJOR.MINOR in its environment it declares that version instead. For
   another major version it behaves as a plugin built against that ABI would: it refuses this
   host (returns 1) after writing its version, and, when MAJOR is later than this host's, a
   descriptor 1 KiB longer than this host's, whose extra bytes carry a pattern. The host must
   refuse it with one line naming both versions, without reading or writing past what it knows. */
#include "include/future_abi_plugin.h"

#include <stdlib.h>
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

/* The version to declare: FUTURE_ABI_DECLARED ("MAJOR.MINOR") or this header's next minor. */
static void declared_version(uint32_t *major, uint32_t *minor) {
    *major = PH_ABI_VERSION_MAJOR;
    *minor = PH_ABI_VERSION_MINOR + 1;
    const char *text = getenv("FUTURE_ABI_DECLARED");
    if (text == NULL) return;
    char *dot;
    unsigned long declared_major = strtoul(text, &dot, 10);
    if (*dot != '.') return;
    *major = (uint32_t)declared_major;
    *minor = (uint32_t)strtoul(dot + 1, NULL, 10);
}

int32_t plugin_host_entry(uint32_t host_major, uint32_t host_minor, ph_plugin_descriptor *out) {
    (void)host_minor;
    uint32_t major, minor;
    declared_version(&major, &minor);
    if (major > PH_ABI_VERSION_MAJOR) {
        future_descriptor *d = (future_descriptor *)out;
        memset(d, 0xA5, sizeof *d);
    } else {
        memset(out, 0, sizeof *out);
    }
    out->abi_major = major;
    out->abi_minor = minor;
    if (major != host_major) return 1;
    out->name = "future";
    out->version = "1.0.0";
    out->description = "Echoes tasks; declares a later ABI minor version than this host's.";
    out->usage = "future WORD...";
    out->default_policy = PH_POLICY_PERSISTENT;
    out->master_open = open_master;
    out->request_of_task = request_of_task;
    out->use_response = use_response;
    out->perform = perform;
    return 0;
}

/* Marks this library as a test fixture: `plugin-host list` leaves it out of a build directory. */
const int plugin_host_test_fixture = 1;
