/* future_abi_plugin.h — a test plugin that claims a later ABI minor version and fills a
   descriptor longer than the host's (as a plugin built against a newer header would). */
#ifndef FUTURE_ABI_PLUGIN_H
#define FUTURE_ABI_PLUGIN_H
#include "plugin_abi.h"
int32_t plugin_host_entry(uint32_t host_major, uint32_t host_minor, ph_plugin_descriptor *out);
#endif
