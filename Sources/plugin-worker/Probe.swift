import CSupport
import PluginProtocol

#if canImport(Glibc)
import Glibc
#endif

/// `plugin-worker --probe PATH [--parent-pid PID]`: loads one library and writes a
/// ``PluginProbeAnswer`` (its ``PluginInfo``, or why it is not a plugin) on standard output.
///
/// The host lists plugins through this, one short-lived process per library, so a library that
/// crashes, faults or calls `exit` while it loads costs one warning, not the host. The plugin's
/// own prints to standard output go to standard error, so they cannot corrupt the answer.
func probeMain(_ arguments: [String]) -> Never {
    guard arguments.count == 2 || (arguments.count == 4 && arguments[2] == "--parent-pid") else {
        printError("plugin-worker: usage: plugin-worker --probe PATH [--parent-pid PID]")
        exit(2)
    }
    let libraryPath = arguments[1]
    // Die with the host, as a worker does.
    if arguments.count == 4, let parent = Int32(arguments[3]) {
        _ = csupport_set_parent_death_signal(SIGKILL)
        if getppid() != parent { exit(2) }
    }
    let answerDescriptor = fcntl(1, F_DUPFD_CLOEXEC, 3)
    guard answerDescriptor >= 0 else { exit(2) }
    dup2(2, 1)
    let answer: PluginProbeAnswer
    do {
        answer = .plugin(try PluginLibrary(path: libraryPath).info)
    } catch {
        answer = .failure(error)
    }
    let failure = answer.encoded().withUnsafeBytes { Descriptor(answerDescriptor).writeAllResult($0) }
    // _exit: the answer is out; the library's destructors and exit handlers do not get a say.
    _exit(failure == nil ? 0 : 2)
}
