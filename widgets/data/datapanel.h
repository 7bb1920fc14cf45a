#pragma once

#include <QString>
#include <QWidget>

#include "data/preview.h"

class QButtonGroup;
class QCheckBox;
class QChartView;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPushButton;
class QSpinBox;
class QStackedWidget;
class QTimer;

namespace ll::widgets {

class JobBridge;

/// The Data mode's panel: choose Fashion-MNIST, a CSV file or an image folder, load it in the
/// background (a JobBridge: a load that throws, out of memory on a gzip bomb say, is told
/// like any other failure), and see its summary and a bar chart of class counts. The real
/// samples go to the centre grid through previewReady(). Once a dataset has loaded, its
/// classes can be narrowed (checked in a list) and made long-tailed, as the CLI's --classes
/// and --long-tail do: a change reloads the preview after a short pause, and the runs trained
/// from the panel take that subset.
class DataPanel : public QWidget {
    Q_OBJECT
public:
    explicit DataPanel(QWidget* parent = nullptr);

    /// The dataset as currently chosen in the panel (with the classes kept, when the class
    /// list belongs to this data and some are unchecked).
    ll::DatasetSpec spec() const;
    /// Sets the source, label column, image options and limit from a spec (e.g. a
    /// command-line --dataset) without loading; classes and long tail follow the next load.
    void setSpec(const ll::DatasetSpec& spec);
    /// The spec of the data last loaded (what the preview and the summary show).
    const ll::DatasetSpec& loadedSpec() const { return m_loadedSpec; }
    bool hasLoaded() const { return m_loaded; }
    const ll::DatasetSummary& summary() const { return m_summary; }

public Q_SLOTS:
    void load();

Q_SIGNALS:
    void previewReady(const ll::DatasetPreview& preview);
    void loadFailed(const QString& message);
    void busyChanged(bool busy);

private:
    void browse();
    void loaded(const ll::Result<ll::DatasetPreview>& result);
    void showSummary(const ll::DatasetSummary& summary);
    void updateChart(const ll::DatasetSummary& summary);
    /// Fills the class list from a load of every class of the data `key` names.
    void setClassList(const ll::DatasetSummary& summary, const std::string& key);
    void subsetChanged();
    /// Loads what the controls name; `reuse` keeps the data already read where only the
    /// classes, long tail or limit changed.
    void startLoad(bool reuse);
    /// The class list shows only while it belongs to the data the controls name.
    void updateSubsetVisibility();

    QComboBox* m_kind;
    QLineEdit* m_path;
    QPushButton* m_browse;
    QLineEdit* m_labelColumn;
    QSpinBox* m_imageSize;
    QComboBox* m_colour;
    QSpinBox* m_limit;
    QPushButton* m_loadButton;
    QLabel* m_status;
    QChartView* m_chart;
    QWidget* m_csvOptions;
    QWidget* m_folderOptions;
    QWidget* m_subsetOptions;  // classes and long tail: shown once a dataset has loaded
    QListWidget* m_classes;    // every class of the data m_classesKey names, checked if kept
    QDoubleSpinBox* m_longTail;
    QTimer* m_reload;  // a changed subset reloads after a pause
    std::string m_classesKey;
    ll::DatasetSpec m_loadingSpec;  // the load under way
    ll::DatasetSpec m_loadedSpec;
    std::string m_loadingKey;  // the load under way: its data, and whether it reads every class
    bool m_loadingWhole = false;
    QString m_subsetNote;  // said once beside the next summary

    JobBridge* m_loader;
    // Read on m_loader's thread only; shared so that a job outlives the panel safely.
    std::shared_ptr<ll::DatasetPreviewer> m_previewer;
    bool m_loaded = false;
    ll::DatasetSummary m_summary;
};

}  // namespace ll::widgets
