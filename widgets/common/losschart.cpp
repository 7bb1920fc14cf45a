#include "common/losschart.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <QChart>
#include <QFileInfo>
#include <QLineSeries>
#include <QValueAxis>

namespace ll::widgets {

namespace {
constexpr int kMaxPoints = 1500;
// A redraw of the chart (axes relaid out, every curve stroked again) costs a few milliseconds of
// the GUI thread; an MLP reports progress 10-15 times a second, and on two cores that time
// comes out of training. Live points are drawn at most this often.
constexpr int kLiveRedrawMs = 250;
// A curve whose largest value is this many times smaller than the largest curve's would be a
// flat line on its axis (a VAE's KL near 5 under a reconstruction near 250): it gets the
// right axis. GAN losses (all near 1) and diffusion's one MSE share the left axis.
constexpr double kScaleRatio = 8;
const QColor kColours[] = {QColor(0x4c, 0x8b, 0xf5), QColor(0xf2, 0x99, 0x4a),
                           QColor(0x5c, 0xb8, 0x5c), QColor(0xd9, 0x53, 0x4f),
                           QColor(0x9b, 0x59, 0xb6), QColor(0x1a, 0xbc, 0x9c)};

// Keeps every other point once a curve is full: its shape survives, its cost stays bounded.
void appendThinned(QList<QPointF>& points, QPointF point) {
    if (points.size() >= kMaxPoints) {
        QList<QPointF> thinned;
        for (qsizetype i = 0; i < points.size(); i += 2) thinned << points[i];
        points = std::move(thinned);
    }
    points << point;
}

QString runName(const QString& runDir) {
    return QFileInfo(runDir).fileName();
}

// Sets an axis to [from, to] rounded to nice numbers (never below `floor`), as
// QValueAxis::applyNiceNumbers rounds it, but worked out on a detached axis: the chart's axis
// changes only when its range or ticks do. Every change lays the axis and its labels out again,
// and the live chart rescales a few times a second while its nice range stays put for long.
void setNiceRange(QValueAxis* axis, double from, double to,
                  double floor = -std::numeric_limits<double>::infinity()) {
    QValueAxis nice;
    nice.setTickCount(axis->tickCount());
    nice.setRange(from, to);
    nice.applyNiceNumbers();
    if (nice.min() < floor) nice.setMin(floor);
    if (nice.min() != axis->min() || nice.max() != axis->max())
        axis->setRange(nice.min(), nice.max());
    if (nice.tickCount() != axis->tickCount()) axis->setTickCount(nice.tickCount());
}

// The range an axis shows for these values: from the data (padded a little), never below
// zero when no value is, rounded to nice numbers.
void fitAxis(QValueAxis* axis, double lo, double hi) {
    const double pad = std::max(1e-9, (hi - lo) * 0.05 + (hi == lo ? std::abs(hi) * 0.05 : 0));
    const double from = lo >= 0 ? std::max(0.0, lo - pad) : lo - pad;
    setNiceRange(axis, from, hi + pad, lo >= 0 ? 0 : -std::numeric_limits<double>::infinity());
}
}  // namespace

LossChart::LossChart(QWidget* parent) : QChartView(parent) {
    auto* chart = new QChart;
    chart->setMargins(QMargins(4, 4, 4, 4));
    chart->legend()->setAlignment(Qt::AlignRight);
    m_x = new QValueAxis;
    m_x->setTitleText(tr("step"));
    m_x->setLabelFormat(QStringLiteral("%d"));
    m_left = new QValueAxis;
    m_right = new QValueAxis;
    chart->addAxis(m_x, Qt::AlignBottom);
    chart->addAxis(m_left, Qt::AlignLeft);
    chart->addAxis(m_right, Qt::AlignRight);
    // setChart releases the empty chart QChartView made for itself: ours to delete.
    QChart* made = this->chart();
    setChart(chart);
    delete made;
    setRenderHint(QPainter::Antialiasing);
    setMinimumHeight(160);
    m_liveRedraw.setSingleShot(true);
    m_liveRedraw.setInterval(kLiveRedrawMs);
    connect(&m_liveRedraw, &QTimer::timeout, this, [this] {
        if (m_liveWaiting && m_showingLive) drawLivePoints();
    });
    clear();
}

void LossChart::setSubject(const QString& subject, const QString& emptyTitle) {
    m_subject = subject;
    m_emptyTitle = emptyTitle;
    if (m_liveRun.isEmpty() && m_series.empty()) chart()->setTitle(emptyTitle);
}

void LossChart::clear() {
    m_liveRun.clear();
    m_liveRunning = false;
    m_showingLive = true;
    m_live.clear();
    draw({}, m_emptyTitle);
}

void LossChart::startLive(const QString& runDir, const Log& earlier) {
    m_liveRun = runDir;
    m_liveRunning = true;
    m_showingLive = true;
    m_live.clear();
    for (const auto& [step, losses] : earlier)
        for (const auto& [name, value] : losses)
            if (std::isfinite(value)) appendThinned(m_live[name], QPointF(double(step), value));
    showLive();
}

void LossChart::stopLive() {
    m_liveRunning = false;
    if (!m_showingLive) return;
    if (m_liveWaiting) drawLivePoints();  // the last points at once
    liveTitle();
}

void LossChart::setHistory(const Log& log) {
    startLive({}, log);
    m_liveRunning = false;
    liveTitle();
}

void LossChart::showLive() {
    m_showingLive = true;
    draw(m_live, {});
    liveTitle();
}

void LossChart::liveTitle() {
    if (m_liveRun.isEmpty())
        chart()->setTitle(m_emptyTitle);
    else if (m_liveRunning)
        chart()->setTitle(tr("%1 of %2 (training)").arg(m_subject, runName(m_liveRun)));
    else
        chart()->setTitle(tr("%1 of %2").arg(m_subject, runName(m_liveRun)));
}

void LossChart::showRun(const QString& runDir, const Log& log) {
    m_showingLive = false;
    Curves curves;
    for (const auto& [step, losses] : log)
        for (const auto& [name, value] : losses)
            if (std::isfinite(value)) appendThinned(curves[name], QPointF(double(step), value));
    QString title = tr("%1 of %2").arg(m_subject, runName(runDir));
    if (m_liveRunning)
        title += tr(" (%1 trains on: select it to see its curves)").arg(runName(m_liveRun));
    draw(curves, title);
}

void LossChart::append(std::int64_t step, const ll::LossMap& losses) {
    for (const auto& [name, value] : losses)
        if (std::isfinite(value)) appendThinned(m_live[name], QPointF(double(step), value));
    if (!m_showingLive) return;
    // The first point after a quiet spell is drawn at once; those that follow it within
    // kLiveRedrawMs wait for the timer and are drawn together.
    m_liveWaiting = true;
    if (!m_liveRedraw.isActive()) drawLivePoints();
}

void LossChart::drawLivePoints() {
    m_liveWaiting = false;
    for (const auto& [name, points] : m_live) {
        seriesFor(name)->replace(points);
        if (!points.isEmpty())
            m_maxStep = std::max(m_maxStep, static_cast<std::int64_t>(points.back().x()));
    }
    rescale();
    m_liveRedraw.start();
}

void LossChart::setComparison(const std::vector<std::pair<QString, Log>>& runs) {
    m_showingLive = false;
    Curves curves;
    for (const auto& [run, log] : runs) {
        // The runs may be different models: compare their "loss", else their first value.
        std::string metric;
        for (const auto& [step, losses] : log) {
            if (losses.contains("loss")) {
                metric = "loss";
                break;
            }
            if (metric.empty() && !losses.empty()) metric = losses.begin()->first;
        }
        std::string name = run.toStdString();
        if (!metric.empty() && metric != "loss") name += " (" + metric + ")";
        auto& points = curves[name];
        for (const auto& [step, losses] : log) {
            auto it = losses.find(metric);
            if (it != losses.end() && std::isfinite(it->second))
                appendThinned(points, QPointF(double(step), it->second));
        }
    }
    draw(curves, tr("Loss of %1 runs").arg(runs.size()), /*splitScales=*/false);
}

void LossChart::draw(const Curves& curves, const QString& title, bool splitScales) {
    m_liveWaiting = false;  // whatever waited is drawn now, or belongs to curves not shown
    m_splitScales = splitScales;
    if (!title.isEmpty()) chart()->setTitle(title);
    chart()->removeAllSeries();
    m_series.clear();
    m_maxStep = 10;
    for (const auto& [name, points] : curves) {
        QLineSeries* s = seriesFor(name);
        s->replace(points);
        if (!points.isEmpty())
            m_maxStep = std::max(m_maxStep, static_cast<std::int64_t>(points.back().x()));
    }
    rescale();
}

QLineSeries* LossChart::seriesFor(const std::string& name) {
    if (auto it = m_series.find(name); it != m_series.end()) return it->second;
    auto* s = new QLineSeries;
    s->setName(QString::fromStdString(name));
    s->setColor(kColours[m_series.size() % std::size(kColours)]);
    chart()->addSeries(s);
    s->attachAxis(m_x);
    s->attachAxis(m_left);
    m_series[name] = s;
    return s;
}

void LossChart::rescale() {
    // Round the step axis to nice numbers so that its whole-number labels never repeat.
    setNiceRange(m_x, 0, static_cast<double>(m_maxStep));

    struct Extent {
        double lo = 0, hi = 0, largest = 0;
        bool any = false;
    };
    std::map<QLineSeries*, Extent> extents;
    double largest = 0;
    for (const auto& [name, s] : m_series) {
        Extent e;
        for (const QPointF& p : s->points()) {
            e.lo = e.any ? std::min(e.lo, p.y()) : p.y();
            e.hi = e.any ? std::max(e.hi, p.y()) : p.y();
            e.largest = std::max(e.largest, std::abs(p.y()));
            e.any = true;
        }
        largest = std::max(largest, e.largest);
        extents[s] = e;
    }
    // Runs side by side compare on one axis; one run's terms split by their scale.
    Extent left, right;
    QStringList leftNames, rightNames;
    for (const auto& [name, s] : m_series) {
        const Extent& e = extents[s];
        const bool small =
            m_splitScales && e.any && largest > 0 && e.largest * kScaleRatio < largest;
        QValueAxis* axis = small ? m_right : m_left;
        QValueAxis* other = small ? m_left : m_right;
        if (s->attachedAxes().contains(other)) {
            s->detachAxis(other);
            s->attachAxis(axis);
        }
        (small ? rightNames : leftNames) << QString::fromStdString(name);
        if (!e.any) continue;
        Extent& side = small ? right : left;
        side.lo = side.any ? std::min(side.lo, e.lo) : e.lo;
        side.hi = side.any ? std::max(side.hi, e.hi) : e.hi;
        side.any = true;
    }
    if (left.any)
        fitAxis(m_left, left.lo, left.hi);
    else
        m_left->setRange(0, 1);
    if (right.any) fitAxis(m_right, right.lo, right.hi);
    m_right->setVisible(!rightNames.isEmpty());
    // With two axes, each says whose it is.
    m_left->setTitleText(rightNames.isEmpty() ? QString() : leftNames.join(QStringLiteral(", ")));
    m_right->setTitleText(rightNames.join(QStringLiteral(", ")));
}

QString LossChart::title() const {
    return chart()->title();
}

QStringList LossChart::seriesNames() const {
    QStringList names;
    for (const auto* s : chart()->series()) names << s->name();
    return names;
}

QStringList LossChart::seriesOn(Qt::Alignment side) const {
    QValueAxis* axis = valueAxis(side);
    QStringList names;
    for (const auto& [name, s] : m_series)
        if (s->attachedAxes().contains(axis)) names << QString::fromStdString(name);
    return names;
}

QValueAxis* LossChart::valueAxis(Qt::Alignment side) const {
    return side == Qt::AlignRight ? m_right : m_left;
}

int LossChart::pointCount(const QString& name) const {
    if (m_showingLive)
        if (auto it = m_live.find(name.toStdString()); it != m_live.end())
            return static_cast<int>(it->second.size());
    auto it = m_series.find(name.toStdString());
    return it == m_series.end() ? 0 : static_cast<int>(it->second->count());
}

}  // namespace ll::widgets
