#if canImport(Glibc)
import Glibc
#endif

/// Checks that a file is a complete ELF shared object for this machine before `dlopen` maps it.
///
/// The dynamic loader maps a library's segments and reads them as memory: a segment that ends
/// past the end of the file (a truncated copy, a download cut short) faults with SIGBUS inside
/// `dlopen`, killing the process. Every offset the loader (or a tool reading the sections) would
/// follow is checked here against the file's size, with `pread`, never through a mapping. A file
/// truncated between this check and `dlopen` can still fault; that race is not closed.
public enum SharedObjectFile {
    /// Why `path` cannot be a loadable shared object, or nil when it looks complete. A file that
    /// cannot be opened gives nil too: `dlopen` then reports it in its own words.
    public static func problem(atPath path: String) -> String? {
        // O_NONBLOCK: a FIFO named like a library must not block the open.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return nil }
        guard info.st_mode & S_IFMT == S_IFREG else { return "not a regular file" }
        return problem(in: ELFFile(fd: fd, size: UInt64(info.st_size)))
    }

    // ELF64 constants (elf.h).
    private static let headerSize: UInt64 = 64
    private static let programHeaderSize: UInt64 = 56
    private static let sectionHeaderSize: UInt64 = 64
    private static let typeSharedObject: UInt16 = 3  // ET_DYN
    private static let sectionNoBits: UInt32 = 8  // SHT_NOBITS: occupies no file space
    #if arch(x86_64)
    private static let hostMachine: UInt16? = 62  // EM_X86_64
    #elseif arch(arm64)
    private static let hostMachine: UInt16? = 183  // EM_AARCH64
    #else
    private static let hostMachine: UInt16? = nil
    #endif

    private static func problem(in file: ELFFile) -> String? {
        let size = file.size
        guard let header = file.read(at: 0, count: headerSize) else {
            return "the file is \(size) bytes, too short for an ELF header"
        }
        guard header[0] == 0x7F, header[1] == 0x45, header[2] == 0x4C, header[3] == 0x46 else {
            return "not an ELF file"
        }
        guard header[4] == 2 else { return "not a 64-bit ELF file" }
        guard header[5] == 1 else { return "not a little-endian ELF file" }
        guard header.u16(16) == typeSharedObject else { return "not an ELF shared object (e_type \(header.u16(16)))" }
        if let hostMachine, header.u16(18) != hostMachine {
            return "built for another machine (e_machine \(header.u16(18)), this one is \(hostMachine))"
        }
        // Program headers: the table, then every segment's bytes in the file.
        let programTable = header.u64(32), programCount = UInt64(header.u16(56))
        guard programCount > 0, UInt64(header.u16(54)) == programHeaderSize else {
            return "no valid program header table"
        }
        if let end = checkedEnd(programTable, programCount * programHeaderSize), end > size {
            return "the file is \(size) bytes, its program headers end at byte \(end)"
        }
        guard let programs = file.read(at: programTable, count: programCount * programHeaderSize) else {
            return "the file is \(size) bytes, its program headers lie outside it"
        }
        for index in 0..<Int(programCount) {
            let base = index * Int(programHeaderSize)
            let offset = programs.u64(base + 8), length = programs.u64(base + 32)
            guard let end = checkedEnd(offset, length), end <= size else {
                return "the file is \(size) bytes, segment \(index) ends at byte \(offset &+ length) (truncated?)"
            }
        }
        // Section headers (not used by the loader, but by the build-id lookup and every tool).
        let sectionTable = header.u64(40)
        var sectionCount = UInt64(header.u16(60))
        guard sectionTable != 0 else { return nil }
        guard UInt64(header.u16(58)) == sectionHeaderSize else { return "invalid section header size" }
        if sectionCount == 0 {
            // Extended numbering: the count is in the first section header's sh_size.
            guard let first = file.read(at: sectionTable, count: sectionHeaderSize) else {
                return "the file is \(size) bytes, its section headers lie outside it"
            }
            sectionCount = first.u64(32)
        }
        guard let tableEnd = checkedEnd(sectionTable, sectionCount &* sectionHeaderSize),
              sectionCount < 1 << 24, tableEnd <= size,
              let sections = file.read(at: sectionTable, count: sectionCount * sectionHeaderSize)
        else {
            return "the file is \(size) bytes, its section headers end past it (truncated?)"
        }
        for index in 0..<Int(sectionCount) {
            let base = index * Int(sectionHeaderSize)
            guard sections.u32(base + 4) != sectionNoBits else { continue }
            let offset = sections.u64(base + 24), length = sections.u64(base + 32)
            guard let end = checkedEnd(offset, length), end <= size else {
                return "the file is \(size) bytes, section \(index) ends at byte \(offset &+ length) (truncated?)"
            }
        }
        return nil
    }

    /// `offset + length`, or nil if it overflows.
    private static func checkedEnd(_ offset: UInt64, _ length: UInt64) -> UInt64? {
        let (end, overflow) = offset.addingReportingOverflow(length)
        return overflow ? nil : end
    }
}

/// An open file read with `pread` at absolute offsets.
private struct ELFFile {
    let fd: Int32
    let size: UInt64

    /// Exactly `count` bytes at `offset`, or nil if the file does not hold them.
    func read(at offset: UInt64, count: UInt64) -> [UInt8]? {
        guard count <= size, offset <= size - count else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(count))
        var done = 0
        while done < bytes.count {
            let got = bytes.withUnsafeMutableBytes { raw in
                retryingOnInterrupt { pread(fd, raw.baseAddress! + done, raw.count - done, off_t(offset) + off_t(done)) }
            }
            guard got > 0 else { return nil }
            done += got
        }
        return bytes
    }
}

extension [UInt8] {
    /// Little-endian fields of an ELF structure (bounds are the caller's: sizes were checked).
    fileprivate func u16(_ offset: Int) -> UInt16 { UInt16(self[offset]) | UInt16(self[offset + 1]) << 8 }
    fileprivate func u32(_ offset: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 | UInt32(self[offset + $1]) << (8 * UInt32($1)) }
    }
    fileprivate func u64(_ offset: Int) -> UInt64 {
        (0..<8).reduce(0) { $0 | UInt64(self[offset + $1]) << (8 * UInt64($1)) }
    }
}
