/* future_abi_plugin.h — a test plugin that declares another ABI version than the host's: a later
   minor version by default, any version through FUTURE_ABI_DECLARED (see future.c). */
#ifndef FUTURE_ABI_PLUGIN_H
#define FUTURE_ABI_PLUGIN_H
#include "plugin_abi.h"
int32_t plugin_host_entry(uint32_t host_major, uint32_t host_minor, ph_plugin_descriptor *out);
#endif
