#pragma once

#include <QWidget>

#include "data/preview.h"

class QButtonGroup;
class QCheckBox;
class QChartView;
class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QStackedWidget;

namespace ll::widgets {

class JobBridge;

/// The Data mode's panel: choose Fashion-MNIST, a CSV file or an image folder, load it in the
/// background (a JobBridge: a load that throws, out of memory on a gzip bomb say, is told
/// like any other failure), and see its summary and a bar chart of class counts. The real
/// samples go to the centre grid through previewReady().
class DataPanel : public QWidget {
    Q_OBJECT
public:
    explicit DataPanel(QWidget* parent = nullptr);

    /// The dataset as currently chosen in the panel.
    ll::DatasetSpec spec() const;
    /// Sets the controls from a spec (e.g. a command-line --dataset) without loading.
    void setSpec(const ll::DatasetSpec& spec);
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

    JobBridge* m_loader;
    bool m_loaded = false;
    ll::DatasetSummary m_summary;
};

}  // namespace ll::widgets
