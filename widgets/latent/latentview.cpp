#include "latent/latentview.h"

#include <algorithm>
#include <cmath>

#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>

namespace ll::widgets {

namespace {

constexpr int kAtlasCols = 64;  // RunSampler::latentMap's tiles to a row
constexpr double kStripHeight = 120;

}  // namespace

QImage gridImage(const ll::SampleGrid& grid) {
    if (grid.empty()) return {};
    return QImage(grid.rgba.data(), grid.atlasWidth(), grid.atlasHeight(), grid.atlasWidth() * 4,
                  QImage::Format_RGBA8888)
        .copy();
}

LatentView::LatentView(QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("latentView"));
    setMouseTracking(true);
    setMinimumSize(360, 300);
    m_message = tr("Select a generator run in the runs browser to browse its latent space.");
}

void LatentView::setMap(ll::LatentMap map, ll::SampleGrid images,
                        std::vector<std::string> classNames, bool drawnImages) {
    m_map = std::move(map);
    m_images = gridImage(images);
    m_tileWidth = images.tileWidth;
    m_tileHeight = images.tileHeight;
    m_classNames = std::move(classNames);
    m_drawnImages = drawnImages;
    m_hover = -1;
    m_message.clear();
    if (!m_map.x.empty()) {
        const auto [x0, x1] = std::minmax_element(m_map.x.begin(), m_map.x.end());
        const auto [y0, y1] = std::minmax_element(m_map.y.begin(), m_map.y.end());
        const float padX = std::max(1e-6f, (*x1 - *x0) * 0.04f);
        const float padY = std::max(1e-6f, (*y1 - *y0) * 0.04f);
        m_minX = *x0 - padX, m_maxX = *x1 + padX;
        m_minY = *y0 - padY, m_maxY = *y1 + padY;
    }
    update();
}

void LatentView::clear(const QString& message) {
    m_map = {};
    m_images = {};
    m_marks.clear();
    m_strip = {};
    m_message = message;
    m_hover = -1;
    update();
}

void LatentView::setShown(bool real, bool drawn) {
    m_showReal = real;
    m_showDrawn = drawn;
    m_hover = -1;
    update();
}

void LatentView::setMarks(std::vector<Mark> marks) {
    m_marks = std::move(marks);
    update();
}

void LatentView::setStrip(const ll::SampleGrid& strip, const QString& caption) {
    m_strip = gridImage(strip);
    m_stripCaption = caption;
    update();
}

QRectF LatentView::plotArea() const {
    const double bottom = m_strip.isNull() ? 30 : 30 + kStripHeight + 24;
    return QRectF(40, 38, std::max(10.0, width() - 60.0), std::max(10.0, height() - 38 - bottom));
}

QPointF LatentView::toWidget(float x, float y) const {
    const QRectF a = plotArea();
    return {a.left() + (x - m_minX) / (m_maxX - m_minX) * a.width(),
            a.top() + (1 - (y - m_minY) / (m_maxY - m_minY)) * a.height()};
}

QPointF LatentView::toMap(QPointF position) const {
    const QRectF a = plotArea();
    return {m_minX + (position.x() - a.left()) / a.width() * (m_maxX - m_minX),
            m_minY + (1 - (position.y() - a.top()) / a.height()) * (m_maxY - m_minY)};
}

bool LatentView::visible(std::size_t i) const {
    return m_map.real[i] ? m_showReal : m_showDrawn;
}

int LatentView::pointAt(QPointF position) const {
    int best = -1;
    double bestDistance = 7 * 7;  // pixels, squared
    for (std::size_t i = 0; i < m_map.x.size(); ++i) {
        if (!visible(i)) continue;
        const QPointF d = toWidget(m_map.x[i], m_map.y[i]) - position;
        const double distance = d.x() * d.x() + d.y() * d.y();
        if (distance < bestDistance) bestDistance = distance, best = int(i);
    }
    return best;
}

QColor LatentView::classColour(int label) const {
    // Tableau's ten: distinct on light and dark backgrounds.
    static const QColor ten[] = {{31, 119, 180},  {255, 127, 14}, {44, 160, 44},   {214, 39, 40},
                                 {148, 103, 189}, {140, 86, 75},  {227, 119, 194}, {127, 127, 127},
                                 {188, 189, 34},  {23, 190, 207}};
    if (label < 0) return QColor(70, 70, 95);  // no class: a dark slate, unlike any class
    if (m_classNames.size() <= 10) return ten[label % 10];
    return QColor::fromHsv(int(360.0 * label / double(m_classNames.size())) % 360, 200, 210);
}

QImage LatentView::pointImage(int index) const {
    if (m_images.isNull() || index < 0 || (!m_map.real[std::size_t(index)] && !m_drawnImages))
        return {};
    const int row = index / kAtlasCols, col = index % kAtlasCols;
    return m_images.copy(col * m_tileWidth, row * m_tileHeight, m_tileWidth, m_tileHeight);
}

void LatentView::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), palette().base());
    p.setRenderHint(QPainter::Antialiasing);
    if (m_map.x.empty()) {
        p.setPen(palette().text().color());
        p.drawText(rect().adjusted(20, 20, -20, -20), Qt::AlignCenter | Qt::TextWordWrap,
                   m_message);
        return;
    }
    const QRectF area = plotArea();
    p.setPen(QPen(palette().mid().color(), 1));
    p.drawRect(area);
    // The axes through the mean (0, 0).
    p.setPen(QPen(palette().mid().color(), 1, Qt::DotLine));
    p.drawLine(toWidget(0, m_minY), toWidget(0, m_maxY));
    p.drawLine(toWidget(m_minX, 0), toWidget(m_maxX, 0));

    p.setPen(Qt::NoPen);
    for (std::size_t i = 0; i < m_map.x.size(); ++i) {
        if (!visible(i)) continue;
        QColor c = classColour(m_map.label[i]);
        const QPointF at = toWidget(m_map.x[i], m_map.y[i]);
        if (m_map.real[i]) {
            c.setAlpha(150);
            p.setPen(Qt::NoPen);
            p.setBrush(c);
            p.drawEllipse(at, 2.2, 2.2);
        } else {
            c.setAlpha(m_map.label[i] < 0 ? 110 : 190);
            p.setPen(QPen(c, 1.1));
            p.setBrush(Qt::NoBrush);
            p.drawEllipse(at, 2.6, 2.6);
        }
    }

    // A and B joined by the straight path between them.
    const Mark* a = nullptr;
    const Mark* b = nullptr;
    for (const Mark& m : m_marks) {
        if (m.name == QLatin1String("A")) a = &m;
        if (m.name == QLatin1String("B")) b = &m;
    }
    if (a && b) {
        p.setPen(QPen(palette().text().color(), 1.5, Qt::DashLine));
        p.drawLine(toWidget(a->x, a->y), toWidget(b->x, b->y));
    }
    QFont bold = font();
    bold.setBold(true);
    p.setFont(bold);
    for (const Mark& m : m_marks) {
        QPointF at = toWidget(m.x, m.y);
        at.setX(std::clamp(at.x(), area.left(), area.right()));  // off the map: at its edge
        at.setY(std::clamp(at.y(), area.top(), area.bottom()));
        if (m.name.isEmpty()) {  // the current latent: a ring around whatever is there
            p.setBrush(Qt::NoBrush);
            p.setPen(QPen(Qt::black, 4));
            p.drawEllipse(at, 12, 12);
            p.setPen(QPen(m.colour, 2.5));
            p.drawEllipse(at, 12, 12);
            continue;
        }
        p.setPen(QPen(Qt::black, 1.5));
        p.setBrush(m.colour);
        p.drawEllipse(at, 8, 8);
        p.setPen(Qt::black);
        p.drawText(QRectF(at.x() - 8, at.y() - 8, 16, 16), Qt::AlignCenter, m.name.left(1));
    }
    p.setFont(font());

    // Title and legend.
    p.setPen(palette().text().color());
    const auto spread = [&](std::size_t k) {
        return k < m_map.spread.size() ? QString::number(m_map.spread[k], 'g', 3) : QString();
    };
    const auto realCount = std::count(m_map.real.begin(), m_map.real.end(), 1);
    p.drawText(
        QRectF(8, 2, width() - 16, 32), Qt::AlignLeft | Qt::AlignVCenter | Qt::TextWordWrap,
        tr("%1 drawn latents (rings)%2; the %3-dimensional latent space on its two "
           "leading principal axes (spread %4 and %5)")
            .arg(m_map.x.size() - std::size_t(realCount))
            .arg(realCount ? tr(", %1 encoded training images (dots)").arg(realCount) : QString())
            .arg(m_map.dims)
            .arg(spread(0), spread(1)));
    double lx = area.left() + 6;
    const double ly = area.bottom() + 6;
    // The legend names the classes drawn; an unconditional model's points have none.
    const bool classes =
        std::any_of(m_map.label.begin(), m_map.label.end(), [](int label) { return label >= 0; });
    for (std::size_t k = 0; classes && k < m_classNames.size() && k < 20; ++k) {
        const QString name = QString::fromStdString(m_classNames[k]);
        const double w = fontMetrics().horizontalAdvance(name) + 22;
        if (lx + w > area.right()) break;
        p.setPen(Qt::NoPen);
        p.setBrush(classColour(int(k)));
        p.drawEllipse(QPointF(lx + 5, ly + 8), 4, 4);
        p.setPen(palette().text().color());
        p.drawText(QPointF(lx + 12, ly + 12), name);
        lx += w;
    }

    if (!m_strip.isNull()) {
        const QRectF band(area.left(), height() - kStripHeight - 8, area.width(), kStripHeight);
        p.drawText(QRectF(band.left(), band.top() - 22, band.width(), 20),
                   Qt::AlignLeft | Qt::AlignVCenter, m_stripCaption);
        const QSizeF fitted = QSizeF(m_strip.size()).scaled(band.size(), Qt::KeepAspectRatio);
        p.drawImage(QRectF(band.topLeft(), fitted), m_strip);
    }

    // The hovered point's image beside the cursor.
    if (m_hover >= 0 && std::size_t(m_hover) < m_map.x.size()) {
        const auto i = std::size_t(m_hover);
        const int label = m_map.label[i];
        const QString cls = label >= 0 && std::size_t(label) < m_classNames.size()
                                ? QString::fromStdString(m_classNames[std::size_t(label)])
                                : tr("no class");
        const QString text = m_map.real[i]
                                 ? tr("%1, training image %2").arg(cls).arg(m_map.index[i])
                                 : tr("%1, draw %2").arg(cls).arg(m_map.index[i]);
        const QImage image = pointImage(m_hover);
        const QString shown = image.isNull() ? text + tr("\nclick to decode") : text;
        const double side = image.isNull() ? 0 : 112;
        const QRect textSize =
            fontMetrics().boundingRect(QRect(0, 0, 400, 200), Qt::AlignLeft, shown);
        const double w = std::max(side, double(textSize.width())) + 16;
        const double h = side + textSize.height() + (image.isNull() ? 12 : 16);
        QPointF at = m_cursor + QPointF(14, 14);
        if (at.x() + w > width()) at.setX(m_cursor.x() - w - 14);
        if (at.y() + h > height()) at.setY(m_cursor.y() - h - 14);
        const QRectF box(at, QSizeF(w, h));
        p.setPen(QPen(palette().dark().color(), 1));
        p.setBrush(palette().window());
        p.drawRoundedRect(box, 4, 4);
        if (!image.isNull()) p.drawImage(QRectF(box.left() + 6, box.top() + 6, side, side), image);
        p.setPen(palette().text().color());
        p.drawText(QRectF(box.left() + 8, box.top() + side + (image.isNull() ? 6 : 10), w - 16,
                          textSize.height()),
                   Qt::AlignLeft | Qt::AlignTop, shown);
    }
}

void LatentView::mouseMoveEvent(QMouseEvent* event) {
    m_cursor = event->position();
    const int hover = m_map.x.empty() ? -1 : pointAt(m_cursor);
    if (hover != m_hover || hover >= 0) {
        m_hover = hover;
        update();
    }
}

void LatentView::leaveEvent(QEvent*) {
    m_hover = -1;
    update();
}

void LatentView::mousePressEvent(QMouseEvent* event) {
    if (m_map.x.empty() || event->button() != Qt::LeftButton) return;
    if (!plotArea().contains(event->position())) return;
    if (const int i = pointAt(event->position()); i >= 0) {
        Q_EMIT pointClicked(i);
        return;
    }
    const QPointF at = toMap(event->position());
    Q_EMIT placeClicked(float(at.x()), float(at.y()));
}

}  // namespace ll::widgets
