#pragma once

#include "classify/studypage.h"
#include "study/learningcurve.h"

class QChartView;
class QLabel;
class QTableWidget;

namespace ll::widgets {

/// The learning-curve study in the centre: held-out accuracy against training images per
/// class on a log axis, a line and a shaded band (mean +- sd over seeds) per method, each
/// crossing of a generative method with logistic regression marked and named; below, the
/// numbers as a table (a row per size, a column per method) and the crossings in words.
class CurveView : public StudyPage {
    Q_OBJECT
public:
    explicit CurveView(QWidget* parent = nullptr);

    void setResult(const ll::LearningCurveResult& result, const QString& folder);

    QChartView* chartView() const { return m_chart; }
    QTableWidget* table() const { return m_table; }
    QString crossingsText() const;

private:
    QLabel* m_caption;
    QChartView* m_chart;
    QTableWidget* m_table;
    QLabel* m_crossings;
};

}  // namespace ll::widgets
