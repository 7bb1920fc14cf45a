#pragma once

#include <QPointF>
#include <QWidget>

#include "eval/evaluate.h"

namespace ll::widgets {

/// Inspect's data-copying cells on the 2-D PCA map: training points coloured by their cell's Z
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
