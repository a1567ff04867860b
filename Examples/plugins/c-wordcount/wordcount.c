/* wordcount: a task kind in C. One task per argument, its words counted by a one-shot worker,
 * the totals kept in the master; the host's progress extension counts the texts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin_abi.h"
#include "ph/ext/progress.h"

typedef struct { const ph_master_host *host; const ph_master_progress *progress; unsigned long words; } master;

static void *open_master(const ph_master_host *host, const ph_open_params *params,
                         const ph_error_sink *errors) {
    if (params->argc < 2) {
        errors->set_error(errors, "usage: wordcount TEXT...");
        return NULL;
    }
    master *m = calloc(1, sizeof *m);
    if (m == NULL) {
        errors->set_error(errors, "wordcount: out of memory");
        return NULL;
    }
    m->host = host;
    m->progress = host->get_extension(host, PH_EXT_PROGRESS);   /* NULL: the host has none */
    if (m->progress != NULL) m->progress->set_total(host, "texts", (uint64_t)(params->argc - 1));
    for (int i = 1; i < params->argc; i++)
        host->push_task(host, params->argv[i], strlen(params->argv[i]), 0, 0);
    return m;
}
static ph_request_result request_of_task(void *m, const ph_worker_status *s, ph_bytes task,
                                         const ph_request_sink *out) {
    out->set_request(out, task.data, task.len);
    return PH_REQUEST_READY;
}
static void use_response(void *instance, const ph_worker_status *s, ph_bytes task, ph_bytes response,
                         const ph_response_sink *out) {
    master *m = instance;
    unsigned long count = 0;
    if (response.len == sizeof count) memcpy(&count, response.data, sizeof count);
    m->words += count;
    if (m->progress != NULL) m->progress->advance(m->host, 1);
    out->resolve(out, PH_OUTCOME_DONE, NULL);  /* no stay(): a one-shot worker ends */
}
static void finish(void *instance, const ph_run_summary *summary, const ph_report_sink *out) {
    master *m = instance;
    char line[128];
    snprintf(line, sizeof line, "wordcount: %lu words in %llu texts", m->words,
             (unsigned long long)summary->done);
    out->write(out, line);
    free(m);
}
static int perform(void *w, ph_bytes request, const ph_perform_context *ctx) {
    const uint8_t *text = request.data;
    unsigned long count = 0;
    for (size_t i = 0; i < request.len; i++)
        if (text[i] != ' ' && (i == 0 || text[i - 1] == ' ')) count++;
    ctx->respond(ctx, &count, sizeof count);
    return 0;
}
int32_t plugin_host_entry(uint32_t major, uint32_t minor, ph_plugin_descriptor *d) {
    (void)minor;
    *d = (ph_plugin_descriptor){
        .abi_major = PH_ABI_VERSION_MAJOR, .abi_minor = PH_ABI_VERSION_MINOR,
        .name = "wordcount", .version = "1.0", .description = "Counts the words of each argument.",
        .usage = "wordcount TEXT...", .default_policy = PH_POLICY_ONE_SHOT,
        .master_open = open_master, .request_of_task = request_of_task,
        .use_response = use_response, .finish = finish, .perform = perform,
    };
    return major == PH_ABI_VERSION_MAJOR ? 0 : 1;
}
