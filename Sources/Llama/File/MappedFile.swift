// A whole file mapped read-only into memory (POSIX `mmap`), so tensors can be viewed in place
// without copying. The mapping lives as long as the `MappedFile` object; views keep it alive.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Errors

/// Failure to open, map, or write a file (before or after any format is parsed).
public enum FileAccessError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `open`/`stat` failed; `reason` is the system's message (e.g. "No such file or directory").
    case cannotOpen(file: String, reason: String)
    /// The path is a directory, a device or a pipe, not a regular file.
    case notARegularFile(file: String)
    /// `mmap` failed.
    case cannotMap(file: String, reason: String)
    /// Creating, writing or renaming an output failed.
    case cannotWrite(file: String, reason: String)
    /// An output would replace an existing file and the caller did not allow it.
    case destinationExists(file: String)

    public var description: String {
        switch self {
        case let .cannotOpen(file, reason): "\(file): cannot open: \(reason)"
        case let .notARegularFile(file): "\(file): not a regular file (a directory?); expected a model file"
        case let .cannotMap(file, reason): "\(file): cannot map into memory: \(reason)"
        case let .cannotWrite(file, reason): "\(file): cannot write: \(reason)"
        case let .destinationExists(file): "\(file): already exists; refusing to overwrite it"
        }
    }
}

/// The system's message for the current `errno`.
func systemErrorMessage() -> String {
    String(cString: strerror(errno))
}

// MARK: - Mapping

/// A regular file mapped read-only. An empty file maps to an empty buffer.
package final class MappedFile: @unchecked Sendable {
    // @unchecked: the mapping is read-only (PROT_READ) and never changes after `init`.
    package let path: String
    package let bytes: UnsafeRawBufferPointer

    package init(path: String) throws(FileAccessError) {
        self.path = path
        let fd = open(path, O_RDONLY)
        if fd < 0 { throw .cannotOpen(file: path, reason: systemErrorMessage()) }
        defer { close(fd) }                       // the mapping outlives the descriptor

        var status = stat()
        if fstat(fd, &status) != 0 { throw .cannotOpen(file: path, reason: systemErrorMessage()) }
        guard (status.st_mode & S_IFMT) == S_IFREG else { throw .notARegularFile(file: path) }

        let size = Int(status.st_size)
        if size == 0 {                            // mmap of length 0 fails; nothing to map
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        // MAP_FAILED is ((void *) -1), which Swift does not import.
        guard let base, base != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw .cannotMap(file: path, reason: systemErrorMessage())
        }
        bytes = UnsafeRawBufferPointer(start: base, count: size)
    }

    deinit {
        if let base = bytes.baseAddress, bytes.count > 0 {
            munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
        }
    }

    package var count: Int { bytes.count }
}
