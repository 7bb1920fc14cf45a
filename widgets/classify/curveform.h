#pragma once

#include <filesystem>
#include <map>
#include <string>

#include <QWidget>

#include "study/learningcurve.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QSettings;
class QSpinBox;

namespace ll::widgets {

/// The learning-curve page of the Classify panel (Ng and Jordan 2001): on the window's
/// dataset, what the classifiers see (the extractor's features, pixels, or a table's
/// columns), which methods run, the training sizes per class and the seeds. Remembers itself
/// ("classify/curve...").
class CurveForm : public QWidget {
    Q_OBJECT
public:
    explicit CurveForm(QWidget* parent = nullptr);

    /// The dataset the study runs on (`tabular`: columns are its features).
    void setDataset(const QString& description, bool tabular);
    /// The request on `data` into `out`; the error names the fault (core checks it too).
    ll::Result<ll::LearningCurveRequest> request(const ll::DatasetSpec& data,
                                                 const std::filesystem::path& workspace,
                                                 const std::filesystem::path& out) const;
    /// Checks `method` ("nb", "cnn", ...) alone.
    void chooseMethods(const std::vector<std::string>& methods);

    void save(QSettings& settings) const;
    void restore(const QSettings& settings);

private:
    QLabel* m_dataset;
    QComboBox* m_features;
    std::map<std::string, QCheckBox*> m_methods;
    QLineEdit* m_sizes;
    QSpinBox* m_seeds;
    QSpinBox* m_heldOut;
};

}  // namespace ll::widgets
