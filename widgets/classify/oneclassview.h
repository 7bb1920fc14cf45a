#pragma once

#include "classify/studypage.h"
#include "study/oneclass.h"

class QChartView;
class QLabel;
class QScrollArea;
class QStackedWidget;
class QTableWidget;

namespace ll::widgets {

/// The one-class study in the centre: ROC curves (a line per model, the chance diagonal) and
/// PR curves of each model's first seed; a table of mean +- sd AUROC and classification rate
/// per model over the seeds; the t-test of chaotic-vae against vae (t, df, p); and the most
/// anomalous held-out items, as the picture core drew (images) or its rows (tables).
class OneClassView : public StudyPage {
    Q_OBJECT
public:
    explicit OneClassView(QWidget* parent = nullptr);

    void setResult(const ll::OneClassResult& result);

    QChartView* rocView() const { return m_roc; }
    QChartView* prView() const { return m_pr; }
    QTableWidget* table() const { return m_table; }
    QString ttestText() const;
    /// Whether the anomalies shown are a picture (images) or rows (a table), and how many rows.
    bool showsAnomalyPicture() const;
    int anomalyRows() const;

private:
    void showAnomalies(const QString& file);

    QLabel* m_caption;
    QChartView* m_roc;
    QChartView* m_pr;
    QTableWidget* m_table;
    QLabel* m_ttest;
    QStackedWidget* m_anomalies;
    QLabel* m_anomalyPicture;
    QTableWidget* m_anomalyRows;
};

}  // namespace ll::widgets
