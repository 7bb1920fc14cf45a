#include "common/tabularview.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <QAbstractTableModel>
#include <QAreaSeries>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineSeries>
#include <QScatterSeries>
#include <QSignalBlocker>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>
#include <QValueAxis>

namespace ll::widgets {

namespace {

const QColor kReal(0x4c, 0x8b, 0xf5);
const QColor kGenerated(0xf2, 0x99, 0x4a);
constexpr int kHistogramBins = 24;

QColor withAlpha(QColor c, int alpha) {
    c.setAlpha(alpha);
    return c;
}

// Both tables' values of one column, for a common range.
std::pair<double, double> columnRange(const ll::TableSamples& a, const ll::TableSamples& b,
                                      std::size_t column) {
    double lo = std::numeric_limits<double>::infinity();
    double hi = -lo;
    for (const auto* t : {&a, &b}) {
        if (column >= t->columns.size()) continue;
        for (std::int64_t r = 0; r < t->rows; ++r) {
            const double v = t->at(r, column);
            if (!std::isfinite(v)) continue;
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
    }
    if (!(lo <= hi)) return {0, 1};
    if (hi - lo < 1e-12) return {lo - 0.5, hi + 0.5};
    return {lo, hi};
}

// A column's name for an axis: a categorical column's values beside their positions.
QString axisTitle(const ll::TableSamples& t, int column) {
    if (column < 0 || static_cast<std::size_t>(column) >= t.columns.size()) return {};
    const auto c = static_cast<std::size_t>(column);
    QString title = QString::fromStdString(t.columns[c]);
    if (!t.categorical(c)) return title;
    QStringList values;
    const auto& levels = t.levels[c];
    for (std::size_t v = 0; v < levels.size() && v < 8; ++v)
        values << QStringLiteral("%1 %2").arg(v).arg(QString::fromStdString(levels[v]));
    if (levels.size() > 8) values << QStringLiteral("...");
    return title + QStringLiteral(": ") + values.join(QStringLiteral(", "));
}

// Categories sit on whole numbers: their axis shows each one, with half a step either side.
void fitAxis(QValueAxis* axis, double lo, double hi, std::size_t categories) {
    if (categories > 0) {
        axis->setTickType(QValueAxis::TicksDynamic);
        axis->setTickAnchor(0);
        axis->setTickInterval(std::max(1.0, std::ceil(double(categories) / 10)));
        axis->setLabelFormat(QStringLiteral("%d"));
        axis->setRange(-0.5, double(categories) - 0.5);
        return;
    }
    axis->setTickType(QValueAxis::TicksFixed);
    axis->setLabelFormat(QString());
    axis->setRange(lo, hi);
    axis->applyNiceNumbers();
}

// A row's small deterministic offset across a category, so that its points do not all fall
// on one another.
double jitter(std::int64_t row) {
    const auto h = (static_cast<std::uint64_t>(row) + 1) * 0x9E3779B97F4A7C15ull;
    return (static_cast<double>(h >> 40) / double(1 << 24) - 0.5) * 0.5;
}

QChart* newChart(const QString& title) {
    auto* chart = new QChart;
    chart->setTitle(title);
    chart->setMargins(QMargins(2, 2, 2, 2));
    chart->legend()->setAlignment(Qt::AlignTop);
    return chart;
}

}  // namespace

/// A TableSamples as a read-only table: the columns, then the class name.
class TableSamplesModel : public QAbstractTableModel {
public:
    using QAbstractTableModel::QAbstractTableModel;

    void setTable(const ll::TableSamples* table) {
        beginResetModel();
        m_table = table;
        endResetModel();
    }
    int rowCount(const QModelIndex& parent = {}) const override {
        return parent.isValid() || !m_table ? 0 : static_cast<int>(m_table->rows);
    }
    int columnCount(const QModelIndex& parent = {}) const override {
        return parent.isValid() || !m_table ? 0 : static_cast<int>(m_table->columns.size()) + 1;
    }
    QVariant data(const QModelIndex& index, int role) const override {
        if (!m_table || !index.isValid()) return {};
        const auto column = static_cast<std::size_t>(index.column());
        if (role == Qt::TextAlignmentRole && column < m_table->columns.size())
            return QVariant::fromValue(
                (m_table->categorical(column) ? Qt::AlignLeft : Qt::AlignRight) | Qt::AlignVCenter);
        if (role != Qt::DisplayRole) return {};
        if (column < m_table->columns.size())
            return QString::fromStdString(m_table->text(index.row(), column, 4));
        const auto row = static_cast<std::size_t>(index.row());
        if (row >= m_table->labels.size()) return {};
        const int label = m_table->labels[row];
        return label >= 0 && static_cast<std::size_t>(label) < m_table->classNames.size()
                   ? QString::fromStdString(m_table->classNames[static_cast<std::size_t>(label)])
                   : QString::number(label);
    }
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override {
        if (role != Qt::DisplayRole || !m_table) return {};
        if (orientation == Qt::Vertical) return section + 1;
        const auto column = static_cast<std::size_t>(section);
        return column < m_table->columns.size() ? QString::fromStdString(m_table->columns[column])
                                                : QObject::tr("class");
    }

private:
    const ll::TableSamples* m_table = nullptr;
};

TabularView::TabularView(QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("tabularView"));
    auto makeTable = [this](TableSamplesModel*& model, QTableView*& view, const char* name) {
        model = new TableSamplesModel(this);
        view = new QTableView;
        view->setObjectName(QLatin1String(name));
        view->setModel(model);
        view->setAlternatingRowColors(true);
        view->setSelectionBehavior(QAbstractItemView::SelectRows);
        view->verticalHeader()->setDefaultSectionSize(view->fontMetrics().height() + 4);
        view->horizontalHeader()->setDefaultSectionSize(84);
    };
    makeTable(m_generatedModel, m_generatedTable, "generatedTable");
    makeTable(m_realModel, m_realTable, "realTable");
    m_generatedTitle = new QLabel;
    m_realTitle = new QLabel;
    auto titled = [](QLabel* title, QTableView* table) {
        auto* box = new QWidget;
        auto* layout = new QVBoxLayout(box);
        layout->setContentsMargins(0, 0, 0, 0);
        layout->setSpacing(2);
        layout->addWidget(title);
        layout->addWidget(table, 1);
        return box;
    };
    auto* tables = new QSplitter(Qt::Vertical);
    m_generatedPane = titled(m_generatedTitle, m_generatedTable);
    tables->addWidget(m_generatedPane);
    tables->addWidget(titled(m_realTitle, m_realTable));

    // Scatter plot of two columns.
    m_x = new QComboBox;
    m_x->setObjectName(QStringLiteral("scatterX"));
    m_y = new QComboBox;
    m_y->setObjectName(QStringLiteral("scatterY"));
    for (auto* combo : {m_x, m_y}) combo->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    auto* scatterChart = newChart(tr("Real and generated rows"));
    m_realPoints = new QScatterSeries;
    m_realPoints->setName(tr("real"));
    m_generatedPoints = new QScatterSeries;
    m_generatedPoints->setName(tr("generated"));
    for (auto [series, colour] :
         {std::pair{m_realPoints, kReal}, {m_generatedPoints, kGenerated}}) {
        series->setMarkerSize(7);
        series->setColor(withAlpha(colour, 160));
        series->setBorderColor(withAlpha(colour.darker(130), 200));
        scatterChart->addSeries(series);
    }
    m_scatterX = new QValueAxis;
    m_scatterY = new QValueAxis;
    scatterChart->addAxis(m_scatterX, Qt::AlignBottom);
    scatterChart->addAxis(m_scatterY, Qt::AlignLeft);
    for (auto* s : {m_realPoints, m_generatedPoints}) {
        s->attachAxis(m_scatterX);
        s->attachAxis(m_scatterY);
    }
    m_scatter = new QChartView(scatterChart);
    m_scatter->setObjectName(QStringLiteral("scatterChart"));
    m_scatter->setRenderHint(QPainter::Antialiasing);
    m_scatter->setMinimumSize(280, 220);

    // Histogram of one column, drawn as filled steps.
    m_histColumn = new QComboBox;
    m_histColumn->setObjectName(QStringLiteral("histogramColumn"));
    m_histColumn->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    auto* histChart = newChart(tr("Share of rows per bin"));
    m_realHistLine = new QLineSeries(this);
    m_generatedHistLine = new QLineSeries(this);
    m_realHist = new QAreaSeries(m_realHistLine);
    m_realHist->setName(tr("real"));
    m_generatedHist = new QAreaSeries(m_generatedHistLine);
    m_generatedHist->setName(tr("generated"));
    for (auto [series, colour] : {std::pair{m_realHist, kReal}, {m_generatedHist, kGenerated}}) {
        series->setColor(withAlpha(colour, 90));
        series->setBorderColor(colour);
        histChart->addSeries(series);
    }
    m_histX = new QValueAxis;
    m_histY = new QValueAxis;
    m_histY->setLabelFormat(QStringLiteral("%.2f"));
    histChart->addAxis(m_histX, Qt::AlignBottom);
    histChart->addAxis(m_histY, Qt::AlignLeft);
    for (auto* s : {m_realHist, m_generatedHist}) {
        s->attachAxis(m_histX);
        s->attachAxis(m_histY);
    }
    m_histogram = new QChartView(histChart);
    m_histogram->setObjectName(QStringLiteral("histogramChart"));
    m_histogram->setRenderHint(QPainter::Antialiasing);
    m_histogram->setMinimumSize(280, 200);

    auto* scatterRow = new QHBoxLayout;
    scatterRow->addWidget(new QLabel(tr("x")));
    scatterRow->addWidget(m_x);
    scatterRow->addSpacing(8);
    scatterRow->addWidget(new QLabel(tr("y")));
    scatterRow->addWidget(m_y);
    scatterRow->addStretch(1);
    auto* histRow = new QHBoxLayout;
    histRow->addWidget(new QLabel(tr("Histogram of")));
    histRow->addWidget(m_histColumn);
    histRow->addStretch(1);
    auto* scatterBox = new QWidget;
    auto* scatterLayout = new QVBoxLayout(scatterBox);
    scatterLayout->setContentsMargins(0, 0, 0, 0);
    scatterLayout->addLayout(scatterRow);
    scatterLayout->addWidget(m_scatter, 1);
    auto* histBox = new QWidget;
    auto* histLayout = new QVBoxLayout(histBox);
    histLayout->setContentsMargins(0, 0, 0, 0);
    histLayout->addLayout(histRow);
    histLayout->addWidget(m_histogram, 1);
    auto* charts = new QSplitter(Qt::Vertical);
    charts->addWidget(scatterBox);
    charts->addWidget(histBox);
    charts->setStretchFactor(0, 3);
    charts->setStretchFactor(1, 2);

    auto* split = new QSplitter(Qt::Horizontal);
    split->addWidget(tables);
    split->addWidget(charts);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 3);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(split);

    connect(m_x, &QComboBox::currentIndexChanged, this, &TabularView::updateScatter);
    connect(m_y, &QComboBox::currentIndexChanged, this, &TabularView::updateScatter);
    connect(m_histColumn, &QComboBox::currentIndexChanged, this, &TabularView::updateHistogram);
    clear();
}

TabularView::~TabularView() = default;

void TabularView::clear() {
    m_generated = {};
    m_real = {};
    m_generatedModel->setTable(nullptr);
    m_realModel->setTable(nullptr);
    updateColumnChoosers();
}

void TabularView::setTables(const ll::TableSamples& generated, const ll::TableSamples& real) {
    m_generated = generated;
    if (!real.empty())
        m_real = real;
    else if (m_real.columns != generated.columns)
        m_real = {};
    // The models point at the members: reset them after every change.
    m_generatedModel->setTable(m_generated.empty() ? nullptr : &m_generated);
    m_realModel->setTable(m_real.empty() ? nullptr : &m_real);
    updateColumnChoosers();
}

void TabularView::setReal(const ll::TableSamples& real) {
    if (m_generated.columns != real.columns) m_generated = {};
    setTables(m_generated, real);
}

void TabularView::updateColumnChoosers() {
    const auto& columns = m_generated.empty() ? m_real.columns : m_generated.columns;
    m_generatedTitle->setText(m_generated.empty() ? tr("<b>Generated rows</b>: none yet")
                                                  : tr("<b>Generated rows</b>: %1 (step %2)")
                                                        .arg(m_generated.rows)
                                                        .arg(m_generated.step));
    m_realTitle->setText(m_real.empty() ? tr("<b>Real rows</b>: none (train on the data to see "
                                             "them beside the generated ones)")
                                        : tr("<b>Real rows</b>: %1").arg(m_real.rows));
    // Real rows alone (the Data mode, or before the first samples) take the whole height.
    m_generatedPane->setVisible(!m_generated.empty() || m_real.empty());
    QStringList names;
    for (const auto& c : columns) names << QString::fromStdString(c);
    QStringList current;
    for (int i = 0; i < m_x->count(); ++i) current << m_x->itemText(i);
    if (names != current) {
        // New columns: keep the chosen ones by index where they exist (a same-data update
        // never gets here).
        QSignalBlocker bx(m_x), by(m_y), bh(m_histColumn);
        for (auto* combo : {m_x, m_y, m_histColumn}) {
            combo->clear();
            combo->addItems(names);
        }
        m_x->setCurrentIndex(names.isEmpty() ? -1 : 0);
        m_y->setCurrentIndex(names.size() > 1 ? 1 : names.isEmpty() ? -1 : 0);
        m_histColumn->setCurrentIndex(names.isEmpty() ? -1 : 0);
    }
    updateScatter();
    updateHistogram();
}

void TabularView::updateScatter() {
    const int x = m_x->currentIndex();
    const int y = m_y->currentIndex();
    auto points = [x, y](const ll::TableSamples& t) {
        QList<QPointF> out;
        if (x < 0 || y < 0 || static_cast<std::size_t>(std::max(x, y)) >= t.columns.size())
            return out;
        out.reserve(static_cast<qsizetype>(t.rows));
        const auto cx = static_cast<std::size_t>(x), cy = static_cast<std::size_t>(y);
        const double jx = t.categorical(cx) ? 1 : 0, jy = t.categorical(cy) ? 1 : 0;
        for (std::int64_t r = 0; r < t.rows; ++r) {
            const double a = t.at(r, cx) + jx * jitter(r);
            const double b = t.at(r, cy) + jy * jitter(r + t.rows);
            if (std::isfinite(a) && std::isfinite(b)) out << QPointF(a, b);
        }
        return out;
    };
    m_realPoints->replace(points(m_real));
    m_generatedPoints->replace(points(m_generated));
    const auto& shown = m_real.columns.empty() ? m_generated : m_real;
    m_scatterX->setTitleText(axisTitle(shown, x));
    m_scatterY->setTitleText(axisTitle(shown, y));
    if (x < 0 || y < 0) return;
    // The axes cover the real rows and the generated ones, with a margin.
    for (auto [axis, column] : {std::pair{m_scatterX, x}, {m_scatterY, y}}) {
        const auto c = static_cast<std::size_t>(column);
        auto [lo, hi] = columnRange(m_real, m_generated, c);
        const double pad = (hi - lo) * 0.04;
        fitAxis(axis, lo - pad, hi + pad, shown.categorical(c) ? shown.levels[c].size() : 0);
    }
}

void TabularView::updateHistogram() {
    const int column = m_histColumn->currentIndex();
    const auto& shown = m_real.columns.empty() ? m_generated : m_real;
    m_histX->setTitleText(axisTitle(shown, column));
    m_bins = 0;
    if (column < 0) {
        m_realHistLine->clear();
        m_generatedHistLine->clear();
        return;
    }
    const auto c = static_cast<std::size_t>(column);
    // A categorical column: a bin per value, centred on it.
    const std::size_t categories = shown.categorical(c) ? shown.levels[c].size() : 0;
    auto [lo, hi] = categories ? std::pair{-0.5, double(categories) - 0.5}
                               : columnRange(m_real, m_generated, c);
    const int bins = categories ? static_cast<int>(categories) : kHistogramBins;
    const double width = (hi - lo) / bins;
    double most = 0;
    auto steps = [&](const ll::TableSamples& t) {
        QList<QPointF> out;
        if (c >= t.columns.size() || t.rows == 0) return out;
        std::vector<double> counts(static_cast<std::size_t>(bins), 0.0);
        for (std::int64_t r = 0; r < t.rows; ++r) {
            const double v = t.at(r, c);
            if (!std::isfinite(v)) continue;
            const int bin = std::clamp(static_cast<int>((v - lo) / width), 0, bins - 1);
            counts[static_cast<std::size_t>(bin)] += 1.0 / static_cast<double>(t.rows);
        }
        // Steps: each bin is a flat top from its left edge to its right edge.
        out << QPointF(lo, 0);
        for (int b = 0; b < bins; ++b) {
            const double h = counts[static_cast<std::size_t>(b)];
            most = std::max(most, h);
            out << QPointF(lo + b * width, h) << QPointF(lo + (b + 1) * width, h);
        }
        out << QPointF(hi, 0);
        return out;
    };
    m_realHistLine->replace(steps(m_real));
    m_generatedHistLine->replace(steps(m_generated));
    m_bins = bins;
    fitAxis(m_histX, lo, hi, categories);
    m_histY->setRange(0, std::max(0.05, most * 1.1));
}

int TabularView::scatterPointCount(bool generated) const {
    return static_cast<int>((generated ? m_generatedPoints : m_realPoints)->count());
}

}  // namespace ll::widgets
