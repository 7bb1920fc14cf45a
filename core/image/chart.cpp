#include "image/chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "common/atomicfile.h"

#ifdef LATENTLAB_HAVE_OPENCV
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#endif

namespace ll::chart {
namespace {

/// Checks a line chart's data: lengths that agree, a log axis with positive values, something
/// to draw.
Result<void> checkLines(const LineChart& chart) {
    bool any = false;
    for (const auto& s : chart.series) {
        if (s.x.size() != s.y.size())
            return fail("chart '" + chart.title + "': series '" + s.name + "' has " +
                        std::to_string(s.x.size()) + " x values but " + std::to_string(s.y.size()) +
                        " y values");
        if ((!s.low.empty() || !s.high.empty()) &&
            (s.low.size() != s.x.size() || s.high.size() != s.x.size()))
            return fail("chart '" + chart.title + "': the band of series '" + s.name +
                        "' needs a low and a high value at every point");
        if (chart.logX)
            for (double x : s.x)
                if (!(x > 0))
                    return fail("chart '" + chart.title + "': a log axis needs x > 0 (series '" +
                                s.name + "' has " + std::to_string(x) + ")");
        any = any || !s.x.empty();
    }
    if (!any) return fail("chart '" + chart.title + "': nothing to draw");
    return {};
}

/// Tick values for [lo, hi]: about `target` of them at 1, 2 or 5 times a power of ten.
std::vector<double> niceTicks(double lo, double hi, int target) {
    const double span = hi - lo;
    if (!(span > 0)) return {lo};
    const double raw = span / target;
    const double power = std::pow(10.0, std::floor(std::log10(raw)));
    double step = power;
    for (double m : {1.0, 2.0, 5.0, 10.0})
        if (m * power >= raw) {
            step = m * power;
            break;
        }
    std::vector<double> ticks;
    for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9; t += step)
        ticks.push_back(std::abs(t) < step * 1e-9 ? 0 : t);
    return ticks;
}

/// Ticks of a log axis: the powers of ten inside [lo, hi], with 2 and 5 times them when the
/// range spans few decades.
std::vector<double> logTicks(double lo, double hi) {
    std::vector<double> ticks;
    const int first = static_cast<int>(std::floor(std::log10(lo)));
    const int last = static_cast<int>(std::ceil(std::log10(hi)));
    const bool fine = last - first <= 3;
    for (int e = first; e <= last; ++e)
        for (double m : {1.0, 2.0, 5.0}) {
            if (m != 1.0 && !fine) continue;
            const double t = m * std::pow(10.0, e);
            if (t >= lo * (1 - 1e-9) && t <= hi * (1 + 1e-9)) ticks.push_back(t);
        }
    return ticks;
}

/// A number for an axis label: short, without trailing zeros.
std::string tickText(double v) {
    char buffer[32];
    const double a = std::abs(v);
    if (a != 0 && (a >= 1e5 || a < 1e-3))
        std::snprintf(buffer, sizeof buffer, "%.0e", v);
    else
        std::snprintf(buffer, sizeof buffer, "%.4g", v);
    return buffer;
}

/// A range with a margin, never empty.
std::pair<double, double> padded(double lo, double hi, bool log) {
    if (log) {
        if (hi <= lo) hi = lo * 10;
        return {lo, hi};
    }
    if (!(hi > lo)) {
        const double d = lo == 0 ? 1 : std::abs(lo) * 0.1;
        return {lo - d, hi + d};
    }
    const double m = (hi - lo) * 0.05;
    return {lo - m, hi + m};
}

#ifdef LATENTLAB_HAVE_OPENCV

const int kFont = cv::FONT_HERSHEY_SIMPLEX;
const cv::Scalar kInk(40, 40, 40), kGrid(225, 225, 225), kAxis(120, 120, 120);

/// Colours in BGR, a palette that tells ten series apart (Tableau's).
cv::Scalar colour(std::size_t i) {
    static const cv::Scalar palette[] = {
        {180, 119, 31}, {14, 127, 255},  {44, 160, 44},   {40, 39, 214},  {189, 103, 148},
        {75, 86, 140},  {194, 119, 227}, {127, 127, 127}, {34, 189, 188}, {207, 190, 23}};
    return palette[i % std::size(palette)];
}

int textWidth(const std::string& text, double scale) {
    int base = 0;
    return cv::getTextSize(text, kFont, scale, 1, &base).width;
}

void text(cv::Mat& canvas, const std::string& s, cv::Point at, double scale = 0.42,
          cv::Scalar ink = kInk) {
    cv::putText(canvas, s, at, kFont, scale, ink, 1, cv::LINE_AA);
}

/// Text turned 90 degrees (the y axis' title), drawn on its own strip and rotated in.
void verticalText(cv::Mat& canvas, const std::string& s, cv::Point centre) {
    const int w = textWidth(s, 0.45) + 4, h = 18;
    cv::Mat strip(h, w, CV_8UC3, cv::Scalar(255, 255, 255));
    text(strip, s, {2, 13}, 0.45);
    cv::Mat turned;
    cv::rotate(strip, turned, cv::ROTATE_90_COUNTERCLOCKWISE);
    cv::Rect where(centre.x - h / 2, centre.y - w / 2, h, w);
    where &= cv::Rect(0, 0, canvas.cols, canvas.rows);
    turned(cv::Rect(0, 0, where.width, where.height)).copyTo(canvas(where));
}

Result<void> save(const cv::Mat& canvas, const std::filesystem::path& png) {
    std::vector<unsigned char> bytes;
    if (!cv::imencode(".png", canvas, bytes)) return fail(png.string() + ": PNG encoding failed");
    return writeFileAtomic(png, {reinterpret_cast<const char*>(bytes.data()), bytes.size()});
}

/// The plot area of a chart and its mapping from data to pixels.
struct Frame {
    cv::Rect area;
    double x0, x1, y0, y1;
    bool logX;
    double fx(double x) const { return logX ? std::log10(x) : x; }
    int px(double x) const {
        const double u = (fx(x) - fx(x0)) / (fx(x1) - fx(x0));
        return area.x + static_cast<int>(std::lround(u * area.width));
    }
    int py(double y) const {
        const double u = (y - y0) / (y1 - y0);
        return area.y + area.height - static_cast<int>(std::lround(u * area.height));
    }
    cv::Point at(double x, double y) const { return {px(x), py(y)}; }
};

/// Title, axis titles, grid and tick labels around `frame`.
void drawAxes(cv::Mat& canvas, const Frame& f, const std::string& title, const std::string& xLabel,
              const std::string& yLabel, const std::vector<double>& xTicks,
              const std::vector<double>& yTicks) {
    text(canvas, title, {f.area.x, 24}, 0.55);
    for (double t : yTicks) {
        const int y = f.py(t);
        cv::line(canvas, {f.area.x, y}, {f.area.x + f.area.width, y}, kGrid, 1);
        const std::string s = tickText(t);
        text(canvas, s, {f.area.x - textWidth(s, 0.4) - 6, y + 4}, 0.4);
    }
    for (double t : xTicks) {
        const int x = f.px(t);
        cv::line(canvas, {x, f.area.y}, {x, f.area.y + f.area.height}, kGrid, 1);
        const std::string s = tickText(t);
        text(canvas, s, {x - textWidth(s, 0.4) / 2, f.area.y + f.area.height + 18}, 0.4);
    }
    cv::rectangle(canvas, f.area, kAxis, 1);
    text(canvas, xLabel,
         {f.area.x + (f.area.width - textWidth(xLabel, 0.45)) / 2, f.area.y + f.area.height + 40},
         0.45);
    verticalText(canvas, yLabel, {14, f.area.y + f.area.height / 2});
}

/// The legend in the plot's top left corner (or bottom right when `lowerRight`), on white.
void drawLegend(cv::Mat& canvas, const Frame& f, const std::vector<Series>& series,
                bool lowerRight) {
    std::vector<std::size_t> named;
    int width = 0;
    for (std::size_t i = 0; i < series.size(); ++i)
        if (!series[i].name.empty()) {
            named.push_back(i);
            width = std::max(width, textWidth(series[i].name, 0.42));
        }
    if (named.empty()) return;
    const int rowH = 18, boxW = width + 40, boxH = int(named.size()) * rowH + 8;
    const cv::Point corner = lowerRight ? cv::Point(f.area.x + f.area.width - boxW - 8,
                                                    f.area.y + f.area.height - boxH - 8)
                                        : cv::Point(f.area.x + 8, f.area.y + 8);
    cv::rectangle(canvas, cv::Rect(corner.x, corner.y, boxW, boxH), cv::Scalar(255, 255, 255),
                  cv::FILLED);
    cv::rectangle(canvas, cv::Rect(corner.x, corner.y, boxW, boxH), kGrid, 1);
    for (std::size_t r = 0; r < named.size(); ++r) {
        const int y = corner.y + 4 + int(r) * rowH + rowH / 2;
        cv::line(canvas, {corner.x + 6, y}, {corner.x + 28, y}, colour(named[r]), 2, cv::LINE_AA);
        text(canvas, series[named[r]].name, {corner.x + 34, y + 5});
    }
}

/// Whether most of the data lies in the plot's upper left, where the legend would go.
bool crowdedTopLeft(const Frame& f, const std::vector<Series>& series) {
    std::size_t inside = 0, all = 0;
    for (const auto& s : series)
        for (std::size_t i = 0; i < s.x.size(); ++i) {
            ++all;
            if (f.px(s.x[i]) < f.area.x + f.area.width / 3 &&
                f.py(s.y[i]) < f.area.y + f.area.height / 3)
                ++inside;
        }
    return all > 0 && inside * 6 > all;
}

#endif  // LATENTLAB_HAVE_OPENCV

}  // namespace

Result<void> writeLineChart(const LineChart& chart, const std::filesystem::path& png, int width,
                            int height) {
    if (auto ok = checkLines(chart); !ok) return ok;
#ifndef LATENTLAB_HAVE_OPENCV
    (void)png, (void)width, (void)height;
    return fail("charts need OpenCV, which this build is without");
#else
    double xlo = std::numeric_limits<double>::infinity(), xhi = -xlo, ylo = xlo, yhi = -xlo;
    for (const auto& s : chart.series)
        for (std::size_t i = 0; i < s.x.size(); ++i) {
            if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
            xlo = std::min(xlo, s.x[i]), xhi = std::max(xhi, s.x[i]);
            ylo = std::min(ylo, s.low.empty() ? s.y[i] : s.low[i]);
            yhi = std::max(yhi, s.high.empty() ? s.y[i] : s.high[i]);
        }
    if (!std::isfinite(xlo)) return fail("chart '" + chart.title + "': no finite values");
    auto [x0, x1] = chart.xRange.value_or(padded(xlo, xhi, chart.logX));
    auto [y0, y1] = chart.yRange.value_or(padded(ylo, yhi, false));
    if (!(x1 > x0) || !(y1 > y0) || (chart.logX && !(x0 > 0)))
        return fail("chart '" + chart.title + "': an empty axis range");

    cv::Mat canvas(height, width, CV_8UC3, cv::Scalar(255, 255, 255));
    const Frame f{cv::Rect(70, 40, width - 70 - 24, height - 40 - 56), x0, x1, y0, y1, chart.logX};
    const auto xTicks = chart.logX ? logTicks(x0, x1) : niceTicks(x0, x1, 6);
    drawAxes(canvas, f, chart.title, chart.xLabel, chart.yLabel, xTicks, niceTicks(y0, y1, 5));

    cv::Mat plot = canvas(f.area);
    const cv::Point origin(f.area.x, f.area.y);
    if (chart.diagonal) {
        const double lo = std::max(x0, y0), hi = std::min(x1, y1);
        for (int k = 0; k < 40; k += 2) {
            const double a = lo + (hi - lo) * k / 40, b = lo + (hi - lo) * (k + 1) / 40;
            cv::line(plot, f.at(a, a) - origin, f.at(b, b) - origin, kAxis, 1, cv::LINE_AA);
        }
    }
    // Bands first, a fifth as strong as their line, so lines stay readable over them.
    for (std::size_t si = 0; si < chart.series.size(); ++si) {
        const auto& s = chart.series[si];
        if (s.low.empty() || s.x.size() < 2) continue;
        std::vector<cv::Point> outline;
        for (std::size_t i = 0; i < s.x.size(); ++i)
            outline.push_back(f.at(s.x[i], s.high[i]) - origin);
        for (std::size_t i = s.x.size(); i-- > 0;)
            outline.push_back(f.at(s.x[i], s.low[i]) - origin);
        cv::Mat layer = plot.clone();
        cv::fillPoly(layer, std::vector<std::vector<cv::Point> >{outline}, colour(si), cv::LINE_AA);
        cv::addWeighted(layer, 0.2, plot, 0.8, 0, plot);
    }
    for (std::size_t si = 0; si < chart.series.size(); ++si) {
        const auto& s = chart.series[si];
        std::vector<cv::Point> points;
        for (std::size_t i = 0; i < s.x.size(); ++i)
            if (std::isfinite(s.y[i])) points.push_back(f.at(s.x[i], s.y[i]) - origin);
        if (s.line && points.size() > 1)
            cv::polylines(plot, points, false, colour(si), 2, cv::LINE_AA);
        if (s.points || !s.line || points.size() == 1)
            for (const auto& p : points)
                cv::circle(plot, p, 3, colour(si), cv::FILLED, cv::LINE_AA);
    }
    for (const auto& m : chart.markers) {
        const cv::Point p = f.at(m.x, m.y);
        cv::drawMarker(canvas, p, kInk, cv::MARKER_TILTED_CROSS, 12, 2, cv::LINE_AA);
        const int w = textWidth(m.text, 0.42);
        const int x = p.x + 8 + w < f.area.x + f.area.width ? p.x + 8 : p.x - 8 - w;
        text(canvas, m.text, {x, p.y - 8});
    }
    drawLegend(canvas, f, chart.series, crowdedTopLeft(f, chart.series));
    return save(canvas, png);
#endif
}

Result<void> writeBarChart(const BarChart& chart, const std::filesystem::path& png, int width,
                           int height) {
    if (chart.values.empty() || chart.values.size() != chart.labels.size())
        return fail("chart '" + chart.title + "': " + std::to_string(chart.values.size()) +
                    " bars but " + std::to_string(chart.labels.size()) + " labels");
#ifndef LATENTLAB_HAVE_OPENCV
    (void)png, (void)width, (void)height;
    return fail("charts need OpenCV, which this build is without");
#else
    double lo = 0, hi = 0;
    for (double v : chart.values)
        if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    if (hi == lo) hi = lo + 1;
    hi += (hi - lo) * 0.08;
    cv::Mat canvas(height, width, CV_8UC3, cv::Scalar(255, 255, 255));
    // A label wider than its bar is shortened: the bars stay a readable width.
    const Frame f{cv::Rect(70, 40, width - 70 - 24, height - 40 - 56), 0, 1, lo, hi, false};
    drawAxes(canvas, f, chart.title, chart.xLabel, chart.yLabel, {}, niceTicks(lo, hi, 5));
    const int n = static_cast<int>(chart.values.size());
    const double slot = double(f.area.width) / n;
    for (int i = 0; i < n; ++i) {
        const double v =
            std::isfinite(chart.values[std::size_t(i)]) ? chart.values[std::size_t(i)] : 0;
        const int x = f.area.x + int(slot * i + slot * 0.15), w = std::max(1, int(slot * 0.7));
        const int top = f.py(std::max(v, 0.0)), bottom = f.py(std::min(v, 0.0));
        const cv::Scalar fill = i == chart.highlight ? colour(1) : colour(0);
        cv::rectangle(canvas, cv::Rect(x, top, w, std::max(1, bottom - top)), fill, cv::FILLED);
        std::string label = chart.labels[std::size_t(i)];
        while (label.size() > 1 && textWidth(label, 0.38) > int(slot) - 2) label.pop_back();
        text(canvas, label,
             {f.area.x + int(slot * (i + 0.5)) - textWidth(label, 0.38) / 2,
              f.area.y + f.area.height + 16},
             0.38);
    }
    return save(canvas, png);
#endif
}

Result<void> writeGroupedBarChart(const GroupedBarChart& chart, const std::filesystem::path& png,
                                  int width, int height) {
    if (chart.groups.empty() || chart.series.empty())
        return fail("chart '" + chart.title + "': no groups or no series to draw");
    for (const auto& s : chart.series)
        if (s.values.size() != chart.groups.size() ||
            (!s.errors.empty() && s.errors.size() != chart.groups.size()))
            return fail("chart '" + chart.title + "': series '" + s.name + "' has " +
                        std::to_string(s.values.size()) + " values (and " +
                        std::to_string(s.errors.size()) + " errors) for " +
                        std::to_string(chart.groups.size()) + " groups");
#ifndef LATENTLAB_HAVE_OPENCV
    (void)png, (void)width, (void)height;
    return fail("charts need OpenCV, which this build is without");
#else
    // The error of bar g of series s, 0 where there is none.
    const auto err = [](const GroupedBarSeries& s, std::size_t g) {
        const double e = s.errors.empty() ? 0 : s.errors[g];
        return std::isfinite(e) ? std::abs(e) : 0.0;
    };
    double lo = 0, hi = 0;
    for (const auto& s : chart.series)
        for (std::size_t g = 0; g < s.values.size(); ++g)
            if (std::isfinite(s.values[g]))
                lo = std::min(lo, s.values[g] - err(s, g)),
                hi = std::max(hi, s.values[g] + err(s, g));
    if (hi == lo) hi = lo + 1;
    auto [y0, y1] = chart.yRange.value_or(std::pair{lo, hi + (hi - lo) * 0.08});
    if (!(y1 > y0)) return fail("chart '" + chart.title + "': an empty axis range");
    cv::Mat canvas(height, width, CV_8UC3, cv::Scalar(255, 255, 255));
    // The legend: the series in a row (wrapped) between the title and the plot, off the bars.
    std::vector<std::pair<cv::Point, std::size_t> > keys;
    int lx = 70, ly = 46;
    for (std::size_t i = 0; i < chart.series.size(); ++i) {
        const int w = 28 + textWidth(chart.series[i].name, 0.42) + 16;
        if (lx + w > width - 24 && lx > 70) lx = 70, ly += 18;
        keys.push_back({{lx, ly}, i});
        lx += w;
    }
    const int top = ly + 14;
    const Frame f{cv::Rect(70, top, width - 70 - 24, height - top - 56), 0, 1, y0, y1, false};
    drawAxes(canvas, f, chart.title, chart.xLabel, chart.yLabel, {}, niceTicks(y0, y1, 5));
    for (const auto& [at, i] : keys) {
        cv::rectangle(canvas, cv::Rect(at.x, at.y - 9, 22, 10), colour(i), cv::FILLED);
        text(canvas, chart.series[i].name, {at.x + 28, at.y});
    }
    const int groups = static_cast<int>(chart.groups.size());
    const int bars = static_cast<int>(chart.series.size());
    const double slot = double(f.area.width) / groups, bar = slot * 0.8 / bars;
    const auto clampY = [&](double v) { return std::clamp(v, y0, y1); };
    for (int g = 0; g < groups; ++g) {
        for (int b = 0; b < bars; ++b) {
            const auto& s = chart.series[std::size_t(b)];
            const double v = s.values[std::size_t(g)];
            if (!std::isfinite(v)) continue;
            const int x = f.area.x + int(slot * g + slot * 0.1 + bar * b);
            const int w = std::max(1, int(bar) - 1);
            const int top = f.py(clampY(std::max(v, 0.0))), bottom = f.py(clampY(std::min(v, 0.0)));
            cv::rectangle(canvas, cv::Rect(x, top, w, std::max(1, bottom - top)),
                          colour(std::size_t(b)), cv::FILLED);
            if (const double e = err(s, std::size_t(g)); e > 0) {
                const int cx = x + w / 2, a = f.py(clampY(v + e)), z = f.py(clampY(v - e));
                const int cap = std::max(2, w / 4);
                cv::line(canvas, {cx, a}, {cx, z}, kInk, 1, cv::LINE_AA);
                cv::line(canvas, {cx - cap, a}, {cx + cap, a}, kInk, 1, cv::LINE_AA);
                cv::line(canvas, {cx - cap, z}, {cx + cap, z}, kInk, 1, cv::LINE_AA);
            }
        }
        std::string label = chart.groups[std::size_t(g)];
        while (label.size() > 1 && textWidth(label, 0.38) > int(slot) - 2) label.pop_back();
        text(canvas, label,
             {f.area.x + int(slot * (g + 0.5)) - textWidth(label, 0.38) / 2,
              f.area.y + f.area.height + 16},
             0.38);
    }
    return save(canvas, png);
#endif
}

Result<void> writeHeatmap(const Heatmap& chart, const std::filesystem::path& png, int width,
                          int height) {
    const std::size_t rows = chart.values.size();
    if (rows == 0 || rows != chart.rowLabels.size())
        return fail("chart '" + chart.title + "': " + std::to_string(rows) + " rows but " +
                    std::to_string(chart.rowLabels.size()) + " row labels");
    for (const auto& row : chart.values)
        if (row.size() != chart.columnLabels.size())
            return fail("chart '" + chart.title + "': a row of " + std::to_string(row.size()) +
                        " cells for " + std::to_string(chart.columnLabels.size()) + " columns");
#ifndef LATENTLAB_HAVE_OPENCV
    (void)png, (void)width, (void)height;
    return fail("charts need OpenCV, which this build is without");
#else
    const std::size_t cols = chart.columnLabels.size();
    double hi = 0;
    for (const auto& row : chart.values)
        for (double v : row)
            if (std::isfinite(v)) hi = std::max(hi, v);
    int left = 0;
    for (const auto& l : chart.rowLabels) left = std::max(left, textWidth(l, 0.4));
    left += 40;
    const int top = 60, bottom = 70;
    cv::Mat canvas(height, width, CV_8UC3, cv::Scalar(255, 255, 255));
    text(canvas, chart.title, {left, 24}, 0.55);
    const int cw = std::max(1, (width - left - 16) / int(cols));
    const int ch = std::max(1, (height - top - bottom) / int(rows));
    for (std::size_t r = 0; r < rows; ++r) {
        const int y = top + int(r) * ch;
        text(canvas, chart.rowLabels[r],
             {left - textWidth(chart.rowLabels[r], 0.4) - 6, y + ch / 2 + 4}, 0.4);
        for (std::size_t c = 0; c < cols; ++c) {
            const double v = chart.values[r][c];
            const double u = hi > 0 && std::isfinite(v) ? std::clamp(v / hi, 0.0, 1.0) : 0;
            // White to the palette's blue.
            const cv::Scalar fill(255 - u * (255 - 180), 255 - u * (255 - 119),
                                  255 - u * (255 - 31));
            const cv::Rect cell(left + int(c) * cw, y, cw, ch);
            cv::rectangle(canvas, cell, fill, cv::FILLED);
            cv::rectangle(canvas, cell, kGrid, 1);
            char buffer[32];
            std::snprintf(buffer, sizeof buffer, "%.*f", chart.decimals, v);
            const double scale = std::min(0.4, ch / 40.0);
            if (textWidth(buffer, scale) < cw - 2)
                text(canvas, buffer,
                     {cell.x + (cw - textWidth(buffer, scale)) / 2, cell.y + ch / 2 + 4}, scale,
                     u > 0.6 ? cv::Scalar(255, 255, 255) : kInk);
        }
    }
    const int gridBottom = top + int(rows) * ch;
    for (std::size_t c = 0; c < cols; ++c) {
        std::string label = chart.columnLabels[c];
        while (label.size() > 1 && textWidth(label, 0.38) > cw - 2) label.pop_back();
        text(canvas, label,
             {left + int(c) * cw + (cw - textWidth(label, 0.38)) / 2, gridBottom + 16}, 0.38);
    }
    text(canvas, chart.columnTitle,
         {left + (int(cols) * cw - textWidth(chart.columnTitle, 0.45)) / 2, gridBottom + 42}, 0.45);
    verticalText(canvas, chart.rowTitle, {14, top + int(rows) * ch / 2});
    return save(canvas, png);
#endif
}

}  // namespace ll::chart
