#pragma once

#include <map>
#include <string>

#include <QWidget>

#include "run/trainconfig.h"
#include "train/events.h"

class QComboBox;
class QDoubleSpinBox;
class QFormLayout;
class QGroupBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace ll::widgets {

/// The Train mode's panel: the model (those of the catalog that take the loaded data), its
/// presets and settings, steps, learning rate, batch size, seed, sample and checkpoint
/// intervals; Train, Pause and Stop; progress with steps/s and time left, the device, and a
/// warning when the NaN guard paused the run. It builds TrainConfigs and shows progress; the
/// training itself runs in a TrainingJob owned by the main window.
class TrainPanel : public QWidget {
    Q_OBJECT
public:
    explicit TrainPanel(QWidget* parent = nullptr);

    /// A config for the chosen model, preset and values (dataset and workspace are filled in
    /// by the caller).
    ll::TrainConfig config() const;
    void setDatasetDescription(const QString& text);
    /// Lists only the models that take this kind of data.
    void setTabularData(bool tabular);
    /// The model chosen now (registry name).
    QString modelName() const;
    /// Shows a run's own intervals and learning rate (a resumed run keeps its own), silently.
    void showRunConfig(const ll::TrainConfig& config);

    /// A run of several processes cannot pause: its Pause button stays off.
    void setPausable(bool pausable);

public Q_SLOTS:
    void onStarted(const ll::TrainStarted& info);
    void onProgress(const ll::TrainProgress& progress);
    void onPausedChanged(bool paused);
    void onGuardTripped(const QString& message);
    void onFinished(const ll::TrainFinished& result);

Q_SIGNALS:
    void trainRequested();
    void pauseRequested();
    void resumeRequested();
    void stopRequested();
    /// The user changed a value while a run is going; it applies from the next step.
    void learningRateChanged(double lr);
    void sampleEveryChanged(int steps);
    void checkpointEveryChanged(int steps);

private:
    void fillModels();
    void chooseModel(int index);
    void applyPreset(int index);
    void setRunning(bool running);

    bool m_tabular = false;
    QLabel* m_dataset;
    QComboBox* m_model;
    QLabel* m_modelNote;
    QComboBox* m_preset;
    QLabel* m_presetNote;
    QGroupBox* m_settingsBox;
    QFormLayout* m_settingsForm;
    std::map<std::string, QLineEdit*> m_settingEdits;
    QSpinBox* m_steps;
    QDoubleSpinBox* m_learningRate;
    QSpinBox* m_batch;
    QSpinBox* m_processes;
    QSpinBox* m_seed;
    QSpinBox* m_sampleEvery;
    QSpinBox* m_checkpointEvery;
    QSpinBox* m_evalEvery;
    QPushButton* m_train;
    QPushButton* m_pause;
    QPushButton* m_stop;
    QLabel* m_guardBanner;
    QProgressBar* m_progress;
    QLabel* m_rate;
    QLabel* m_device;
    QLabel* m_message;
    bool m_running = false;
    bool m_paused = false;
};

}  // namespace ll::widgets
