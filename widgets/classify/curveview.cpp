#include "classify/curveview.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <QAreaSeries>
#include <QChart>
#include <QChartView>
#include <QHeaderView>
#include <QLabel>
#include <QLegendMarker>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QScatterSeries>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>
#include <QValueAxis>

namespace ll::widgets {

namespace {

// A colour per method, the same for its line and its band.
QColor methodColour(int i) {
    static const QColor kColours[] = {QColor(0x1f, 0x77, 0xb4), QColor(0xff, 0x7f, 0x0e),
                                      QColor(0x2c, 0xa0, 0x2c), QColor(0xd6, 0x27, 0x28),
                                      QColor(0x94, 0x67, 0xbd), QColor(0x8c, 0x56, 0x4b)};
    return kColours[i % 6];
}

QString cell(const ll::CurvePoint& p) {
    return QStringLiteral("%1 ± %2").arg(p.mean, 0, 'f', 3).arg(p.sd, 0, 'f', 3);
}

}  // namespace

CurveView::CurveView(QWidget* parent) : StudyPage(parent) {
    m_caption = new QLabel;
    m_caption->setObjectName(QStringLiteral("curveCaption"));
    m_caption->setWordWrap(true);
    m_chart = new QChartView(new QChart);
    m_chart->setObjectName(QStringLiteral("curveChart"));
    m_chart->setRenderHint(QPainter::Antialiasing);
    m_chart->setMinimumHeight(260);
    m_table = new QTableWidget;
    m_table->setObjectName(QStringLiteral("curveTable"));
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    m_crossings = new QLabel;
    m_crossings->setObjectName(QStringLiteral("curveCrossings"));
    m_crossings->setWordWrap(true);
    auto* lower = new QWidget;
    auto* lowerLayout = new QVBoxLayout(lower);
    lowerLayout->setContentsMargins(0, 0, 0, 0);
    lowerLayout->addWidget(m_crossings);
    lowerLayout->addWidget(m_table, 1);
    setPage(m_caption, splitOf(Qt::Vertical, {m_chart, lower}, {3, 1}));
    setMessage(tr("Load a dataset in the Data mode, choose the methods and press Start."));
}

void CurveView::setResult(const ll::LearningCurveResult& r, const QString& folder) {
    m_caption->setText(tr("Held-out accuracy against training images per class, on %1 features "
                          "(%2 dimensions); %3 rows for training, %4 held out. %5")
                           .arg(QString::fromStdString(r.features))
                           .arg(r.featureDim)
                           .arg(r.trainRows)
                           .arg(r.heldOutRows)
                           .arg(folder));

    // Methods in the result's order, each with its points by size.
    std::vector<std::string> methods;
    std::map<std::string, std::vector<const ll::CurvePoint*>> byMethod;
    std::set<std::int64_t> sizes;
    for (const auto& p : r.curves) {
        if (!byMethod.contains(p.method)) methods.push_back(p.method);
        byMethod[p.method].push_back(&p);
        sizes.insert(p.size);
    }

    auto* chart = new QChart;
    chart->setMargins(QMargins(4, 4, 4, 4));
    chart->setTitle(tr("Generative vs discriminative: accuracy (band: mean ± sd over seeds)"));
    auto* x = new QLogValueAxis;
    x->setBase(10);
    x->setLabelFormat(QStringLiteral("%g"));
    x->setMinorTickCount(8);
    x->setTitleText(tr("training images per class"));
    auto* y = new QValueAxis;
    y->setTitleText(tr("held-out accuracy"));
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    double lo = 1, hi = 0;
    for (std::size_t m = 0; m < methods.size(); ++m) {
        const QColor colour = methodColour(int(m));
        auto* line = new QLineSeries;
        line->setName(QString::fromStdString(methods[m]));
        line->setPointsVisible(true);
        auto* upper = new QLineSeries;
        auto* lower = new QLineSeries;
        for (const auto* p : byMethod[methods[m]]) {
            line->append(double(p->size), p->mean);
            upper->append(double(p->size), p->mean + p->sd);
            lower->append(double(p->size), p->mean - p->sd);
            lo = std::min(lo, p->mean - p->sd);
            hi = std::max(hi, p->mean + p->sd);
        }
        auto* band = new QAreaSeries(upper, lower);
        upper->setParent(band);  // an area series does not own its edges
        lower->setParent(band);
        band->setName(QString::fromStdString(methods[m]) + tr(" ± sd"));
        chart->addSeries(band);
        chart->addSeries(line);
        for (auto* s : {static_cast<QAbstractSeries*>(band), static_cast<QAbstractSeries*>(line)}) {
            s->attachAxis(x);
            s->attachAxis(y);
        }
        QColor fill = colour;
        fill.setAlpha(50);
        band->setBrush(fill);
        band->setPen(Qt::NoPen);
        QPen pen(colour);
        pen.setWidth(2);
        line->setPen(pen);
        line->setColor(colour);
        for (auto* marker : chart->legend()->markers(band)) marker->setVisible(false);
    }
    for (const auto& c : r.crossings) {
        if (!c.found) continue;
        auto* point = new QScatterSeries;
        point->setName(
            tr("%1 meets %2 at %3 per class")
                .arg(QString::fromStdString(c.generative), QString::fromStdString(c.discriminative))
                .arg(c.size, 0, 'f', 0));
        point->setMarkerShape(QScatterSeries::MarkerShapeRectangle);
        point->setMarkerSize(13);
        point->append(c.size, c.accuracy);
        point->setPointLabelsVisible(true);
        point->setPointLabelsFormat(QString::fromStdString(c.generative) + QStringLiteral(" × ") +
                                    QString::fromStdString(c.discriminative));
        chart->addSeries(point);
        point->attachAxis(x);
        point->attachAxis(y);
        point->setColor(QColor(0x20, 0x20, 0x20));
    }
    if (!sizes.empty()) x->setRange(double(*sizes.begin()) / 1.3, double(*sizes.rbegin()) * 1.3);
    y->setRange(std::max(0.0, lo - 0.02), std::min(1.0, hi + 0.02));
    y->applyNiceNumbers();
    y->setLabelFormat(QStringLiteral("%.2f"));
    chart->legend()->setAlignment(Qt::AlignBottom);
    QChart* old = m_chart->chart();
    m_chart->setChart(chart);
    delete old;

    // The numbers: a row per size, a column per method.
    m_table->clear();
    m_table->setRowCount(int(sizes.size()));
    m_table->setColumnCount(int(methods.size()));
    QStringList headers;
    for (const auto& m : methods) headers << QString::fromStdString(m);
    m_table->setHorizontalHeaderLabels(headers);
    QStringList rows;
    for (auto s : sizes) rows << tr("%1 per class").arg(s);
    m_table->setVerticalHeaderLabels(rows);
    const std::vector<std::int64_t> sizeList(sizes.begin(), sizes.end());
    for (std::size_t m = 0; m < methods.size(); ++m)
        for (const auto* p : byMethod[methods[m]]) {
            const auto row =
                std::find(sizeList.begin(), sizeList.end(), p->size) - sizeList.begin();
            m_table->setItem(int(row), int(m), new QTableWidgetItem(cell(*p)));
        }

    QStringList crossings;
    for (const auto& c : r.crossings)
        crossings << (c.found ? tr("<b>%1</b> stops beating %2 at about %3 images per class "
                                   "(accuracy %4).")
                                    .arg(QString::fromStdString(c.generative),
                                         QString::fromStdString(c.discriminative))
                                    .arg(c.size, 0, 'f', 0)
                                    .arg(c.accuracy, 0, 'f', 3)
                              : tr("%1 against %2: %3")
                                    .arg(QString::fromStdString(c.generative),
                                         QString::fromStdString(c.discriminative),
                                         QString::fromStdString(c.note)));
    m_crossings->setText(crossings.isEmpty() ? tr("No crossings (a generative method and "
                                                  "logistic regression are needed).")
                                             : crossings.join(QStringLiteral("<br>")));
    showResult();
}

QString CurveView::crossingsText() const {
    return m_crossings->text();
}

}  // namespace ll::widgets
