#include "classify/oneclassview.h"

#include <cmath>

#include <QChart>
#include <QChartView>
#include <QFile>
#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QLineSeries>
#include <QScrollArea>
#include <QSplitter>
#include <QStackedWidget>
#include <QTableWidget>
#include <QTextStream>
#include <QVBoxLayout>
#include <QValueAxis>

#include "common/csvtext.h"

namespace ll::widgets {

namespace {

QChartView* chartView(const char* name) {
    auto* view = new QChartView(new QChart);
    view->setObjectName(QLatin1String(name));
    view->setRenderHint(QPainter::Antialiasing);
    view->setMinimumSize(240, 200);
    return view;
}

QChart* unitChart(const QString& title, const QString& xTitle, const QString& yTitle,
                  QValueAxis*& x, QValueAxis*& y) {
    auto* chart = new QChart;
    chart->setMargins(QMargins(4, 4, 4, 4));
    chart->setTitle(title);
    x = new QValueAxis;
    y = new QValueAxis;
    x->setTitleText(xTitle);
    y->setTitleText(yTitle);
    x->setRange(0, 1);
    y->setRange(0, 1);
    x->setTickCount(5);
    y->setTickCount(5);
    x->setLabelFormat(QStringLiteral("%.2g"));
    y->setLabelFormat(QStringLiteral("%.2g"));
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    chart->legend()->setAlignment(Qt::AlignBottom);
    QFont small = chart->legend()->font();
    small.setPointSizeF(small.pointSizeF() * 0.85);
    chart->legend()->setFont(small);
    return chart;
}

void add(QChart* chart, QLineSeries* s, QValueAxis* x, QValueAxis* y) {
    chart->addSeries(s);
    s->attachAxis(x);
    s->attachAxis(y);
}

void replaceChart(QChartView* view, QChart* chart) {
    QChart* old = view->chart();
    view->setChart(chart);
    delete old;
}

QString meanSd(double mean, double sd) {
    return QStringLiteral("%1 ± %2").arg(mean, 0, 'f', 3).arg(sd, 0, 'f', 3);
}

}  // namespace

OneClassView::OneClassView(QWidget* parent) : StudyPage(parent) {
    m_caption = new QLabel;
    m_caption->setObjectName(QStringLiteral("oneClassCaption"));
    m_caption->setWordWrap(true);
    m_roc = chartView("rocChart");
    m_pr = chartView("prChart");
    m_table = new QTableWidget;
    m_table->setObjectName(QStringLiteral("oneClassTable"));
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setColumnCount(4);
    m_table->setHorizontalHeaderLabels({tr("Model"), tr("AUROC"), tr("Rate"), tr("Seeds")});
    m_table->horizontalHeaderItem(1)->setToolTip(
        tr("Area under the ROC curve, mean ± sd over "
           "the seeds"));
    m_table->horizontalHeaderItem(2)->setToolTip(
        tr("Classification rate at the threshold, "
           "mean ± sd over the seeds"));
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->verticalHeader()->setVisible(false);
    m_table->setMinimumHeight(110);
    m_ttest = new QLabel;
    m_ttest->setObjectName(QStringLiteral("oneClassTTest"));
    m_ttest->setWordWrap(true);
    m_anomalyPicture = new QLabel;
    m_anomalyPicture->setObjectName(QStringLiteral("oneClassAnomalies"));
    m_anomalyPicture->setAlignment(Qt::AlignCenter);
    auto* pictureScroll = new QScrollArea;
    pictureScroll->setWidget(m_anomalyPicture);
    pictureScroll->setWidgetResizable(true);
    m_anomalyRows = new QTableWidget;
    m_anomalyRows->setObjectName(QStringLiteral("oneClassAnomalyRows"));
    m_anomalyRows->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_anomalies = new QStackedWidget;
    m_anomalies->addWidget(pictureScroll);
    m_anomalies->addWidget(m_anomalyRows);

    auto* numbers = new QWidget;
    auto* numbersLayout = new QVBoxLayout(numbers);
    numbersLayout->setContentsMargins(0, 0, 0, 0);
    numbersLayout->addWidget(m_table, 1);
    numbersLayout->addWidget(m_ttest);
    auto* charts = splitOf(Qt::Horizontal, {m_roc, m_pr}, {1, 1});
    auto* lower = splitOf(Qt::Horizontal, {numbers, m_anomalies}, {1, 1});
    setPage(m_caption, splitOf(Qt::Vertical, {charts, lower}, {3, 2}));
    setMessage(tr("Load a dataset in the Data mode, choose its normal class and press Start."));
}

void OneClassView::setResult(const ll::OneClassResult& r) {
    m_caption->setText(tr("Normal class <b>%1</b>: trained on %2 normal rows (%3 held for the "
                          "threshold), tested on %4 normal and %5 anomalous; AUROC and rate are "
                          "mean ± sd over the seeds. %6")
                           .arg(QString::fromStdString(r.normalClass).toHtmlEscaped())
                           .arg(r.trainRows)
                           .arg(r.validationRows)
                           .arg(r.testNormal)
                           .arg(r.testAnomalous)
                           .arg(QString::fromStdString(r.out.string()).toHtmlEscaped()));

    QValueAxis *rx, *ry, *px, *py;
    auto* roc = unitChart(tr("ROC (each model's first seed)"), tr("false positive rate"),
                          tr("true positive rate"), rx, ry);
    auto* pr = unitChart(tr("Precision-recall (anomalous is positive)"), tr("recall"),
                         tr("precision"), px, py);
    for (const auto& m : r.models) {
        const ll::OneClassRun* shown = nullptr;
        for (const auto& run : r.runs)
            if (run.model == m.model && !run.roc.fpr.empty()) {
                shown = &run;
                break;
            }
        if (!shown) continue;
        const QString name = QString::fromStdString(ll::oneClassModelName(m.model));
        auto* rocLine = new QLineSeries;
        rocLine->setName(name);  // the AUROC is in the table below
        for (std::size_t i = 0; i < shown->roc.fpr.size() && i < shown->roc.tpr.size(); ++i)
            rocLine->append(shown->roc.fpr[i], shown->roc.tpr[i]);
        add(roc, rocLine, rx, ry);
        auto* prLine = new QLineSeries;
        prLine->setName(name);
        for (std::size_t i = 0; i < shown->pr.recall.size() && i < shown->pr.precision.size(); ++i)
            prLine->append(shown->pr.recall[i], shown->pr.precision[i]);
        add(pr, prLine, px, py);
    }
    auto* chance = new QLineSeries;
    chance->setName(tr("chance"));
    chance->append(0, 0);
    chance->append(1, 1);
    add(roc, chance, rx, ry);
    QPen dashed(QColor(0x80, 0x80, 0x80));
    dashed.setStyle(Qt::DashLine);
    chance->setPen(dashed);
    replaceChart(m_roc, roc);
    replaceChart(m_pr, pr);

    m_table->setRowCount(int(r.models.size()));
    for (std::size_t i = 0; i < r.models.size(); ++i) {
        const auto& m = r.models[i];
        const int row = int(i);
        auto* model = new QTableWidgetItem(QString::fromStdString(ll::oneClassModelName(m.model)));
        model->setToolTip(tr("Scored by %1").arg(QString::fromStdString(m.headline)));
        m_table->setItem(row, 0, model);
        m_table->setItem(row, 1, new QTableWidgetItem(meanSd(m.aurocMean, m.aurocSd)));
        m_table->setItem(row, 2, new QTableWidgetItem(meanSd(m.rateMean, m.rateSd)));
        m_table->setItem(row, 3, new QTableWidgetItem(QString::number(m.seeds.size())));
    }
    if (r.ttest)
        m_ttest->setText(tr("chaotic-vae against vae (headline AUROC per seed): t = %1, df = %2, "
                            "p = %3")
                             .arg(r.ttest->t, 0, 'f', 3)
                             .arg(r.ttest->df, 0, 'f', 0)
                             .arg(r.ttest->p, 0, 'g', 3));
    else
        m_ttest->setText(tr("No t-test: it needs vae and chaotic-vae on two seeds at least."));
    showAnomalies(QString::fromStdString(r.anomalies.string()));
    showResult();
}

void OneClassView::showAnomalies(const QString& file) {
    m_anomalyPicture->clear();
    m_anomalyRows->clear();
    m_anomalyRows->setRowCount(0);
    m_anomalyRows->setColumnCount(0);
    if (file.endsWith(QStringLiteral(".png"), Qt::CaseInsensitive)) {
        const QPixmap picture(file);
        if (picture.isNull())
            m_anomalyPicture->setText(tr("No picture of the anomalies at %1").arg(file));
        else
            m_anomalyPicture->setPixmap(picture);
        m_anomalies->setCurrentIndex(0);
        return;
    }
    m_anomalies->setCurrentIndex(1);
    QFile f(file);
    if (file.isEmpty() || !f.open(QIODevice::ReadOnly | QIODevice::Text)) return;
    // The CSV core wrote: a header, then the most anomalous rows, most anomalous first.
    QTextStream in(&f);
    bool header = true;
    while (!in.atEnd()) {
        const auto cells = ll::splitCsvLine(in.readLine().toStdString());
        if (header) {
            m_anomalyRows->setColumnCount(int(cells.size()));
            QStringList names;
            for (const auto& c : cells) names << QString::fromStdString(c);
            m_anomalyRows->setHorizontalHeaderLabels(names);
            header = false;
            continue;
        }
        const int row = m_anomalyRows->rowCount();
        m_anomalyRows->insertRow(row);
        for (std::size_t c = 0; c < cells.size() && int(c) < m_anomalyRows->columnCount(); ++c)
            m_anomalyRows->setItem(row, int(c),
                                   new QTableWidgetItem(QString::fromStdString(cells[c])));
    }
}

QString OneClassView::ttestText() const {
    return m_ttest->text();
}

bool OneClassView::showsAnomalyPicture() const {
    return m_anomalies->currentIndex() == 0;
}

int OneClassView::anomalyRows() const {
    return m_anomalyRows->rowCount();
}

}  // namespace ll::widgets
