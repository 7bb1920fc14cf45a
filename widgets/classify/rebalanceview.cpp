#include "classify/rebalanceview.h"

#include <algorithm>
#include <cmath>

#include <QBarCategoryAxis>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QHorizontalBarSeries>
#include <QLabel>
#include <QPixmap>
#include <QScrollArea>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>
#include <QValueAxis>

namespace ll::widgets {

namespace {

QColor seriesColour(int i) {
    static const QColor kColours[] = {QColor(0x1f, 0x77, 0xb4), QColor(0xff, 0x7f, 0x0e),
                                      QColor(0x2c, 0xa0, 0x2c), QColor(0xd6, 0x27, 0x28),
                                      QColor(0x94, 0x67, 0xbd), QColor(0x8c, 0x56, 0x4b),
                                      QColor(0xe3, 0x77, 0xc2), QColor(0x7f, 0x7f, 0x7f),
                                      QColor(0xbc, 0xbd, 0x22), QColor(0x17, 0xbe, 0xcf)};
    return kColours[i % 10];
}

QChartView* chartView(const char* name) {
    auto* view = new QChartView(new QChart);
    view->setObjectName(QLatin1String(name));
    view->setRenderHint(QPainter::Antialiasing);
    view->setMinimumSize(280, 220);
    return view;
}

QString meanSd(double mean, double sd) {
    if (!std::isfinite(mean)) return QStringLiteral("—");
    return QStringLiteral("%1 ± %2")
        .arg(mean, 0, 'f', 3)
        .arg(std::isfinite(sd) ? sd : 0.0, 0, 'f', 3);
}

// A horizontal bar chart of `categories` (read top down, their names whole at the side) on
// 0..1, a set per name in `sets` (values[set][category]), its legend below; NaN values (a
// metric a method could not score) draw as no bar.
QChart* barChart(const QString& title, const QStringList& categories, const QStringList& sets,
                 const std::vector<std::vector<double>>& values) {
    auto* chart = new QChart;
    chart->setTitle(title);
    chart->setMargins(QMargins(4, 4, 4, 4));
    auto* series = new QHorizontalBarSeries;
    // Qt draws the first category at the bottom: both go in reversed.
    for (int s = int(sets.size()) - 1; s >= 0; --s) {
        auto* set = new QBarSet(sets[s]);
        set->setColor(seriesColour(s));
        set->setBorderColor(seriesColour(s));
        const auto& v = values[std::size_t(s)];
        for (auto it = v.rbegin(); it != v.rend(); ++it) *set << (std::isfinite(*it) ? *it : 0.0);
        series->append(set);
    }
    chart->addSeries(series);
    auto* y = new QBarCategoryAxis;
    QStringList reversed(categories.rbegin(), categories.rend());
    y->append(reversed);
    auto* x = new QValueAxis;
    x->setRange(0, 1);
    x->setTickCount(6);
    x->setLabelFormat(QStringLiteral("%.1f"));
    chart->addAxis(y, Qt::AlignLeft);
    chart->addAxis(x, Qt::AlignBottom);
    series->attachAxis(y);
    series->attachAxis(x);
    chart->legend()->setAlignment(Qt::AlignBottom);
    chart->legend()->setReverseMarkers(true);  // the sets in their own order
    QFont small = chart->legend()->font();
    small.setPointSizeF(small.pointSizeF() * 0.85);
    chart->legend()->setFont(small);
    return chart;
}

void replaceChart(QChartView* view, QChart* chart) {
    QChart* old = view->chart();
    view->setChart(chart);
    delete old;
}

}  // namespace

RebalanceView::RebalanceView(QWidget* parent) : StudyPage(parent) {
    m_caption = new QLabel;
    m_caption->setObjectName(QStringLiteral("rebalanceCaption"));
    m_caption->setWordWrap(true);
    m_caption->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_metrics = chartView("rebalanceMetrics");
    m_recall = chartView("rebalanceRecall");
    m_table = new QTableWidget;
    m_table->setObjectName(QStringLiteral("rebalanceTable"));
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_sampleMethod = new QComboBox;
    m_sampleMethod->setObjectName(QStringLiteral("rebalanceSampleMethod"));
    m_samples = new QLabel;
    m_samples->setObjectName(QStringLiteral("rebalanceSamples"));
    m_samples->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    auto* scroll = new QScrollArea;
    scroll->setWidget(m_samples);
    scroll->setWidgetResizable(true);
    auto* samples = new QWidget;
    auto* samplesLayout = new QVBoxLayout(samples);
    samplesLayout->setContentsMargins(0, 0, 0, 0);
    auto* chooser = new QHBoxLayout;
    chooser->addWidget(new QLabel(tr("Synthetic minority samples of")));
    chooser->addWidget(m_sampleMethod, 1);
    samplesLayout->addLayout(chooser);
    samplesLayout->addWidget(scroll, 1);

    auto* charts = splitOf(Qt::Horizontal, {m_metrics, m_recall}, {1, 1});
    auto* lower = splitOf(Qt::Horizontal, {m_table, samples}, {3, 2});
    setPage(m_caption, splitOf(Qt::Vertical, {charts, lower}, {1, 1}));
    setMessage(
        tr("Load a labelled dataset in the Data mode, choose the imbalance and the "
           "methods, and press Start."));
    connect(m_sampleMethod, &QComboBox::currentIndexChanged, this,
            [this] { showSamples(m_sampleMethod->currentData().toString()); });
}

void RebalanceView::setResult(const ll::RebalanceResult& r, const QString& folder) {
    m_result = r;
    const auto join = [](const std::vector<std::string>& names) {
        QStringList out;
        for (const auto& n : names) out << QString::fromStdString(n);
        return out.join(QStringLiteral(", "));
    };
    QStringList counts;
    for (std::size_t k = 0; k < r.classes.size() && k < r.counts.size(); ++k)
        counts
            << QStringLiteral("%1 %2").arg(QString::fromStdString(r.classes[k])).arg(r.counts[k]);
    QString caption =
        tr("<b>%1</b>, the %2 trained on each rebalanced set and scored on %3; minority: %4. "
           "Training counts: %5. Mean ± sd over %6 seed(s). %7")
            .arg(QString::fromStdString(r.imbalance).toHtmlEscaped(),
                 QString::fromStdString(r.classifier), QString::fromStdString(r.heldOut),
                 join(r.minority).toHtmlEscaped(),
                 counts.join(QStringLiteral(", ")).toHtmlEscaped())
            .arg(r.methods.empty() ? 0 : std::max<std::size_t>(1, r.methods.front().perSeed.size()))
            .arg(folder.toHtmlEscaped());
    for (const auto& note : r.notes)
        caption +=
            QStringLiteral("<br><i>%1</i>").arg(QString::fromStdString(note).toHtmlEscaped());
    m_caption->setText(caption);

    QStringList methods;
    for (const auto& m : r.methods) methods << QString::fromStdString(m.method);
    // Metrics chart: a group per metric, a bar per method (accuracy is in the table only: on
    // an imbalanced test set it says little about the minority). Recall chart: a group per
    // class. Each method keeps its colour in both.
    QStringList metricNames;
    std::vector<std::vector<double>> byMethod, recallByMethod;
    for (const auto& metric : ll::rebalanceMetrics())
        if (metric != "accuracy")
            metricNames << QString::fromStdString(ll::rebalanceMetricLabel(metric));
    for (const auto& m : r.methods) {
        std::vector<double> values;
        for (const auto& metric : ll::rebalanceMetrics())
            if (metric != "accuracy") values.push_back(m.mean.at(metric));
        byMethod.push_back(std::move(values));
        recallByMethod.push_back(m.perClassRecall);
    }
    replaceChart(m_metrics,
                 barChart(tr("Metrics on the held-out part"), metricNames, methods, byMethod));
    QStringList classes;
    for (const auto& c : r.classes) classes << QString::fromStdString(c);
    replaceChart(m_recall, barChart(tr("Recall per class"), classes, methods, recallByMethod));

    // Table: a row per method, its metrics, the rows it trained on and those it made.
    QStringList header;
    for (const auto& metric : ll::rebalanceMetrics())
        header << QString::fromStdString(ll::rebalanceMetricLabel(metric));
    header << tr("training rows") << tr("synthetic");
    m_table->clear();
    m_table->setRowCount(int(r.methods.size()));
    m_table->setColumnCount(int(header.size()));
    m_table->setHorizontalHeaderLabels(header);
    m_table->setVerticalHeaderLabels(methods);
    for (int i = 0; i < int(r.methods.size()); ++i) {
        const auto& m = r.methods[std::size_t(i)];
        int c = 0;
        for (const auto& metric : ll::rebalanceMetrics())
            m_table->setItem(i, c++,
                             new QTableWidgetItem(meanSd(m.mean.at(metric), m.sd.at(metric))));
        std::int64_t rows = 0;
        for (auto n : m.trainCounts) rows += n;
        m_table->setItem(i, c++, new QTableWidgetItem(QString::number(rows)));
        m_table->setItem(i, c++, new QTableWidgetItem(QString::number(m.synthetic)));
    }

    // Samples: the methods that drew a figure, in the result's order.
    const QString shown = m_sampleMethod->currentData().toString();
    m_sampleMethod->blockSignals(true);
    m_sampleMethod->clear();
    for (const auto& m : r.methods)
        if (r.samples.contains(m.method))
            m_sampleMethod->addItem(QString::fromStdString(m.method),
                                    QString::fromStdString(m.method));
    m_sampleMethod->blockSignals(false);
    m_sampleMethod->setEnabled(m_sampleMethod->count() > 0);
    const int keep = m_sampleMethod->findData(shown);
    m_sampleMethod->setCurrentIndex(keep >= 0 ? keep : 0);
    showSamples(m_sampleMethod->currentData().toString());
    showResult();
}

QStringList RebalanceView::sampleMethods() const {
    QStringList out;
    for (int i = 0; i < m_sampleMethod->count(); ++i) out << m_sampleMethod->itemData(i).toString();
    return out;
}

bool RebalanceView::showSamples(const QString& method) {
    const auto it = m_result.samples.find(method.toStdString());
    QPixmap figure;
    if (it != m_result.samples.end()) figure.load(QString::fromStdString(it->second.string()));
    if (figure.isNull()) {
        m_samples->setPixmap({});
        m_samples->setText(m_result.images
                               ? tr("No samples figure: choose a method that makes rows "
                                    "(SMOTE or a generator).")
                               : tr("A table's rows have no picture: the numbers are in the "
                                    "table."));
        m_samples->setWordWrap(true);
        return false;
    }
    m_samples->setWordWrap(false);
    // Small images: drawn at twice their size, pixels kept sharp.
    m_samples->setPixmap(figure.width() < 400 ? figure.scaled(figure.size() * 2) : figure);
    const int at = m_sampleMethod->findData(method);
    if (at >= 0 && at != m_sampleMethod->currentIndex()) m_sampleMethod->setCurrentIndex(at);
    return true;
}

bool RebalanceView::showsSamples() const {
    return !m_samples->pixmap().isNull();
}

QString RebalanceView::captionText() const {
    return m_caption->text();
}

}  // namespace ll::widgets
