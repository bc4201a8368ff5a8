import Foundation

/// A TensorBoard event file: TFRecord framing around `tensorflow.Event` messages, written as they
/// come so a running job can be watched and a crash loses at most the record being written.
///
/// Each record: the payload's length (UInt64, little-endian), the masked CRC-32C of those 8 bytes,
/// the payload, and the payload's masked CRC-32C. The fields written, from TensorFlow's
/// `event.proto` and `summary.proto`:
/// - `Event`: wall_time (1, double), step (2, int64), file_version (3), summary (5), session_log (7);
/// - `Summary.value` (1): tag (1), simple_value (2, float), image (4);
/// - `Summary.Image`: height (1), width (2), colorspace (3: 1 gray, 3 RGB), encoded_image_string (4, PNG);
/// - `SessionLog`: status (1; START = 1).
public final class EventFile {
    public let path: String
    private let handle: FileHandle

    /// Creates `events.out.tfevents.<seconds>.<host>` in `directory` (with the process id appended
    /// if a file of that name exists) and writes its version record.
    public init(directory: String, host: String = ProcessInfo.processInfo.hostName, now: Date = Date()) throws {
        let base = (directory as NSString).appendingPathComponent("events.out.tfevents.\(Int(now.timeIntervalSince1970)).\(host)")
        let path = FileManager.default.fileExists(atPath: base) ? "\(base).\(getpid())" : base
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw EventFileError("\(path): cannot create the TensorBoard event file")
        }
        self.path = path
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try write(step: 0) { $0.string(3, "brain.Event:2") }
    }

    deinit { try? handle.close() }

    /// Scalars at `step`, each under its tag ("loss/D").
    public func scalars(_ values: [(tag: String, value: Double)], step: Int) throws {
        guard !values.isEmpty else { return }
        try write(step: step) { event in
            event.message(5) { summary in
                for (tag, value) in values {
                    summary.message(1) {
                        $0.string(1, tag)
                        $0.float(2, Float(value))
                    }
                }
            }
        }
    }

    /// A PNG image at `step` under `tag`, `channels` 1 (gray) or 3 (RGB).
    public func image(png: [UInt8], width: Int, height: Int, channels: Int, tag: String, step: Int) throws {
        try write(step: step) { event in
            event.message(5) { summary in
                summary.message(1) { value in
                    value.string(1, tag)
                    value.message(4) { image in
                        image.integer(1, Int64(height))
                        image.integer(2, Int64(width))
                        image.integer(3, Int64(channels))
                        image.bytes(4, png)
                    }
                }
            }
        }
    }

    /// Marks a restart at `step`: TensorBoard then drops the events of earlier files at this step
    /// or later, which a resumed run logs again (its "purge orphaned data" rule).
    public func restart(at step: Int) throws {
        try write(step: step) { event in event.message(7) { $0.integer(1, 1) } }
    }

    private func write(step: Int, _ body: (inout ProtocolBuffer) -> Void) throws {
        var event = ProtocolBuffer()
        event.double(1, Date().timeIntervalSince1970)
        event.integer(2, Int64(step))
        body(&event)
        let length = Array(withUnsafeBytes(of: UInt64(event.bytes.count).littleEndian) { Array($0) })
        var record = length
        withUnsafeBytes(of: CRC32C.masked(length).littleEndian) { record += $0 }
        record += event.bytes
        withUnsafeBytes(of: CRC32C.masked(event.bytes).littleEndian) { record += $0 }
        do { try handle.write(contentsOf: Data(record)) } catch {
            throw EventFileError("\(path): cannot write to the TensorBoard event file (\(error.localizedDescription))")
        }
    }
}

public struct EventFileError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
