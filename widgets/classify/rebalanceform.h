#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <QStringList>
#include <QWidget>

#include "study/rebalance.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QSettings;
class QSpinBox;

namespace ll::widgets {

/// The imbalance lab's page of the Classify panel: on the window's dataset, how its training
/// part is made imbalanced (a long tail of a ratio, chosen minority classes at chosen shares,
/// or as it is), which rebalancing methods run, the classifier they all train, the seeds, and
/// the SMOTE and generator knobs. A generator method the runs browser's run can serve (its
/// model, or a VAE for SMOTE in latent space) may use that run instead of one the lab trains.
/// Remembers itself ("classify/rebalance...").
class RebalanceForm : public QWidget {
    Q_OBJECT
public:
    explicit RebalanceForm(QWidget* parent = nullptr);

    /// The dataset the lab runs on and its class names (the minority's hint).
    void setDataset(const QString& description, bool tabular, const QStringList& classes);
    /// The runs browser's run and its model ("" for none).
    void setRun(const QString& runDir, const QString& model);
    /// The request on `data` into `out`; the error names the fault (core checks it too).
    ll::Result<ll::RebalanceRequest> request(const ll::DatasetSpec& data,
                                             const std::filesystem::path& workspace,
                                             const std::filesystem::path& out) const;
    /// Checks `methods` ("none", "smote", ...) alone.
    void chooseMethods(const std::vector<std::string>& methods);

    void save(QSettings& settings) const;
    void restore(const QSettings& settings);

private:
    void updateEnabled();

    QLabel* m_dataset;
    QComboBox* m_imbalance;
    QDoubleSpinBox* m_ratio;
    QLineEdit* m_minority;
    std::map<std::string, QCheckBox*> m_methods;
    QComboBox* m_classifier;
    QSpinBox* m_steps;
    QSpinBox* m_seeds;
    QSpinBox* m_heldOut;
    QSpinBox* m_smoteK;
    QSpinBox* m_generatorSteps;
    QDoubleSpinBox* m_guidance;
    QDoubleSpinBox* m_confidence;
    QCheckBox* m_useRun;
    QString m_runDir;
    QString m_runModel;
    bool m_tabular = false;
};

}  // namespace ll::widgets
