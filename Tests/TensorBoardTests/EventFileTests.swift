import Foundation
import TestSupport
import XCTest
@testable import TensorBoard

final class EventFileTests: XCTestCase {
    var scratch: ScratchDirectory!
    override func setUpWithError() throws { scratch = try ScratchDirectory() }
    override func tearDown() { scratch.remove() }

    /// The check values of RFC 3720 (iSCSI, appendix B.4) and the common "123456789" one.
    func testCRC32CMatchesPublishedCheckValues() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)), 0x62A8_AB43)
        XCTAssertEqual(CRC32C.checksum(Array(0..<32)), 0x46DD_794E)
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7919) }
        XCTAssertEqual(CRC32C.masked(bytes), EventFileReader.maskedCRC(bytes), "the table and the bit-by-bit reader agree")
    }

    func testScalarsImagesAndRestartReadBackWithAnIndependentReader() throws {
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 1, 2, 3]
        let path: String
        do {
            let file = try EventFile(directory: scratch.url.path, host: "testhost", now: Date(timeIntervalSince1970: 1_700_000_000))
            path = file.path
            try file.scalars([("loss/D", 0.75), ("D(x)", -2.5e-3)], step: 3)
            try file.image(png: png, width: 30, height: 20, channels: 3, tag: "samples", step: 4)
            try file.restart(at: 301)
            try file.scalars([], step: 5)
        }
        XCTAssertEqual((path as NSString).lastPathComponent, "events.out.tfevents.1700000000.testhost")
        let events = try EventFileReader.events(at: path)
        XCTAssertEqual(events.count, 4, "the version record, two summaries and the restart; no record for no scalars")
        XCTAssertEqual(events[0].fileVersion, "brain.Event:2")
        XCTAssertEqual(events[1].step, 3)
        XCTAssertEqual(events[1].scalars.map(\.tag), ["loss/D", "D(x)"])
        XCTAssertEqual(events[1].scalars.map(\.value), [0.75, -2.5e-3])
        XCTAssertEqual(events[1].wallTime, Date().timeIntervalSince1970, accuracy: 60)
        XCTAssertEqual(events[2].step, 4)
        XCTAssertEqual(events[2].images.count, 1)
        let image = events[2].images[0]
        XCTAssertEqual([image.height, image.width, image.channels], [20, 30, 3])
        XCTAssertEqual(image.tag, "samples")
        XCTAssertEqual(image.encoded, png)
        XCTAssertEqual(events[3].step, 301)
        XCTAssertEqual(events[3].sessionStatus, 1, "SessionLog.START")
    }

    func testASecondFileInTheSameSecondGetsItsOwnName() throws {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let first = try EventFile(directory: scratch.url.path, host: "h", now: now)
        let second = try EventFile(directory: scratch.url.path, host: "h", now: now)
        XCTAssertNotEqual(first.path, second.path)
        XCTAssertEqual(try EventFileReader.events(at: first.path).count, 1)
        XCTAssertEqual(try EventFileReader.events(at: second.path).count, 1)
    }

    func testAnUnwritableDirectoryIsNamed() {
        XCTAssertThrowsError(try EventFile(directory: scratch.file("absent/deeper"))) { error in
            XCTAssertTrue("\(error)".contains("absent/deeper"), "\(error)")
        }
    }
}
