#pragma once

#include <filesystem>

#include <QWidget>

#include "study/diffusionclassifier.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QSettings;
class QSpinBox;

namespace ll::widgets {

/// The diffusion classifier's page of the Classify panel: the runs browser's run (and, when
/// core refuses it, core's reason), the images to classify (split and how many), and how each
/// is scored: timesteps, noise draws, adaptive pruning (stages and how many classes each
/// keeps), the loss, and the clean classifier beside it. Remembers itself ("classify/...").
class DiffusionForm : public QWidget {
    Q_OBJECT
public:
    explicit DiffusionForm(QWidget* parent = nullptr);

    /// The run to classify with, as the panel shows it (`description`: model and data).
    void setRun(const QString& runDir, const QString& description);
    /// Core's reason the run cannot classify ("" when it can, a line while it is asked).
    void setRefusal(const QString& refusal);
    QString refusal() const;

    /// The scoring options the controls say; the error names the control that is wrong.
    ll::Result<ll::DiffusionClassifierOptions> options() const;
    /// The request for `runDir` on its own data (the chosen split and count); `out` stays
    /// empty, so core writes into the run's studies folder.
    ll::Result<ll::DiffusionClassifyRequest> request(const QString& runDir,
                                                     const std::filesystem::path& workspace) const;

    void save(QSettings& settings) const;
    void restore(const QSettings& settings);

Q_SIGNALS:
    void changed();

private:
    QLabel* m_run;
    QLabel* m_refusal;
    QString m_refusalText;
    QComboBox* m_split;
    QSpinBox* m_limit;
    QSpinBox* m_timesteps;
    QSpinBox* m_noiseDraws;
    QCheckBox* m_pruning;
    QLineEdit* m_stages;
    QLineEdit* m_keep;
    QComboBox* m_loss;
    QCheckBox* m_baseline;
};

}  // namespace ll::widgets
