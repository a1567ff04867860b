// Where the Metamath databases the tests verify are: the bundled example and the shared data.
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

public enum MetamathData {
    /// The package root (…/Tests/TestSupport/ThisFile.swift → …).
    public static let packageRoot: String = {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }()
    /// `../shared/data/metamath` beside the package.
    public static let sharedDirectory = packageRoot + "/../shared/data/metamath"
    /// The bundled example.
    public static let example = packageRoot + "/Examples/proofcheck/implication.mm"

    /// A shared database's path; records an issue when the shared data is missing.
    public static func shared(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) -> String {
        let path = sharedDirectory + "/" + name
        if access(path, R_OK) != 0 {
            Issue.record("\(path) is missing: the shared Metamath data must sit in ../shared beside the package",
                         sourceLocation: sourceLocation)
        }
        return path
    }

    /// The example's text with `original` replaced by `replacement` (which must occur once).
    public static func exampleReplacing(_ original: String, with replacement: String) throws -> String {
        let text = try String(contentsOfFile: example, encoding: .utf8)
        #expect(text.components(separatedBy: original).count == 2, "\(original) must occur once in the example")
        return text.replacingOccurrences(of: original, with: replacement)
    }

    /// The 1-based line of the first line containing `needle` in `text`.
    public static func line(of needle: String, in text: String) -> Int {
        (text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains(needle) } ?? -1) + 1
    }
}
