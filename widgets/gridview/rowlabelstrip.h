#pragma once

#include <utility>
#include <vector>

#include <QStringList>
#include <QWidget>

namespace ll::widgets {

/// The row labels beside the grid, painted with QPainter for both renderers (a Vulkan window
/// cannot host text cheaply). Each label follows its row's on-screen span, so labels move
/// with zoom and pan.
class RowLabelStrip : public QWidget {
public:
    explicit RowLabelStrip(QWidget* parent = nullptr);

    /// Sets the labels; returns whether any is non-empty (the strip is worth showing).
    bool setLabels(const QStringList& labels);
    /// On-screen [top, bottom) of each row, in this widget's logical pixels.
    void setRowSpans(std::vector<std::pair<int, int>> spans);
    /// Width that fits the longest label, within sensible bounds.
    int preferredWidth() const;

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    QStringList m_labels;
    std::vector<std::pair<int, int>> m_spans;
};

}  // namespace ll::widgets
