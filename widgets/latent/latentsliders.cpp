#include "latent/latentsliders.h"

#include <algorithm>
#include <cmath>

#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSlider>
#include <QSpinBox>
#include <QVBoxLayout>

#include "sample/latentarithmetic.h"
#include "sample/latentmap.h"

namespace ll::widgets {

namespace {

constexpr int kDirections = LatentSliders::kDirections;
constexpr int kDimSliders = 12;  // dimension sliders shown at once
constexpr double kDimRange = 4;

QSlider* centredSlider(const QString& name) {
    auto* s = new QSlider(Qt::Horizontal);
    s->setObjectName(name);
    s->setRange(-300, 300);
    s->setValue(0);
    return s;
}

}  // namespace

LatentSliders::LatentSliders(QWidget* parent) : QWidget(parent) {
    m_directionsBox = new QGroupBox(tr("Principal directions (±3 sd)"));
    m_directionsBox->setToolTip(
        tr("Move the current latent along the leading principal directions of the latent "
           "cloud (GANSpace): the directions in which the latents vary most"));
    auto* directionsForm = new QFormLayout(m_directionsBox);
    for (int k = 0; k < kDirections; ++k) {
        auto* s = centredSlider(QStringLiteral("direction_%1").arg(k));
        auto* value = new QLabel(QStringLiteral("0.0"));
        value->setMinimumWidth(36);
        auto* row = new QHBoxLayout;
        row->addWidget(s, 1);
        row->addWidget(value);
        directionsForm->addRow(tr("PC%1").arg(k + 1), row);
        m_directions.push_back(s);
        m_directionValues.push_back(value);
        connect(s, &QSlider::valueChanged, this, [this, k](int v) {
            if (std::size_t(k) < m_along.size()) m_along[std::size_t(k)] = v / 100.0;
            m_directionValues[std::size_t(k)]->setText(QString::number(v / 100.0, 'f', 1));
            Q_EMIT changed();
        });
    }

    m_dimensionsBox = new QGroupBox(tr("Dimensions"));
    m_dimensionsBox->setToolTip(
        tr("The chosen latent's coordinates, %1 at a time").arg(kDimSliders));
    m_firstDim = new QSpinBox;
    m_firstDim->setObjectName(QStringLiteral("latentFirstDim"));
    m_firstDim->setPrefix(tr("from z"));
    m_firstDim->setSingleStep(kDimSliders);
    auto* dimsForm = new QFormLayout(m_dimensionsBox);
    dimsForm->addRow(tr("Show"), m_firstDim);
    for (int k = 0; k < kDimSliders; ++k) {
        auto* s = centredSlider(QStringLiteral("dim_%1").arg(k));
        s->setRange(int(-kDimRange * 100), int(kDimRange * 100));
        auto* label = new QLabel;
        label->setMinimumWidth(48);
        dimsForm->addRow(label, s);
        m_dims.push_back(s);
        m_dimLabels.push_back(label);
        connect(s, &QSlider::valueChanged, this, [this, k](int v) {
            const std::size_t i = std::size_t(m_firstDim->value() + k);
            if (i >= m_latent.size()) return;
            m_latent[i] = float(v / 100.0);
            m_dimLabels[std::size_t(k)]->setText(
                QStringLiteral("z%1 %2").arg(i).arg(m_latent[i], 0, 'f', 2));
            Q_EMIT changed();
        });
    }
    connect(m_firstDim, &QSpinBox::valueChanged, this, [this] { syncDims(); });

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_directionsBox);
    layout->addWidget(m_dimensionsBox);
    clear();
}

void LatentSliders::clear() {
    m_latent.clear();
    m_axes.clear();
    m_spread.clear();
    resetDirections();
    syncDims();
}

void LatentSliders::resetDirections() {
    m_along.assign(kDirections, 0.0);
    for (std::size_t k = 0; k < m_directions.size(); ++k) {
        QSignalBlocker block(m_directions[k]);
        m_directions[k]->setValue(0);
        m_directionValues[k]->setText(QStringLiteral("0.0"));
    }
}

void LatentSliders::setMap(const ll::LatentMap& map) {
    m_axes = map.directions;
    m_spread = map.spread;
    resetDirections();
    for (std::size_t k = 0; k < m_directions.size(); ++k)
        m_directions[k]->setEnabled(k < map.directions.size());
    QSignalBlocker block(m_firstDim);
    m_firstDim->setRange(0, std::max(0, map.dims - 1));
}

void LatentSliders::setLatent(std::vector<float> latent) {
    m_latent = std::move(latent);
    resetDirections();
    syncDims();
}

QStringList LatentSliders::moves() const {
    QStringList moved;
    for (std::size_t k = 0; k < m_along.size(); ++k)
        if (m_along[k] != 0) moved << tr("PC%1 %2 sd").arg(k + 1).arg(m_along[k], 0, 'f', 1);
    return moved;
}

std::vector<float> LatentSliders::current() const {
    std::vector<float> z = m_latent;
    for (std::size_t k = 0; k < m_along.size() && k < m_axes.size(); ++k) {
        if (m_along[k] == 0) continue;
        if (auto moved = ll::moveAlong(z, m_axes[k], m_along[k] * m_spread[k]))
            z = std::move(*moved);
    }
    return z;
}

void LatentSliders::syncDims() {
    const int first = m_firstDim->value();
    m_dimensionsBox->setTitle(m_latent.empty() ? tr("Dimensions")
                                               : tr("Dimensions (%1 in all)").arg(m_latent.size()));
    for (int k = 0; k < kDimSliders; ++k) {
        const std::size_t i = std::size_t(first + k);
        const bool has = i < m_latent.size();
        auto* s = m_dims[std::size_t(k)];
        QSignalBlocker block(s);
        s->setEnabled(has);
        s->setValue(
            has ? int(std::lround(std::clamp<double>(m_latent[i], -kDimRange, kDimRange) * 100))
                : 0);
        m_dimLabels[std::size_t(k)]->setText(
            has ? QStringLiteral("z%1 %2").arg(i).arg(m_latent[i], 0, 'f', 2) : QString());
    }
}

}  // namespace ll::widgets
