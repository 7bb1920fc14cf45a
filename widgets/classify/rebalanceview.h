#pragma once

#include <QStringList>

#include "classify/studypage.h"
#include "study/rebalance.h"

class QChartView;
class QComboBox;
class QLabel;
class QTableWidget;

namespace ll::widgets {

/// The imbalance lab's result in the centre: the methods side by side on each metric and on
/// each class's recall (horizontal bars, a colour per method); below, the numbers as a
/// table (mean ± sd over seeds, the rows each method added) and a method's synthetic minority
/// samples beside their nearest real one (SMOTE's between both parents), as core drew them.
class RebalanceView : public StudyPage {
    Q_OBJECT
public:
    explicit RebalanceView(QWidget* parent = nullptr);

    void setResult(const ll::RebalanceResult& result, const QString& folder);

    QChartView* metricsView() const { return m_metrics; }
    QChartView* recallView() const { return m_recall; }
    QTableWidget* table() const { return m_table; }
    /// The methods with a samples figure, in the chooser's order.
    QStringList sampleMethods() const;
    /// Shows `method`'s samples figure; false when it has none.
    bool showSamples(const QString& method);
    /// Whether a samples figure is shown.
    bool showsSamples() const;
    QString captionText() const;

private:
    ll::RebalanceResult m_result;
    QLabel* m_caption;
    QChartView* m_metrics;
    QChartView* m_recall;
    QTableWidget* m_table;
    QComboBox* m_sampleMethod;
    QLabel* m_samples;
};

}  // namespace ll::widgets
