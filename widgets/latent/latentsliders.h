#pragma once

#include <vector>

#include <QStringList>
#include <QWidget>

class QGroupBox;
class QLabel;
class QSlider;
class QSpinBox;

namespace ll {
struct LatentMap;
}

namespace ll::widgets {

/// The latent browser's current latent as its sliders edit it: one slider per principal
/// direction of the map (GANSpace, Haerkoenen et al. 2020; in standard deviations) and one
/// per dimension, a page of them at a time. Says changed() when a slider moves it.
class LatentSliders : public QWidget {
    Q_OBJECT
public:
    static constexpr int kDirections = 8;  // principal directions as sliders

    explicit LatentSliders(QWidget* parent = nullptr);

    /// The map whose directions the sliders follow; they return to 0.
    void setMap(const ll::LatentMap& map);
    /// A new latent to edit; the direction sliders return to 0. Says nothing.
    void setLatent(std::vector<float> latent);
    /// No latent, no map.
    void clear();
    bool empty() const { return m_latent.empty(); }
    /// The latent with the direction sliders' moves added.
    std::vector<float> current() const;
    /// The directions moved, as "PC1 -3.0 sd".
    QStringList moves() const;

Q_SIGNALS:
    void changed();

private:
    void resetDirections();
    void syncDims();

    std::vector<float> m_latent;             // the chosen latent, as the dimension sliders edit it
    std::vector<double> m_along;             // the direction sliders, in standard deviations
    std::vector<std::vector<float>> m_axes;  // the map's principal directions
    std::vector<float> m_spread;             // their standard deviations
    QGroupBox* m_directionsBox;
    std::vector<QSlider*> m_directions;
    std::vector<QLabel*> m_directionValues;
    QGroupBox* m_dimensionsBox;
    QSpinBox* m_firstDim;
    std::vector<QSlider*> m_dims;
    std::vector<QLabel*> m_dimLabels;
};

}  // namespace ll::widgets
