#include "losschart.h"

#include <algorithm>
#include <cmath>

#include <QChart>
#include <QLineSeries>
#include <QValueAxis>

namespace ll::widgets {

namespace {
constexpr int kMaxPoints = 1500;
const QColor kColours[] = {QColor(0x4c, 0x8b, 0xf5), QColor(0xf2, 0x99, 0x4a),
                           QColor(0x5c, 0xb8, 0x5c), QColor(0xd9, 0x53, 0x4f),
                           QColor(0x9b, 0x59, 0xb6), QColor(0x1a, 0xbc, 0x9c)};
}  // namespace

LossChart::LossChart(QWidget* parent) : QChartView(parent) {
    auto* chart = new QChart;
    chart->setTitle(tr("Training losses"));
    chart->setMargins(QMargins(4, 4, 4, 4));
    chart->legend()->setAlignment(Qt::AlignRight);
    m_x = new QValueAxis;
    m_x->setTitleText(tr("step"));
    m_x->setLabelFormat(QStringLiteral("%d"));
    m_y = new QValueAxis;
    chart->addAxis(m_x, Qt::AlignBottom);
    chart->addAxis(m_y, Qt::AlignLeft);
    setChart(chart);
    setRenderHint(QPainter::Antialiasing);
    setMinimumHeight(160);
    clear();
}

void LossChart::clear() {
    chart()->setTitle(tr("Training losses"));
    chart()->removeAllSeries();
    m_series.clear();
    m_minY = 0;
    m_maxY = 1;
    m_hasPoints = false;
    m_maxStep = 10;
    m_x->setRange(0, 10);
    m_x->applyNiceNumbers();
    m_y->setRange(0, 1);
}

QLineSeries* LossChart::seriesFor(const std::string& name) {
    if (auto it = m_series.find(name); it != m_series.end()) return it->second;
    auto* s = new QLineSeries;
    s->setName(QString::fromStdString(name));
    s->setColor(kColours[m_series.size() % std::size(kColours)]);
    chart()->addSeries(s);
    s->attachAxis(m_x);
    s->attachAxis(m_y);
    m_series[name] = s;
    return s;
}

void LossChart::addPoint(QLineSeries* s, std::int64_t step, double value) {
    if (s->count() >= kMaxPoints) {
        // Keep every other point: the curve's shape survives, the cost stays bounded.
        QList<QPointF> points = s->points();
        QList<QPointF> thinned;
        for (qsizetype i = 0; i < points.size(); i += 2) thinned << points[i];
        s->replace(thinned);
    }
    s->append(static_cast<double>(step), value);
    if (!m_hasPoints) m_minY = m_maxY = value;
    m_hasPoints = true;
    m_minY = std::min(m_minY, value);
    m_maxY = std::max(m_maxY, value);
}

void LossChart::append(std::int64_t step, const ll::LossValues& losses) {
    for (const auto& [name, value] : losses) {
        if (!std::isfinite(value)) continue;
        addPoint(seriesFor(name), step, value);
    }
    m_maxStep = std::max(m_maxStep, step);
    rescale();
}

void LossChart::setComparison(
    const std::vector<std::pair<QString, std::vector<std::pair<std::int64_t, ll::LossValues>>>>&
        runs) {
    clear();
    chart()->setTitle(tr("Loss of %1 runs").arg(runs.size()));
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
        QLineSeries* s = seriesFor(name);
        for (const auto& [step, losses] : log) {
            auto it = losses.find(metric);
            if (it == losses.end() || !std::isfinite(it->second)) continue;
            addPoint(s, step, it->second);
            m_maxStep = std::max(m_maxStep, step);
        }
    }
    rescale();
}

QStringList LossChart::seriesNames() const {
    QStringList names;
    for (const auto* s : chart()->series()) names << s->name();
    return names;
}

void LossChart::setHistory(const std::vector<std::pair<std::int64_t, ll::LossValues>>& log) {
    clear();
    for (const auto& [step, losses] : log) append(step, losses);
}

int LossChart::pointCount(const QString& name) const {
    auto it = m_series.find(name.toStdString());
    return it == m_series.end() ? 0 : static_cast<int>(it->second->count());
}

void LossChart::rescale() {
    // Round the step axis to nice numbers so that its whole-number labels never repeat.
    m_x->setRange(0, static_cast<double>(m_maxStep));
    m_x->applyNiceNumbers();
    const double pad = std::max(1e-9, (m_maxY - m_minY) * 0.05);
    m_y->setRange(m_minY - pad, m_maxY + pad);
    m_y->applyNiceNumbers();
}

}  // namespace ll::widgets
