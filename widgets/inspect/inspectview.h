#pragma once

#include <filesystem>
#include <vector>

#include <QWidget>

#include "eval/evaluate.h"
#include "inspect/cellmap.h"

class QComboBox;
class QLabel;
class QTabWidget;
class QTableWidget;

namespace ll::widgets {

class MetricsOverSteps;
class SweepCharts;
class ClassChart;

/// The Inspect mode's centre (design.md): the run's evaluation records, read from
/// <run>/eval. A record chooser, then tabs: the scores beside their floors; metrics over
/// training steps (a point opens that step's samples); nearest-neighbour pairs, closest
/// first; the data-copying cells on a PCA map of the training features, coloured by Z (a
/// click lists the cell's samples beside their neighbours); the class histogram; and the
/// guidance sweep's fidelity-diversity curves.
class InspectView : public QWidget {
    Q_OBJECT
public:
    explicit InspectView(QWidget* parent = nullptr);

    /// Reads the run's records; `select` (a record file) becomes the shown one, else the
    /// newest step.
    void setRun(const QString& runDir, const QString& select = {});
    const std::vector<ll::EvalRecord>& records() const { return m_records; }
    const ll::EvalRecord* current() const;
    QTabWidget* tabs() const { return m_tabs; }
    QTableWidget* scoreTable() const { return m_scores; }
    QTableWidget* neighbourTable() const { return m_neighbours; }
    CellMap* cellMap() const { return m_cellMap; }
    /// Points of the metrics-over-steps chart now.
    int overStepsPointCount() const;

private:
    void showRecord(int index);
    void showCell(int cell);

    QString m_runDir;
    std::vector<ll::EvalRecord> m_records;
    QLabel* m_empty;
    QComboBox* m_record;
    QLabel* m_protocol;
    QTabWidget* m_tabs;
    QTableWidget* m_scores;
    MetricsOverSteps* m_overSteps;
    QTableWidget* m_neighbours;
    CellMap* m_cellMap;
    QLabel* m_cellInfo;
    QTableWidget* m_cellPairs;
    ClassChart* m_classes;
    SweepCharts* m_sweep;
};

}  // namespace ll::widgets
