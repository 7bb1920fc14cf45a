#pragma once

#include <QWidget>

namespace ll::widgets {

/// A horizontal slider with two handles over [0, 1]: the guidance interval. Drag a handle,
/// or press near one; the handles never cross. rangeChanged() fires while dragging,
/// released() when the mouse lets go (the full-quality redraw).
class RangeSlider : public QWidget {
    Q_OBJECT
public:
    explicit RangeSlider(QWidget* parent = nullptr);

    double lower() const { return m_lower; }
    double upper() const { return m_upper; }
    void setRange(double lower, double upper);
    bool isDragging() const { return m_handle >= 0; }
    QSize sizeHint() const override { return {200, 26}; }

Q_SIGNALS:
    void rangeChanged(double lower, double upper);
    void released();

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;

private:
    double valueAt(double x) const;
    double xOf(double value) const;

    double m_lower = 0;
    double m_upper = 1;
    int m_handle = -1;  // 0 lower, 1 upper, -1 none
};

}  // namespace ll::widgets
