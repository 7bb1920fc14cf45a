#pragma once

#include <filesystem>
#include <vector>

#include <QWidget>

#include "models/request.h"
#include "steer/steerrun.h"

class QCheckBox;
class QComboBox;
class QGroupBox;
class QLabel;
class QPushButton;
class QSlider;
class QSpinBox;

namespace ll::widgets {

class RangeSlider;

/// The Steer mode's sampling controls, shown as the run's model takes them (the catalogue's
/// facts): seed; one class per row, one class or a mixture of classes; diffusion's guidance
/// weight, interval, guiding classifier, steps and sampler; GANs' truncation; the VAE
/// family's temperature. Says changed() whenever one moves; the panel redraws.
class SteerControls : public QWidget {
    Q_OBJECT
public:
    explicit SteerControls(std::filesystem::path workspace, QWidget* parent = nullptr);

    /// Fills the class choices and guiding classifiers for `run` (dir empty: no run).
    void setRun(const SteerRun& run);
    /// The request the controls say now (`preview`: diffusion at reduced steps), no locks.
    ll::SampleRequest request(bool preview) const;
    /// A slider is held down: a preview is wanted.
    bool dragging() const;
    /// -1: one row per class (or unconditional), -2: a mixture of classes, else one class.
    int classMode() const;
    /// The noisy-classifier run that guides diffusion draws (empty: none).
    QString classifierRun() const;
    /// A running full draw follows guidance moved meanwhile instead of starting over.
    bool followsGuidance() const;
    void reseed();

Q_SIGNALS:
    void changed();

private:
    void fillClassifiers();
    void showControls();

    std::filesystem::path m_workspace;
    SteerRun m_run;
    QSpinBox* m_seed;
    QPushButton* m_reseed;
    QComboBox* m_classMode;
    QGroupBox* m_mixBox;
    std::vector<QSlider*> m_mix;
    QGroupBox* m_diffusionBox;
    QSlider* m_guidance;
    QLabel* m_guidanceValue;
    RangeSlider* m_interval;
    QLabel* m_intervalValue;
    QComboBox* m_classifier;
    QSlider* m_classifierScale;
    QLabel* m_classifierScaleValue;
    QSpinBox* m_steps;
    QComboBox* m_samplerKind;
    QCheckBox* m_continue;
    QGroupBox* m_ganBox;
    QSlider* m_truncation;
    QLabel* m_truncationValue;
    QGroupBox* m_vaeBox;
    QSlider* m_temperature;
    QLabel* m_temperatureValue;
};

}  // namespace ll::widgets
