#pragma once

#include <utility>
#include <vector>

#include <QStringList>
#include <QWidget>

namespace ll::widgets {

/// The row labels beside the grid, painted with QPainter for both renderers (a Vulkan window
/// cannot host text cheaply). Each label follows its row's on-screen span, so labels move
/// with zoom and pan. The strip is as wide as its longest label up to kMaxWidth; only a label
/// longer than that is cut, in the middle (class names differ at both ends: "Ankle boot",
/// "Sandal (guided)"), and shows whole as the row's tooltip.
class RowLabelStrip : public QWidget {
public:
    explicit RowLabelStrip(QWidget* parent = nullptr);

    /// Sets the labels; returns whether any is non-empty (the strip is worth showing).
    bool setLabels(const QStringList& labels);
    /// On-screen [top, bottom) of each row, in this widget's logical pixels.
    void setRowSpans(std::vector<std::pair<int, int>> spans);
    /// Width that fits the longest label, within sensible bounds.
    int preferredWidth() const;
    /// The text painted for a row: its label, or the label cut in the middle to fit.
    QString shownText(int row) const;
    /// The row whose span covers `y`, or -1.
    int rowAt(int y) const;

    /// Widest strip: a label beyond this is cut rather than squeezing the tiles.
    static constexpr int kMaxWidth = 240;

protected:
    bool event(QEvent* event) override;
    void paintEvent(QPaintEvent* event) override;

private:
    QStringList m_labels;
    std::vector<std::pair<int, int>> m_spans;
};

}  // namespace ll::widgets
