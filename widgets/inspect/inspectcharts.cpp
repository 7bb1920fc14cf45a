#include "inspect/inspectcharts.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <QBarCategoryAxis>
#include <QBarSet>
#include <QChart>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHorizontalBarSeries>
#include <QImage>
#include <QLabel>
#include <QLineSeries>
#include <QScatterSeries>
#include <QSplitter>
#include <QToolTip>
#include <QVBoxLayout>
#include <QValueAxis>

#include "run/runfolder.h"

namespace ll::widgets {

// ---- Metrics over steps: a metric (and its floor) against the checkpoint step ----

MetricsOverSteps::MetricsOverSteps(QWidget* parent) : QWidget(parent) {
    m_metric = new QComboBox;
    m_metric->setObjectName(QStringLiteral("overStepsMetric"));
    m_view = new QChartView;
    m_view->setRenderHint(QPainter::Antialiasing);
    m_samples = new QLabel(tr("Click a point to see that step's samples."));
    m_samples->setAlignment(Qt::AlignCenter);
    m_samples->setMinimumWidth(260);
    m_samples->setWordWrap(true);
    auto* split = new QSplitter;
    split->addWidget(m_view);
    split->addWidget(m_samples);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_metric);
    layout->addWidget(split, 1);
    connect(m_metric, &QComboBox::currentIndexChanged, this, [this] { redraw(); });
}

void MetricsOverSteps::setRecords(const QString& runDir,
                                  const std::vector<ll::EvalRecord>* records) {
    m_runDir = runDir;
    m_records = records;
    const QString keep = m_metric->currentData().toString();
    QSignalBlocker block(m_metric);
    m_metric->clear();
    std::set<std::string> names;
    for (const auto& r : *records)
        for (const auto& s : r.scores) names.insert(s.name);
    for (const auto& s : ll::evalMetricNames()) {
        const std::string name = s == "neighbours" ? "nn_distance" : s;
        if (names.contains(name))
            m_metric->addItem(QString::fromStdString(ll::scoreLabel(name)),
                              QString::fromStdString(name));
    }
    if (int i = m_metric->findData(keep); i >= 0) m_metric->setCurrentIndex(i);
    redraw();
}

bool MetricsOverSteps::showMetric(const QString& metric) {
    const int i = m_metric->findData(metric);
    if (i < 0) return false;
    m_metric->setCurrentIndex(i);  // redraws when it changes
    return true;
}

void MetricsOverSteps::showStep(std::int64_t step) {
    const auto png = ll::runfiles::samples(m_runDir.toStdString(), step);
    QImage image(QString::fromStdString(png.string()));
    if (image.isNull()) {
        m_samples->setPixmap({});
        m_samples->setText(tr("No sample grid was saved at step %1.").arg(step));
        return;
    }
    const int side = std::max(200, std::min(m_samples->width(), m_samples->height()) - 8);
    m_samples->setPixmap(
        QPixmap::fromImage(image.scaled(side, side, Qt::KeepAspectRatio, Qt::FastTransformation)));
    m_shownStep = step;
}

void MetricsOverSteps::redraw() {
    auto* chart = new QChart;
    chart->setMargins(QMargins(4, 4, 4, 4));
    const std::string metric = m_metric->currentData().toString().toStdString();
    chart->setTitle(
        tr("%1 over training steps (dashed: its real-vs-real floor)").arg(m_metric->currentText()));
    auto* values = new QLineSeries;
    values->setName(m_metric->currentText());
    values->setPointsVisible(true);
    auto* floors = new QLineSeries;
    floors->setName(tr("floor"));
    QPen dashed(QColor(0x80, 0x80, 0x80));
    dashed.setStyle(Qt::DashLine);
    floors->setPen(dashed);
    double lo = 0, hi = 1e-9;
    m_points = 0;
    if (m_records)
        for (const auto& r : *m_records) {
            const auto* s = r.score(metric);
            if (!s || r.guidance != 0 || std::isnan(s->value)) continue;
            values->append(double(r.step), s->value);
            if (!std::isnan(s->floor)) floors->append(double(r.step), s->floor);
            lo = std::min({lo, s->value, std::isnan(s->floor) ? lo : s->floor});
            hi = std::max({hi, s->value, std::isnan(s->floor) ? hi : s->floor});
            ++m_points;
        }
    chart->addSeries(values);
    chart->addSeries(floors);
    auto* x = new QValueAxis;
    x->setTitleText(tr("step"));
    x->setLabelFormat(QStringLiteral("%d"));
    auto* y = new QValueAxis;
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    for (auto* s : {values, floors}) {
        s->attachAxis(x);
        s->attachAxis(y);
    }
    double maxStep = 1;
    for (const auto& p : values->points()) maxStep = std::max(maxStep, p.x());
    x->setRange(0, maxStep);
    x->applyNiceNumbers();
    y->setRange(lo, hi + 0.05 * (hi - lo));
    y->applyNiceNumbers();
    connect(values, &QLineSeries::clicked, this, [this, values](const QPointF& at) {
        // The nearest point's step.
        double best = 1e300;
        std::int64_t step = -1;
        for (const auto& p : values->points())
            if (std::abs(p.x() - at.x()) < best)
                best = std::abs(p.x() - at.x()), step = std::llround(p.x());
        if (step >= 0) showStep(step);
    });
    QChart* old = m_view->chart();
    m_view->setChart(chart);
    delete old;
}

// ---- Class histogram ----

ClassChart::ClassChart(QWidget* parent) : QChartView(parent) {
    setRenderHint(QPainter::Antialiasing);
}

void ClassChart::setRecord(const ll::EvalRecord* r) {
    auto* chart = new QChart;
    chart->setMargins(QMargins(4, 4, 4, 4));
    if (r && !r->generatedClasses.empty()) {
        chart->setTitle(
            tr("Classes the classifier sees: samples against as many real "
               "images"));
        auto* generated = new QBarSet(tr("generated"));
        auto* real = new QBarSet(tr("real"));
        QStringList names;
        double most = 1;
        // Bars grow upwards: the last class first, so that the first reads at the top.
        for (std::size_t k = r->generatedClasses.size(); k-- > 0;) {
            *generated << double(r->generatedClasses[k]);
            *real << (k < r->realClasses.size() ? double(r->realClasses[k]) : 0.0);
            most = std::max({most, double(r->generatedClasses[k]),
                             k < r->realClasses.size() ? double(r->realClasses[k]) : 0.0});
            names << (k < r->classNames.size() ? QString::fromStdString(r->classNames[k])
                                               : QString::number(k));
        }
        auto* series = new QHorizontalBarSeries;
        series->append(generated);
        series->append(real);
        chart->addSeries(series);
        auto* y = new QBarCategoryAxis;
        y->append(names);
        auto* x = new QValueAxis;
        x->setRange(0, most);
        x->applyNiceNumbers();
        x->setLabelFormat(QStringLiteral("%d"));
        chart->addAxis(y, Qt::AlignLeft);
        chart->addAxis(x, Qt::AlignBottom);
        series->attachAxis(x);
        series->attachAxis(y);
    } else {
        chart->setTitle(tr("No class histogram in this record (metric 'classes')."));
    }
    QChart* old = this->chart();
    setChart(chart);
    delete old;
}

// ---- Guidance sweep: scores against the weight, and precision against recall ----

SweepCharts::SweepCharts(QWidget* parent) : QWidget(parent) {
    m_byWeight = new QChartView;
    m_tradeOff = new QChartView;
    for (auto* v : {m_byWeight, m_tradeOff}) v->setRenderHint(QPainter::Antialiasing);
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_byWeight, 1);
    layout->addWidget(m_tradeOff, 1);
}

void SweepCharts::setRecords(const std::vector<ll::EvalRecord>& records, std::int64_t step) {
    std::vector<const ll::EvalRecord*> sweep;
    for (const auto& r : records)
        if (r.step == step) sweep.push_back(&r);
    std::sort(sweep.begin(), sweep.end(),
              [](auto* a, auto* b) { return a->guidance < b->guidance; });

    auto* left = new QChart;
    left->setMargins(QMargins(4, 4, 4, 4));
    auto* right = new QChart;
    right->setMargins(QMargins(4, 4, 4, 4));
    if (sweep.size() < 2) {
        left->setTitle(tr("No guidance sweep at step %1: run one from the panel (diffusion "
                          "runs).")
                           .arg(step));
    } else {
        left->setTitle(tr("Scores against the guidance weight (step %1)").arg(step));
        auto* wAxis = new QValueAxis;
        wAxis->setTitleText(tr("guidance weight"));
        auto* unit = new QValueAxis;
        unit->setRange(0, 1);
        auto* fidAxis = new QValueAxis;
        fidAxis->setTitleText(tr("FID"));
        left->addAxis(wAxis, Qt::AlignBottom);
        left->addAxis(unit, Qt::AlignLeft);
        left->addAxis(fidAxis, Qt::AlignRight);
        double maxFid = 1e-9;
        for (const char* m : {"precision", "recall", "agreement", "fid"}) {
            auto* s = new QLineSeries;
            s->setName(QString::fromStdString(ll::scoreLabel(m)));
            s->setPointsVisible(true);
            for (auto* r : sweep)
                if (const auto* score = r->score(m); score && !std::isnan(score->value)) {
                    s->append(r->guidance, score->value);
                    if (std::string(m) == "fid") maxFid = std::max(maxFid, score->value);
                }
            left->addSeries(s);
            s->attachAxis(wAxis);
            s->attachAxis(std::string(m) == "fid" ? fidAxis : unit);
        }
        wAxis->setRange(sweep.front()->guidance, sweep.back()->guidance);
        wAxis->applyNiceNumbers();
        fidAxis->setRange(0, maxFid);
        fidAxis->applyNiceNumbers();

        right->setTitle(
            tr("Fidelity against diversity: precision against recall; hover a "
               "point for its weight"));
        auto* curve = new QLineSeries;
        curve->setName(tr("guidance sweep"));
        auto* points = new QScatterSeries;
        points->setName(tr("weights"));
        points->setMarkerSize(9);
        for (auto* r : sweep) {
            const auto *p = r->score("precision"), *q = r->score("recall");
            if (!p || !q) continue;
            curve->append(q->value, p->value);
            points->append(q->value, p->value);
        }
        right->addSeries(curve);
        right->addSeries(points);
        // The data's own range, padded: the trade-off is often a few hundredths wide.
        auto range = [](const QList<QPointF>& pts, bool x) {
            double lo = 1, hi = 0;
            for (const auto& p : pts)
                lo = std::min(lo, x ? p.x() : p.y()), hi = std::max(hi, x ? p.x() : p.y());
            const double pad = std::max(0.01, 0.1 * (hi - lo));
            return std::pair{std::max(0.0, lo - pad), std::min(1.0, hi + pad)};
        };
        auto* recall = new QValueAxis;
        recall->setTitleText(tr("recall (diversity)"));
        const auto [r0, r1] = range(points->points(), true);
        recall->setRange(r0, r1);
        auto* precision = new QValueAxis;
        precision->setTitleText(tr("precision (fidelity)"));
        const auto [p0, p1] = range(points->points(), false);
        precision->setRange(p0, p1);
        right->addAxis(recall, Qt::AlignBottom);
        right->addAxis(precision, Qt::AlignLeft);
        for (auto* s : std::initializer_list<QXYSeries*>{curve, points}) {
            s->attachAxis(recall);
            s->attachAxis(precision);
        }
        std::vector<double> weights;
        for (auto* r : sweep)
            if (r->score("precision") && r->score("recall")) weights.push_back(r->guidance);
        connect(points, &QScatterSeries::hovered, this,
                [points, weights](const QPointF& at, bool state) {
                    if (!state) return QToolTip::hideText();
                    const auto pts = points->points();
                    for (int i = 0; i < pts.size() && i < int(weights.size()); ++i)
                        if (std::abs(pts[i].x() - at.x()) < 1e-3 &&
                            std::abs(pts[i].y() - at.y()) < 1e-3)
                            QToolTip::showText(QCursor::pos(),
                                               QObject::tr("guidance %1: precision %2, "
                                                           "recall %3")
                                                   .arg(weights[std::size_t(i)])
                                                   .arg(pts[i].y(), 0, 'f', 3)
                                                   .arg(pts[i].x(), 0, 'f', 3));
                });
    }
    for (auto [view, chart] : {std::pair{m_byWeight, left}, std::pair{m_tradeOff, right}}) {
        QChart* old = view->chart();
        view->setChart(chart);
        delete old;
    }
}

}  // namespace ll::widgets
