/*
 * bypass_binding_plugin.c — the entry of libbb_plugin.so: tls_client's
 * sources built as a library that links libssl (DT_NEEDED), like python's
 * _ssl extension or a plugin of a plugin host; bypass_binding_host loads it
 * with RTLD_DEEPBIND or into a namespace of its own and calls this.
 * client_main.c's main is renamed bb_plugin_main for this target.
 */
int bb_plugin_main(int argc, char **argv);
__attribute__((visibility("default"))) int bb_plugin_run(int argc, char **argv);

__attribute__((visibility("default"))) int bb_plugin_run(int argc, char **argv)
{
    return bb_plugin_main(argc, argv);
}
