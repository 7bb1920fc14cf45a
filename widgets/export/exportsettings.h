#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <QWidget>

#include "export/datasetexport.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QFormLayout;
class QGroupBox;
class QSettings;
class QSpinBox;
class QTableWidget;

namespace ll::widgets {

/// What a dataset export draws and writes, as the Export panel sets it: the counts (per
/// class, or a class mixture of a total), the classes, the sampling settings the run's model
/// takes (the catalogue's facts decide which show), the filters, the format and the card.
/// Remembers itself in QSettings ("export/..."), except the classes, which belong to a run.
class ExportSettings : public QWidget {
    Q_OBJECT
public:
    explicit ExportSettings(std::filesystem::path workspace, QWidget* parent = nullptr);

    /// Fills the classes and shows the controls `model` takes (model empty: no run).
    void setRun(const std::string& model, const std::string& dataset,
                const std::vector<std::string>& classNames, bool tabular);
    /// Writes the counts, classes, steering, filters, format and card into `request`.
    void fill(ll::ExportRequest& request) const;
    /// Empty when the settings can be exported, else what is wrong ("Choose a class").
    QString problem() const;
    /// Checks exactly `classes` (indices into the run's class names).
    void chooseClasses(const std::vector<int>& classes);

    void save(QSettings& settings) const;
    void restore(const QSettings& settings);

Q_SIGNALS:
    /// A setting that changes the drawn samples or the filters moved.
    void changed();

private:
    QGroupBox* countsBox();
    QGroupBox* samplingBox();
    QGroupBox* filtersBox();
    QGroupBox* outputBox();
    void showControls();
    void fillClassifiers();

    std::filesystem::path m_workspace;
    std::string m_model;
    std::string m_dataset;
    bool m_tabular = false;
    QComboBox* m_countMode;
    QSpinBox* m_perClass;
    QSpinBox* m_total;
    QFormLayout* m_countsForm;
    QTableWidget* m_classes;
    QFormLayout* m_samplingForm;
    QSpinBox* m_seed;
    QDoubleSpinBox* m_guidance;
    QDoubleSpinBox* m_guidanceFrom;
    QDoubleSpinBox* m_guidanceTo;
    QComboBox* m_classifier;
    QDoubleSpinBox* m_classifierScale;
    QSpinBox* m_steps;
    QComboBox* m_sampler;
    QDoubleSpinBox* m_truncation;
    QDoubleSpinBox* m_temperature;
    QDoubleSpinBox* m_minConfidence;
    QCheckBox* m_dropCopies;
    QDoubleSpinBox* m_copyDistance;
    QSpinBox* m_cap;
    QComboBox* m_format;
    QCheckBox* m_gzip;
    QCheckBox* m_card;
    QGroupBox* m_metricsBox;
    std::map<std::string, QCheckBox*> m_metrics;
};

}  // namespace ll::widgets
