#pragma once

#include <cstdint>

#include <QImage>
#include <QList>

#include "classify/studypage.h"
#include "study/diffusionclassifier.h"

class QChartView;
class QLabel;
class QListWidget;

namespace ll::widgets {

class ConfusionGrid;

/// The diffusion classifier's result in the centre: accuracy beside the clean classifier's
/// and the evaluations per image; the confusion matrix and the accuracy-vs-evaluations chart;
/// a strip of the classified images (the true class, the chosen one); and, for the image
/// clicked there, why it went where it did: each class's mean error as bars and its error
/// against t as a line.
class DiffusionView : public StudyPage {
    Q_OBJECT
public:
    /// The images the strip shows at most.
    static constexpr int kStripImages = 48;

    explicit DiffusionView(QWidget* parent = nullptr);

    void setResult(const ll::DiffusionClassifyResult& result);
    const ll::DiffusionClassifyResult& result() const { return m_result; }
    /// The strip's pictures, in the result's image order (an empty image: none).
    void setImages(const QList<QImage>& images);
    void setExplanation(std::int64_t index, const ll::DiffusionExplanation& explanation);
    /// A line where the explanation goes (computing, failed, how to get one).
    void setExplainMessage(const QString& text);
    std::int64_t explainedIndex() const { return m_explained; }

    QString summaryText() const;
    ConfusionGrid* confusion() const { return m_confusion; }
    QChartView* budgetView() const { return m_budget; }
    QListWidget* strip() const { return m_strip; }
    QChartView* errorsView() const { return m_errors; }
    QChartView* curvesView() const { return m_curves; }

Q_SIGNALS:
    /// Image `index` (of the result, in data order) was clicked in the strip.
    void imageClicked(int index);

private:
    QLabel* m_summary;
    ConfusionGrid* m_confusion;
    QChartView* m_budget;
    QWidget* m_explain;  // the strip and the explanation below it
    QLabel* m_stripCaption;
    QListWidget* m_strip;
    QLabel* m_explainCaption;
    QChartView* m_errors;
    QChartView* m_curves;
    ll::DiffusionClassifyResult m_result;
    std::int64_t m_explained = -1;
};

}  // namespace ll::widgets
