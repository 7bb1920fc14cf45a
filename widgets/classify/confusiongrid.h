#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <QWidget>

namespace ll::widgets {

/// A confusion matrix as a coloured grid: rows the true class, columns the chosen one, each
/// cell its count, shaded by the share of its row (the diagonal green, the rest red), the
/// class names along both sides. Hovering a cell says what it counts.
class ConfusionGrid : public QWidget {
    Q_OBJECT
public:
    explicit ConfusionGrid(QWidget* parent = nullptr);

    void setMatrix(const std::vector<std::vector<std::int64_t>>& counts,
                   const std::vector<std::string>& classes);
    const std::vector<std::vector<std::int64_t>>& counts() const { return m_counts; }
    /// The cell under `pos` as (row, column), or (-1, -1).
    std::pair<int, int> cellAt(const QPoint& pos) const;

    QSize sizeHint() const override { return {420, 360}; }
    QSize minimumSizeHint() const override { return {220, 200}; }

protected:
    void paintEvent(QPaintEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;

private:
    /// The grid's square area and a cell's side, for the widget's size now.
    QRect gridRect() const;
    int labelWidth() const;

    std::vector<std::vector<std::int64_t>> m_counts;
    std::vector<QString> m_classes;
};

}  // namespace ll::widgets
