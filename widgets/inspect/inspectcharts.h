#pragma once

#include <cstdint>
#include <vector>

#include <QChartView>
#include <QWidget>

#include "eval/evaluate.h"

class QComboBox;
class QLabel;

namespace ll::widgets {

/// Inspect's "Over steps" tab: a metric (and its real-vs-real floor, dashed) against the
/// checkpoint step; a click on a point shows the sample grid the run saved at that step.
class MetricsOverSteps : public QWidget {
    Q_OBJECT
public:
    explicit MetricsOverSteps(QWidget* parent = nullptr);

    /// The run's records (kept by the caller, which outlives this chart's use of them).
    void setRecords(const QString& runDir, const std::vector<ll::EvalRecord>* records);
    /// Shows the samples the run saved at `step` (the grid of that checkpoint).
    void showStep(std::int64_t step);
    std::int64_t shownStep() const { return m_shownStep; }
    int pointCount() const { return m_points; }
    /// Shows `metric` ("fid", "precision", ...); false when no record holds it. For reports.
    bool showMetric(const QString& metric);
    /// The chart alone, without the metric chooser and the samples (reports paint it).
    QChartView* chartView() const { return m_view; }

private:
    void redraw();

    QString m_runDir;
    const std::vector<ll::EvalRecord>* m_records = nullptr;
    QComboBox* m_metric;
    QChartView* m_view;
    QLabel* m_samples;
    std::int64_t m_shownStep = -1;
    int m_points = 0;
};

/// Inspect's "Classes" tab: how many samples the classifier puts in each class, against as
/// many real images.
class ClassChart : public QChartView {
    Q_OBJECT
public:
    explicit ClassChart(QWidget* parent = nullptr);
    void setRecord(const ll::EvalRecord* record);
};

/// Inspect's "Guidance sweep" tab: scores against the guidance weight, and precision against
/// recall (the fidelity-diversity trade-off), for the records of one step.
class SweepCharts : public QWidget {
    Q_OBJECT
public:
    explicit SweepCharts(QWidget* parent = nullptr);
    void setRecords(const std::vector<ll::EvalRecord>& records, std::int64_t step);
    /// Each chart alone (reports paint them).
    QChartView* byWeightView() const { return m_byWeight; }
    QChartView* tradeOffView() const { return m_tradeOff; }

private:
    QChartView* m_byWeight;
    QChartView* m_tradeOff;
};

}  // namespace ll::widgets
