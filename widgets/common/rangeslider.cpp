#include "common/rangeslider.h"

#include <algorithm>
#include <cmath>

#include <QMouseEvent>
#include <QPainter>

namespace ll::widgets {

namespace {
constexpr double kMargin = 8;
constexpr double kMinGap = 0.01;
}  // namespace

RangeSlider::RangeSlider(QWidget* parent) : QWidget(parent) {
    setMinimumHeight(24);
    setMouseTracking(false);
    setFocusPolicy(Qt::StrongFocus);
}

void RangeSlider::setRange(double lower, double upper) {
    lower = std::clamp(lower, 0.0, 1.0 - kMinGap);
    upper = std::clamp(upper, lower + kMinGap, 1.0);
    if (lower == m_lower && upper == m_upper) return;
    m_lower = lower;
    m_upper = upper;
    update();
    Q_EMIT rangeChanged(m_lower, m_upper);
}

double RangeSlider::xOf(double value) const {
    return kMargin + value * (width() - 2 * kMargin);
}

double RangeSlider::valueAt(double x) const {
    return std::clamp((x - kMargin) / std::max(1.0, width() - 2 * kMargin), 0.0, 1.0);
}

void RangeSlider::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    const double y = height() / 2.0;
    p.setPen(QPen(palette().mid().color(), 4, Qt::SolidLine, Qt::RoundCap));
    p.drawLine(QPointF(kMargin, y), QPointF(width() - kMargin, y));
    p.setPen(QPen(palette().highlight().color(), 4, Qt::SolidLine, Qt::RoundCap));
    p.drawLine(QPointF(xOf(m_lower), y), QPointF(xOf(m_upper), y));
    p.setPen(QPen(palette().dark().color(), 1));
    p.setBrush(palette().button());
    for (double v : {m_lower, m_upper}) p.drawEllipse(QPointF(xOf(v), y), 7, 7);
}

void RangeSlider::mousePressEvent(QMouseEvent* event) {
    const double x = event->position().x();
    m_handle = std::abs(x - xOf(m_lower)) <= std::abs(x - xOf(m_upper)) ? 0 : 1;
    mouseMoveEvent(event);
}

void RangeSlider::mouseMoveEvent(QMouseEvent* event) {
    if (m_handle < 0) return;
    const double v = valueAt(event->position().x());
    if (m_handle == 0)
        setRange(std::min(v, m_upper - kMinGap), m_upper);
    else
        setRange(m_lower, std::max(v, m_lower + kMinGap));
}

void RangeSlider::mouseReleaseEvent(QMouseEvent*) {
    if (m_handle < 0) return;
    m_handle = -1;
    Q_EMIT released();
}

}  // namespace ll::widgets
