/*
 * ph/util/options.h — C conveniences for a plugin's `master_open`: reading its own options and
 * reporting a usage error. Header only; not part of the ABI (the host never calls it, and the
 * Swift module leaves it out), so a C plugin may use it, copy it or ignore it.
 */
#ifndef PH_UTIL_OPTIONS_H
#define PH_UTIL_OPTIONS_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../../plugin_abi.h"

/**
 * Reads option `name` ("--name VALUE" or "--name=VALUE") at `params->argv[*i]`. Returns 1 if that
 * argument is the option, with `*value` its value, or NULL when a separate value is missing, and
 * `*i` moved past a separate value; returns 0 (nothing changed) for any other argument.
 */
static inline int ph_option_value(const ph_open_params *params, int *i, const char *name, const char **value) {
    const char *arg = params->argv[*i];
    size_t n = strlen(name);
    if (arg == NULL || strncmp(arg, name, n) != 0) return 0;
    if (arg[n] == '=') {
        *value = arg + n + 1;
        return 1;
    }
    if (arg[n] != '\0') return 0;
    if (*i + 1 < params->argc && params->argv[*i + 1] != NULL) {
        *value = params->argv[++*i];
    } else {
        *value = NULL;
    }
    return 1;
}

/** Formats a one-line usage error (cut at 1 KiB) and hands it to `errors->set_error`, if any. */
static inline void ph_set_errorv(const ph_error_sink *errors, const char *format, va_list arguments)
    __attribute__((format(printf, 2, 0)));

static inline void ph_set_errorv(const ph_error_sink *errors, const char *format, va_list arguments) {
    char message[1024];
    vsnprintf(message, sizeof message, format, arguments);
    if (errors != NULL && errors->set_error != NULL) errors->set_error(errors, message);
}

#endif /* PH_UTIL_OPTIONS_H */
