#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <QWidget>

#include "study/oneclass.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QSettings;
class QSpinBox;

namespace ll::widgets {

/// The one-class page of the Classify panel: on the window's dataset, the normal class (one
/// of its classes), the detectors (vae, chaotic-vae, the Mahalanobis baseline), the seeds,
/// the VAEs' training steps, the threshold's percentile, the score, and the chaotic VAE's r
/// and noise transform. Remembers itself ("classify/oneClass...") except the normal class,
/// which belongs to a dataset.
class OneClassForm : public QWidget {
    Q_OBJECT
public:
    explicit OneClassForm(QWidget* parent = nullptr);

    /// The dataset the study runs on and its classes (the normal class's choices).
    void setDataset(const QString& description, const std::vector<std::string>& classes);
    /// Chooses the normal class by name; false when the dataset has none of that name.
    bool chooseNormal(const QString& name);
    void chooseModels(const std::vector<ll::OneClassModel>& models);
    /// The request on `data` into `out`; the error names the fault.
    ll::Result<ll::OneClassRequest> request(const ll::DatasetSpec& data,
                                            const std::filesystem::path& workspace,
                                            const std::filesystem::path& out) const;

    void save(QSettings& settings) const;
    void restore(const QSettings& settings);

private:
    QLabel* m_dataset;
    QComboBox* m_normal;
    std::map<ll::OneClassModel, QCheckBox*> m_models;
    QSpinBox* m_seeds;
    QSpinBox* m_steps;
    QDoubleSpinBox* m_percentile;
    QComboBox* m_score;
    QDoubleSpinBox* m_r;
    QComboBox* m_transform;
};

}  // namespace ll::widgets
