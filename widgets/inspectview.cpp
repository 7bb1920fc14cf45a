#include "inspectview.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <QBarCategoryAxis>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QHorizontalBarSeries>
#include <QImage>
#include <QLabel>
#include <QLineSeries>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QScatterSeries>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QToolTip>
#include <QVBoxLayout>
#include <QValueAxis>

#include "run/runfolder.h"

namespace ll::widgets {

namespace {

constexpr int kTileScale = 3;  // 28-pixel tiles shown at 84 pixels

QString number(double v, int digits = 4) {
    return std::isnan(v) ? QStringLiteral("–") : QString::number(v, 'g', digits);
}

// Tile (row, col) of a PNG written by core's makeGrid with `cols` columns, scaled up with
// nearest-neighbour sampling so pixels stay sharp.
QPixmap tile(const QImage& image, int rows, int cols, int row, int col) {
    if (image.isNull() || rows < 1 || cols < 1) return {};
    const int w = image.width() / cols, h = image.height() / rows;
    const int side = std::min(128, w * kTileScale);
    return QPixmap::fromImage(image.copy(col * w, row * h, w, h).scaled(side, side * h / w));
}

// The shown size of a tile: kTileScale times its pixels, at most 128 (large images).
int tileSide(const QImage& image, int cols) {
    const int w = image.isNull() || cols < 1 ? 28 : image.width() / cols;
    return std::min(128, w * kTileScale);
}

QColor zColour(double z, bool kept) {
    if (!kept || std::isnan(z)) return QColor(0xa0, 0xa0, 0xa0);
    // Red for copying (Z < 0), blue for underfitting (Z > 0), saturating at |Z| = 5.
    const double t = std::clamp(std::abs(z) / 5.0, 0.0, 1.0);
    const QColor end = z < 0 ? QColor(0xd7, 0x30, 0x27) : QColor(0x31, 0x6b, 0xd6);
    const QColor mid(0xd0, 0xd0, 0xd0);
    return QColor(int(mid.red() + t * (end.red() - mid.red())),
                  int(mid.green() + t * (end.green() - mid.green())),
                  int(mid.blue() + t * (end.blue() - mid.blue())));
}

QTableWidget* makeTable(const QStringList& headers) {
    auto* t = new QTableWidget(0, int(headers.size()));
    t->setHorizontalHeaderLabels(headers);
    t->setEditTriggers(QAbstractItemView::NoEditTriggers);
    t->setSelectionBehavior(QAbstractItemView::SelectRows);
    t->verticalHeader()->setVisible(false);
    t->horizontalHeader()->setStretchLastSection(true);
    return t;
}

QString recordName(const ll::EvalRecord& r) {
    return QObject::tr("step %1 · guidance %2 · %3 samples · %4")
        .arg(r.step)
        .arg(r.guidance)
        .arg(r.count)
        .arg(r.featureSpace == "pixels" ? QObject::tr("raw pixels")
                                        : QObject::tr("classifier features"));
}

}  // namespace

// ---- Metrics over steps: a metric (and its floor) against the checkpoint step ----

class MetricsOverSteps : public QWidget {
public:
    explicit MetricsOverSteps(QWidget* parent = nullptr) : QWidget(parent) {
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

    void setRecords(const QString& runDir, const std::vector<ll::EvalRecord>* records) {
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

    /// Shows the samples the run saved at `step` (the grid of that checkpoint).
    void showStep(std::int64_t step) {
        const auto png = ll::runfiles::samples(m_runDir.toStdString(), step);
        QImage image(QString::fromStdString(png.string()));
        if (image.isNull()) {
            m_samples->setPixmap({});
            m_samples->setText(tr("No sample grid was saved at step %1.").arg(step));
            return;
        }
        const int side = std::max(200, std::min(m_samples->width(), m_samples->height()) - 8);
        m_samples->setPixmap(QPixmap::fromImage(
            image.scaled(side, side, Qt::KeepAspectRatio, Qt::FastTransformation)));
        m_shownStep = step;
    }
    std::int64_t shownStep() const { return m_shownStep; }
    int pointCount() const { return m_points; }

private:
    void redraw() {
        auto* chart = new QChart;
        chart->setMargins(QMargins(4, 4, 4, 4));
        const std::string metric = m_metric->currentData().toString().toStdString();
        chart->setTitle(tr("%1 over training steps (dashed: its real-vs-real floor)")
                            .arg(m_metric->currentText()));
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

    QString m_runDir;
    const std::vector<ll::EvalRecord>* m_records = nullptr;
    QComboBox* m_metric;
    QChartView* m_view;
    QLabel* m_samples;
    std::int64_t m_shownStep = -1;
    int m_points = 0;
};

// ---- Class histogram ----

class ClassChart : public QChartView {
public:
    ClassChart() { setRenderHint(QPainter::Antialiasing); }
    void setRecord(const ll::EvalRecord* r) {
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
};

// ---- Guidance sweep: scores against the weight, and precision against recall ----

class SweepCharts : public QWidget {
public:
    SweepCharts() {
        m_byWeight = new QChartView;
        m_tradeOff = new QChartView;
        for (auto* v : {m_byWeight, m_tradeOff}) v->setRenderHint(QPainter::Antialiasing);
        auto* layout = new QHBoxLayout(this);
        layout->setContentsMargins(0, 0, 0, 0);
        layout->addWidget(m_byWeight, 1);
        layout->addWidget(m_tradeOff, 1);
    }

    void setRecords(const std::vector<ll::EvalRecord>& records, std::int64_t step) {
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

private:
    QChartView* m_byWeight;
    QChartView* m_tradeOff;
};

// ---- The cell map ----

CellMap::CellMap(QWidget* parent) : QWidget(parent) {
    setMinimumSize(320, 260);
    setObjectName(QStringLiteral("cellMap"));
}

void CellMap::setRecord(const ll::EvalRecord* record) {
    m_record = record;
    m_selected = -1;
    if (record && !record->mapX.empty()) {
        const auto [x0, x1] = std::minmax_element(record->mapX.begin(), record->mapX.end());
        const auto [y0, y1] = std::minmax_element(record->mapY.begin(), record->mapY.end());
        m_minX = *x0, m_maxX = *x1, m_minY = *y0, m_maxY = *y1;
        if (m_maxX - m_minX < 1e-9) m_maxX = m_minX + 1;
        if (m_maxY - m_minY < 1e-9) m_maxY = m_minY + 1;
    }
    update();
}

QPointF CellMap::toWidget(double x, double y) const {
    const double margin = 24;
    const double w = std::max(1.0, width() - 2 * margin),
                 h = std::max(1.0, height() - 2 * margin - 20);
    return {margin + (x - m_minX) / (m_maxX - m_minX) * w,
            margin + 20 + (1 - (y - m_minY) / (m_maxY - m_minY)) * h};  // 20: the caption
}

QPointF CellMap::cellPosition(int cell) const {
    if (!m_record) return {};
    for (const auto& c : m_record->cells)
        if (c.id == cell) return toWidget(c.x, c.y);
    return {};
}

void CellMap::selectCell(int cell) {
    m_selected = cell;
    update();
}

void CellMap::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), palette().base());
    p.setRenderHint(QPainter::Antialiasing);
    if (!m_record || m_record->cells.empty()) {
        p.setPen(palette().text().color());
        p.drawText(rect(), Qt::AlignCenter | Qt::TextWordWrap,
                   tr("No data-copying cells in this record: evaluate with the 'ct' metric "
                      "(needs held-out data)."));
        return;
    }
    std::vector<QColor> colours(m_record->cells.size() + 1, Qt::gray);
    for (const auto& c : m_record->cells)
        if (c.id >= 0 && c.id < int(colours.size()))
            colours[std::size_t(c.id)] = zColour(c.z, c.kept);
    p.setPen(Qt::NoPen);
    for (std::size_t i = 0; i < m_record->mapX.size() && i < m_record->mapCell.size(); ++i) {
        const int cell = m_record->mapCell[i];
        QColor colour =
            cell >= 0 && cell < int(colours.size()) ? colours[std::size_t(cell)] : Qt::gray;
        colour.setAlpha(m_selected < 0 || cell == m_selected ? 150 : 45);
        p.setBrush(colour);
        p.drawEllipse(toWidget(m_record->mapX[i], m_record->mapY[i]), 2.0, 2.0);
    }
    QFont bold = font();
    bold.setBold(true);
    p.setFont(bold);
    for (const auto& c : m_record->cells) {
        const QPointF at = toWidget(c.x, c.y);
        p.setBrush(zColour(c.z, c.kept));
        p.setPen(QPen(c.id == m_selected ? palette().highlight().color() : QColor(0x30, 0x30, 0x30),
                      c.id == m_selected ? 3 : 1));
        p.drawEllipse(at, 13, 13);
        p.setPen(Qt::black);
        p.drawText(QRectF(at.x() - 13, at.y() - 13, 26, 26), Qt::AlignCenter,
                   QString::number(c.id));
    }
    p.setFont(font());
    p.setPen(palette().text().color());
    p.drawText(QRectF(8, 2, width() - 16, 36), Qt::AlignLeft | Qt::AlignTop | Qt::TextWordWrap,
               tr("Training features on their first two principal axes. Cell colour: Z of the "
                  "cell (red < 0: copying, blue > 0: underfitting, grey: too few samples)."));
}

void CellMap::mousePressEvent(QMouseEvent* event) {
    if (!m_record) return;
    int best = -1;
    double bestDistance = 30;
    for (const auto& c : m_record->cells) {
        const QPointF d = toWidget(c.x, c.y) - event->position();
        const double distance = std::hypot(d.x(), d.y());
        if (distance < bestDistance) bestDistance = distance, best = c.id;
    }
    if (best < 0) return;
    selectCell(best);
    Q_EMIT cellClicked(best);
}

// ---- The view ----

InspectView::InspectView(QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("inspectView"));
    m_empty =
        new QLabel(tr("No evaluation yet: choose a run, then Evaluate in the panel on the "
                      "right. Records are read from the run's eval folder."));
    m_empty->setWordWrap(true);
    m_empty->setAlignment(Qt::AlignCenter);
    m_record = new QComboBox;
    m_record->setObjectName(QStringLiteral("recordCombo"));
    m_protocol = new QLabel;
    m_protocol->setWordWrap(true);
    m_protocol->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_protocol->setStyleSheet(QStringLiteral("color: palette(shadow);"));

    m_scores =
        makeTable({tr("Metric"), tr("Value"), tr("Floor (real vs real)"), tr("How to read it")});
    m_scores->setObjectName(QStringLiteral("scoreTable"));
    m_scores->setWordWrap(true);
    m_scores->verticalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_overSteps = new MetricsOverSteps;
    m_neighbours = makeTable({tr("Sample"), tr("Nearest"), tr("2nd"), tr("3rd"), tr("Distances")});
    m_neighbours->setObjectName(QStringLiteral("neighbourTable"));
    m_cellMap = new CellMap;
    m_cellInfo =
        new QLabel(tr("Click a cell to list its samples beside their nearest training "
                      "images."));
    m_cellInfo->setWordWrap(true);
    m_cellPairs = makeTable({tr("Sample"), tr("Nearest"), tr("Distance")});
    m_cellPairs->setObjectName(QStringLiteral("cellPairs"));
    auto* cellSide = new QWidget;
    auto* cellSideLayout = new QVBoxLayout(cellSide);
    cellSideLayout->setContentsMargins(0, 0, 0, 0);
    cellSideLayout->addWidget(m_cellInfo);
    cellSideLayout->addWidget(m_cellPairs, 1);
    auto* cells = new QSplitter;
    cells->addWidget(m_cellMap);
    cells->addWidget(cellSide);
    cells->setStretchFactor(0, 1);
    cells->setStretchFactor(1, 0);
    cellSide->setMinimumWidth(2 * (28 * kTileScale + 20) + 90);
    m_classes = new ClassChart;
    m_sweep = new SweepCharts;

    m_tabs = new QTabWidget;
    m_tabs->setObjectName(QStringLiteral("inspectTabs"));
    m_tabs->addTab(m_scores, tr("Scores"));
    m_tabs->addTab(m_overSteps, tr("Over steps"));
    m_tabs->addTab(m_neighbours, tr("Nearest neighbours"));
    m_tabs->addTab(cells, tr("Data copying"));
    m_tabs->addTab(m_classes, tr("Classes"));
    m_tabs->addTab(m_sweep, tr("Guidance sweep"));

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(m_empty);
    layout->addWidget(m_record);
    layout->addWidget(m_protocol);
    layout->addWidget(m_tabs, 1);

    connect(m_record, &QComboBox::currentIndexChanged, this, &InspectView::showRecord);
    connect(m_cellMap, &CellMap::cellClicked, this, &InspectView::showCell);
    setRun({});
}

int InspectView::overStepsPointCount() const {
    return m_overSteps->pointCount();
}

const ll::EvalRecord* InspectView::current() const {
    const int i = m_record->currentIndex();
    return i >= 0 && i < int(m_records.size()) ? &m_records[std::size_t(i)] : nullptr;
}

void InspectView::setRun(const QString& runDir, const QString& select) {
    m_runDir = runDir;
    m_records = runDir.isEmpty() ? std::vector<ll::EvalRecord>{}
                                 : ll::listEvaluations(runDir.toStdString());
    const bool any = !m_records.empty();
    m_empty->setVisible(!any);
    m_record->setVisible(any);
    m_protocol->setVisible(any);
    m_tabs->setVisible(any);
    QSignalBlocker block(m_record);
    m_record->clear();
    int chosen = -1;
    for (std::size_t i = 0; i < m_records.size(); ++i) {
        m_record->addItem(recordName(m_records[i]));
        if (!select.isEmpty() &&
            QFileInfo(QString::fromStdString(m_records[i].file.string())) == QFileInfo(select))
            chosen = int(i);
    }
    if (chosen < 0 && any) {
        // The newest step at guidance 0 (else the last record).
        chosen = int(m_records.size()) - 1;
        for (int i = chosen; i >= 0; --i)
            if (m_records[std::size_t(i)].guidance == 0 &&
                m_records[std::size_t(i)].step == m_records.back().step) {
                chosen = i;
                break;
            }
    }
    m_record->setCurrentIndex(chosen);
    m_overSteps->setRecords(runDir, &m_records);
    showRecord(chosen);
}

void InspectView::showRecord(int index) {
    const ll::EvalRecord* r =
        index >= 0 && index < int(m_records.size()) ? &m_records[std::size_t(index)] : nullptr;
    m_protocol->setText(r ? QString::fromStdString(r->protocol) : QString());

    m_scores->setRowCount(0);
    if (r)
        for (const auto& s : r->scores) {
            const int row = m_scores->rowCount();
            m_scores->insertRow(row);
            QString value = number(s.value);
            if (!std::isnan(s.std)) value += QStringLiteral(" ± ") + number(s.std, 2);
            m_scores->setItem(row, 0,
                              new QTableWidgetItem(QString::fromStdString(ll::scoreLabel(s.name))));
            m_scores->setItem(row, 1, new QTableWidgetItem(value));
            m_scores->setItem(row, 2, new QTableWidgetItem(number(s.floor)));
            auto* help = new QTableWidgetItem(QString::fromStdString(ll::scoreHelp(s.name)));
            help->setToolTip(help->text());
            m_scores->setItem(row, 3, help);
        }
    if (r)
        for (const auto& [name, why] : r->errors) {
            const int row = m_scores->rowCount();
            m_scores->insertRow(row);
            m_scores->setItem(row, 0,
                              new QTableWidgetItem(QString::fromStdString(ll::scoreLabel(name))));
            m_scores->setItem(row, 1, new QTableWidgetItem(tr("not computed")));
            m_scores->setItem(row, 2, new QTableWidgetItem);
            auto* reason = new QTableWidgetItem(QString::fromStdString(why));
            reason->setToolTip(reason->text());
            m_scores->setItem(row, 3, reason);
        }
    m_scores->resizeColumnsToContents();
    m_scores->horizontalHeader()->setStretchLastSection(true);

    m_neighbours->setRowCount(0);
    if (r && !r->neighbours.empty()) {
        const QImage image(QString::fromStdString(r->neighboursImage.string()));
        const int rows = int(r->neighbours.size());
        const int cols = 1 + int(r->neighbours.front().train.size());
        const int side = tileSide(image, cols);
        m_neighbours->setIconSize(QSize(side, side));
        for (int i = 0; i < rows; ++i) {
            const auto& n = r->neighbours[std::size_t(i)];
            m_neighbours->insertRow(i);
            for (int c = 0; c < cols && c < 4; ++c) {
                auto* item = new QTableWidgetItem;
                item->setData(Qt::DecorationRole, tile(image, rows, cols, i, c));
                item->setToolTip(
                    c == 0
                        ? tr("generated sample %1 (class %2)")
                              .arg(n.sample)
                              .arg(n.label >= 0 && n.label < int(r->classNames.size())
                                       ? QString::fromStdString(r->classNames[std::size_t(n.label)])
                                       : QString::number(n.label))
                        : tr("training image %1").arg(n.train[std::size_t(c - 1)]));
                m_neighbours->setItem(i, c, item);
            }
            QStringList d;
            for (double v : n.distances) d << QString::number(v, 'f', 3);
            m_neighbours->setItem(i, 4, new QTableWidgetItem(d.join(QStringLiteral("  "))));
            m_neighbours->setRowHeight(i, side + 6);
        }
        for (int c = 0; c < 4; ++c) m_neighbours->setColumnWidth(c, side + 40);
    }

    m_cellMap->setRecord(r);
    m_cellPairs->setRowCount(0);
    m_cellInfo->setText(
        tr("Click a cell to list its samples beside their nearest training images."));
    m_classes->setRecord(r);
    m_sweep->setRecords(m_records, r ? r->step : -1);
}

void InspectView::showCell(int cell) {
    const ll::EvalRecord* r = current();
    if (!r) return;
    const auto it = std::find_if(r->cells.begin(), r->cells.end(),
                                 [cell](const ll::EvalCell& c) { return c.id == cell; });
    if (it == r->cells.end()) return;
    const int row = int(it - r->cells.begin());
    m_cellInfo->setText(
        tr("Cell %1: Z = %2%3. %4 training, %5 held-out, %6 generated images. Its samples "
           "closest to a training image:")
            .arg(it->id)
            .arg(number(it->z, 3))
            .arg(it->kept ? QString() : tr(" (not counted: too few samples)"))
            .arg(it->train)
            .arg(it->test)
            .arg(it->generated));
    const QImage image(QString::fromStdString(r->cellsImage.string()));
    const int rows = int(r->cells.size());
    const int pairs = 4;
    m_cellPairs->setRowCount(0);
    const int side = tileSide(image, 2 * pairs);
    m_cellPairs->setIconSize(QSize(side, side));
    for (std::size_t i = 0; i < it->samples.size(); ++i) {
        const int at = m_cellPairs->rowCount();
        m_cellPairs->insertRow(at);
        for (int c = 0; c < 2; ++c) {
            auto* item = new QTableWidgetItem;
            item->setData(Qt::DecorationRole, tile(image, rows, 2 * pairs, row, 2 * int(i) + c));
            m_cellPairs->setItem(at, c, item);
        }
        m_cellPairs->setItem(at, 2,
                             new QTableWidgetItem(QString::number(it->distances[i], 'f', 3)));
        m_cellPairs->setRowHeight(at, side + 6);
    }
    for (int c = 0; c < 2; ++c) m_cellPairs->setColumnWidth(c, side + 20);
}

}  // namespace ll::widgets
