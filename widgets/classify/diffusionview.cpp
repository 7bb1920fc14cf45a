#include "classify/diffusionview.h"

#include <algorithm>

#include <QChart>
#include <QChartView>
#include <QFileInfo>
#include <QLabel>
#include <QListWidget>
#include <QSplitter>
#include <QVBoxLayout>

#include "classify/confusiongrid.h"
#include "classify/diffusioncharts.h"

namespace ll::widgets {

namespace {

QChartView* chartView(const char* name) {
    auto* view = new QChartView(titledChart(QString()));
    view->setObjectName(QLatin1String(name));
    view->setRenderHint(QPainter::Antialiasing);
    view->setMinimumSize(240, 180);
    return view;
}

void replaceChart(QChartView* view, QChart* chart) {
    QChart* old = view->chart();
    view->setChart(chart);
    delete old;
}

QString percent(double v) {
    return QStringLiteral("%1%").arg(100.0 * v, 0, 'f', 1);
}

QString className(const ll::DiffusionClassifyResult& r, int k) {
    return k >= 0 && std::size_t(k) < r.classes.size()
               ? QString::fromStdString(r.classes[std::size_t(k)])
               : QString::number(k);
}

}  // namespace

DiffusionView::DiffusionView(QWidget* parent) : StudyPage(parent) {
    m_summary = new QLabel;
    m_summary->setObjectName(QStringLiteral("diffusionAccuracy"));
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_confusion = new ConfusionGrid;
    m_budget = chartView("budgetChart");
    m_stripCaption = new QLabel;
    m_strip = new QListWidget;
    m_strip->setObjectName(QStringLiteral("classifiedStrip"));
    m_strip->setViewMode(QListView::IconMode);
    m_strip->setFlow(QListView::LeftToRight);
    m_strip->setWrapping(false);
    m_strip->setMovement(QListView::Static);
    m_strip->setIconSize(QSize(48, 48));
    m_strip->setGridSize(QSize(86, 82));
    m_strip->setFixedHeight(104);
    m_strip->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOn);
    m_explainCaption = new QLabel;
    m_explainCaption->setObjectName(QStringLiteral("explainCaption"));
    m_explainCaption->setWordWrap(true);
    m_errors = chartView("explainErrors");
    m_curves = chartView("explainCurves");

    m_explain = new QWidget;
    auto* explain = m_explain;
    auto* explainLayout = new QVBoxLayout(explain);
    explainLayout->setContentsMargins(0, 0, 0, 0);
    explainLayout->addWidget(m_stripCaption);
    explainLayout->addWidget(m_strip);
    explainLayout->addWidget(m_explainCaption);
    explainLayout->addWidget(splitOf(Qt::Horizontal, {m_errors, m_curves}, {1, 1}), 1);
    auto* top = splitOf(Qt::Horizontal, {m_confusion, m_budget}, {1, 1});
    setPage(m_summary, splitOf(Qt::Vertical, {top, explain}, {1, 1}));

    connect(m_strip, &QListWidget::itemClicked, this,
            [this](QListWidgetItem* item) { Q_EMIT imageClicked(m_strip->row(item)); });
    setMessage(tr("Select a ddpm or latent-ddpm run and press Start."));
}

void DiffusionView::setResult(const ll::DiffusionClassifyResult& r) {
    m_result = r;
    m_explained = -1;
    QString text = tr("<b>Accuracy %1</b> on %2 images").arg(percent(r.accuracy)).arg(r.count);
    if (r.baselineAccuracy)
        text += tr(", beside <b>%1</b> for the clean classifier%2")
                    .arg(percent(*r.baselineAccuracy))
                    .arg(r.baselineName.empty()
                             ? QString()
                             : QStringLiteral(" (%1)").arg(
                                   QFileInfo(QString::fromStdString(r.baselineName)).fileName()));
    else if (!r.baselineNote.empty())
        text += tr(" (no clean classifier: %1)").arg(QString::fromStdString(r.baselineNote));
    text += QStringLiteral("<br>");
    if (r.evaluationsPerImage > 0)
        text += tr("%1 network evaluations per image").arg(r.evaluationsPerImage, 0, 'g', 4);
    if (r.unprunedAccuracy)
        text += tr("; unpruned: %1 at %2")
                    .arg(percent(*r.unprunedAccuracy))
                    .arg(r.unprunedEvaluationsPerImage, 0, 'f', 0);
    if (r.imagesPerSecond > 0) text += tr("; %1 images/s").arg(r.imagesPerSecond, 0, 'g', 3);
    text += tr(". %1 at step %2").arg(QString::fromStdString(r.model)).arg(r.step);
    if (r.resumedImages > 0) text += tr(", %1 images from earlier parts").arg(r.resumedImages);
    text += QStringLiteral(".");
    const int n = std::min<int>(kStripImages, int(std::min(r.labels.size(), r.predictions.size())));
    if (n == 0)
        text +=
            tr("<br><i>This record keeps no per-image choices: start the study again to click "
               "through its images and see why each went where it did.</i>");
    m_summary->setText(text);
    m_confusion->setMatrix(r.confusion, r.classes);
    replaceChart(m_budget, budgetChart(r));

    m_strip->clear();
    for (int i = 0; i < n; ++i) {
        const int label = r.labels[std::size_t(i)], chosen = r.predictions[std::size_t(i)];
        auto* item = new QListWidgetItem(className(r, chosen));
        item->setToolTip(tr("Image %1: a %2, classified as %3. Click to see why.")
                             .arg(i)
                             .arg(className(r, label), className(r, chosen)));
        if (label != chosen) item->setBackground(QColor(0xc0, 0x39, 0x2b, 70));
        m_strip->addItem(item);
    }
    // Without per-image choices there is nothing to click through.
    m_explain->setVisible(n > 0);
    m_stripCaption->setText(tr("The first %1 images, labelled with the class each went to (red: "
                               "wrong). Click one to see why.")
                                .arg(n));
    replaceChart(m_errors, titledChart(QString()));
    replaceChart(m_curves, titledChart(QString()));
    setExplainMessage(n > 0 ? tr("Click an image above.") : QString());
    showResult();
}

void DiffusionView::setImages(const QList<QImage>& images) {
    for (int i = 0; i < m_strip->count() && i < images.size(); ++i)
        if (!images[i].isNull())
            m_strip->item(i)->setIcon(QPixmap::fromImage(
                images[i].scaled(48, 48, Qt::KeepAspectRatio, Qt::FastTransformation)));
}

void DiffusionView::setExplanation(std::int64_t index, const ll::DiffusionExplanation& e) {
    m_explained = index;
    if (index >= 0 && index < m_strip->count()) m_strip->setCurrentRow(int(index));
    const auto name = [&](int k) {
        return k >= 0 && std::size_t(k) < e.classes.size()
                   ? QString::fromStdString(e.classes[std::size_t(k)])
                   : tr("unknown");
    };
    m_explainCaption->setText(
        tr("Image %1 (a %2) went to <b>%3</b>: its conditional denoising error was the lowest, "
           "over %4 timesteps (%5 network evaluations, every class unpruned).")
            .arg(index)
            .arg(name(e.label), name(e.predicted))
            .arg(e.timesteps.size())
            .arg(e.evaluations));
    replaceChart(m_errors, errorBarsChart(e));
    replaceChart(m_curves, errorCurvesChart(e));
}

void DiffusionView::setExplainMessage(const QString& text) {
    m_explainCaption->setText(text);
}

QString DiffusionView::summaryText() const {
    return m_summary->text();
}

}  // namespace ll::widgets
