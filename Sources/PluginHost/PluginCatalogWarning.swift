#if canImport(Glibc)
import Glibc
#endif

extension PluginCatalog {
    /// Something about the search path worth one line that does not stop the command.
    public enum Warning: Sendable, Equatable, CustomStringConvertible {
        /// The same plugin name in two files: `used` comes first on the search path and wins.
        case shadowed(name: String, used: String, shadowed: String)
        /// A directory given explicitly (`--plugin-path`) that does not exist or is no directory.
        case missingDirectory(String)

        public var description: String {
            switch self {
            case .shadowed(let name, let used, let shadowed):
                return "plugin '\(name)' is in both \(used) and \(shadowed); using the first"
            case .missingDirectory(let path):
                return "--plugin-path \(path): no such directory"
            }
        }
    }

    /// A ``Warning/missingDirectory(_:)`` for each of `directories` that is not a directory.
    public static func missingDirectories(among directories: [String]) -> [Warning] {
        directories.filter { directory in
            var info = stat()
            return stat(directory, &info) != 0 || info.st_mode & S_IFMT != S_IFDIR
        }.map { .missingDirectory($0) }
    }
}
