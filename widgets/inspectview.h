#pragma once

#include <filesystem>
#include <vector>

#include <QWidget>

#include "eval/evaluate.h"

class QComboBox;
class QLabel;
class QTabWidget;
class QTableWidget;

namespace ll::widgets {

class CellMap;
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

/// The data-copying cells on the 2-D PCA map: training points coloured by their cell's Z
/// (red: samples closer to the training images than unseen images are, i.e. copying; blue:
/// farther, i.e. underfitting), centroids as numbered discs. A click picks a cell.
class CellMap : public QWidget {
    Q_OBJECT
public:
    explicit CellMap(QWidget* parent = nullptr);
    void setRecord(const ll::EvalRecord* record);
    int selectedCell() const { return m_selected; }
    void selectCell(int cell);
    /// Where a cell's disc is drawn (widget coordinates), for tests and hit-testing.
    QPointF cellPosition(int cell) const;

Q_SIGNALS:
    void cellClicked(int cell);

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;

private:
    QPointF toWidget(double x, double y) const;

    const ll::EvalRecord* m_record = nullptr;
    double m_minX = 0, m_maxX = 1, m_minY = 0, m_maxY = 1;
    int m_selected = -1;
};

}  // namespace ll::widgets
