// A minimal C plugin built with cc for the discovery and `check` tests: any name, any file name,
// any required callback left out.
import PluginHost
import TestSupport

enum TinyPlugin {
    /// Builds a plugin named `name` into `fileName` in `directory`, leaving the callbacks in
    /// `omitting` NULL; returns its path.
    static func compile(name: String, fileName: String, in directory: TemporaryDirectory,
                        omitting: Set<String> = []) throws -> String {
        let callbacks = ["master_open", "request_of_task", "use_response", "perform"]
            .filter { !omitting.contains($0) }
            .map { "    out->\($0) = \($0);" }
            .joined(separator: "\n")
        let source = """
            #include <string.h>
            #include <plugin_abi.h>
            static int instance;
            static void *master_open(const ph_master_host *h, const ph_open_params *p, const ph_error_sink *e) {
                (void)h; (void)p; (void)e; return &instance;
            }
            static ph_request_result request_of_task(void *m, const ph_worker_status *s, ph_bytes t,
                                                     const ph_request_sink *o) {
                (void)m; (void)s; o->set_request(o, t.data, t.len); return PH_REQUEST_READY;
            }
            static void use_response(void *m, const ph_worker_status *s, ph_bytes t, ph_bytes r,
                                     const ph_response_sink *o) { (void)m; (void)s; (void)t; (void)r; (void)o; }
            static int perform(void *w, ph_bytes r, const ph_perform_context *c) {
                (void)w; c->respond(c, r.data, r.len); return 0;
            }
            __attribute__((visibility("default")))
            int32_t plugin_host_entry(uint32_t major, uint32_t minor, ph_plugin_descriptor *out) {
                (void)major; (void)minor;
                memset(out, 0, sizeof *out);
                out->abi_major = PH_ABI_VERSION_MAJOR;
                out->abi_minor = PH_ABI_VERSION_MINOR;
                out->name = "\(name)";
                out->version = "1.0";
                out->description = "a test plugin";
                out->usage = "no arguments";
                out->default_policy = PH_POLICY_ONE_SHOT;
            \(callbacks)
                return 0;
            }
            """
        return try DamagedLibraries.compile(source, named: fileName, in: directory,
                                            flags: ["-Wno-unused-function", "-I", MetamathData.packageRoot + "/Sources/PluginABI/include"])
    }
}
