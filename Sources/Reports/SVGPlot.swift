import Foundation

/// A line plot as inline SVG: series over steps on shared axes, with a legend and an optional
/// marked point. Plain SVG so the report needs no script and no network.
struct SVGPlot {
    struct Series {
        let name: String
        /// (step, value) in step order; non-finite values are left out.
        let points: [(Double, Double)]
    }

    let title: String
    var series: [Series]
    /// A point to circle and label: the best evaluation.
    var mark: (step: Double, value: Double, label: String)?
    let width = 720.0, height = 260.0
    private let left = 64.0, right = 16.0, bottom = 36.0
    /// Series named per legend row, above the plot.
    private let legendColumns = 4
    private static let colours = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

    /// At most this many points per series are drawn: evenly spaced, so a long run's plot stays small.
    static let maximumPoints = 800

    func render() -> String {
        let drawn = series.map { Series(name: $0.name, points: $0.points.filter { $0.1.isFinite }.evenlySpaced(atMost: Self.maximumPoints)) }
            .filter { !$0.points.isEmpty }
        let all = drawn.flatMap(\.points)
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
            + "viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"11\">"
            + "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>"
            + "<text x=\"\(left)\" y=\"16\" font-size=\"13\" font-weight=\"bold\">\(HTML.escape(title))</text>"
        guard let minStep = all.map(\.0).min(), let maxStep = all.map(\.0).max(),
              var low = all.map(\.1).min(), var high = all.map(\.1).max() else {
            return svg + "<text x=\"\(left)\" y=\"\(height / 2)\">no data yet</text></svg>"
        }
        if let mark { (low, high) = (min(low, mark.value), max(high, mark.value)) }
        // A constant series (a fixed learning rate) gets a band around it rather than a zero-height axis.
        if high - low <= 1e-9 * max(abs(high), abs(low)) {
            let margin = abs(high) > 0 ? abs(high) * 0.1 : 1
            (low, high) = (low - margin, high + margin)
        }
        let top = 26 + 14 * Double((drawn.count + legendColumns - 1) / legendColumns)
        let stepSpan = max(maxStep - minStep, 1)
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        func x(_ step: Double) -> Double { left + (step - minStep) / stepSpan * plotWidth }
        func y(_ value: Double) -> Double { top + (high - value) / (high - low) * plotHeight }
        func number(_ value: Double) -> String { String(format: "%.1f", value) }

        svg += "<rect x=\"\(number(left))\" y=\"\(number(top))\" width=\"\(number(plotWidth))\" height=\"\(number(plotHeight))\" fill=\"none\" stroke=\"#999\"/>"
        for tick in 0...4 {
            let value = low + (high - low) * Double(tick) / 4
            svg += "<line x1=\"\(number(left))\" x2=\"\(number(left + plotWidth))\" y1=\"\(number(y(value)))\" y2=\"\(number(y(value)))\" stroke=\"#eee\"/>"
                + "<text x=\"\(number(left - 4))\" y=\"\(number(y(value) + 4))\" text-anchor=\"end\">\(Self.label(value))</text>"
            let step = minStep + stepSpan * Double(tick) / 4
            svg += "<text x=\"\(number(x(step)))\" y=\"\(number(height - bottom + 14))\" text-anchor=\"middle\">\(Int(step.rounded()))</text>"
        }
        svg += "<text x=\"\(number(left + plotWidth / 2))\" y=\"\(number(height - 6))\" text-anchor=\"middle\">step</text>"
        for (index, line) in drawn.enumerated() {
            let colour = Self.colours[index % Self.colours.count]
            if line.points.count == 1 {
                svg += "<circle cx=\"\(number(x(line.points[0].0)))\" cy=\"\(number(y(line.points[0].1)))\" r=\"3\" fill=\"\(colour)\"/>"
            } else {
                let path = line.points.map { "\(number(x($0.0))),\(number(y($0.1)))" }.joined(separator: " ")
                svg += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.3\" points=\"\(path)\"/>"
            }
            let legendX = left + Double(index % legendColumns) * 160, legendY = 36 + Double(index / legendColumns) * 14
            svg += "<rect x=\"\(number(legendX))\" y=\"\(number(legendY - 8))\" width=\"10\" height=\"3\" fill=\"\(colour)\"/>"
                + "<text x=\"\(number(legendX + 14))\" y=\"\(number(legendY - 3))\">\(HTML.escape(line.name))</text>"
        }
        if let mark {
            svg += "<circle cx=\"\(number(x(mark.step)))\" cy=\"\(number(y(mark.value)))\" r=\"6\" fill=\"none\" stroke=\"black\" stroke-width=\"2\"/>"
                + "<text x=\"\(number(x(mark.step)))\" y=\"\(number(y(mark.value) - 10))\" text-anchor=\"\(x(mark.step) > width / 2 ? "end" : "start")\" "
                + "font-weight=\"bold\">\(HTML.escape(mark.label))</text>"
        }
        return svg + "</svg>"
    }

    /// An axis label with as few digits as make it readable.
    static func label(_ value: Double) -> String {
        let magnitude = abs(value)
        return magnitude != 0 && (magnitude < 1e-3 || magnitude >= 1e5) ? String(format: "%.2e", value) : String(format: "%.4g", value)
    }
}

extension Array {
    /// At most `count` elements, evenly spaced, the first and the last always among them.
    func evenlySpaced(atMost count: Int) -> [Element] {
        guard self.count > count else { return self }
        let stride = Double(self.count - 1) / Double(count - 1)
        return (0..<count).map { self[Int((Double($0) * stride).rounded())] }
    }
}

enum HTML {
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
