#pragma once

#include <QWidget>

#include "train/trainconfig.h"

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace ll::widgets {

/// The Train mode's panel: preset, steps, learning rate, batch size, seed; Train, Pause and
/// Stop; a progress bar with steps/s and time left. It builds TrainConfigs and shows progress;
/// the training itself runs in a TrainingJob owned by the main window.
class TrainPanel : public QWidget {
    Q_OBJECT
public:
    explicit TrainPanel(QWidget* parent = nullptr);

    /// A config for the chosen preset and values (dataset and workspace are filled in by the
    /// caller).
    ll::TrainConfig config() const;
    void setDatasetDescription(const QString& text);

public Q_SLOTS:
    void onStarted(const ll::TrainStarted& info);
    void onProgress(const ll::TrainProgress& progress);
    void onPausedChanged(bool paused);
    void onFinished(const ll::TrainFinished& result);

Q_SIGNALS:
    void trainRequested();
    void pauseRequested();
    void resumeRequested();
    void stopRequested();
    /// The user changed the learning rate while a run is going.
    void learningRateChanged(double lr);

private:
    void applyPreset(int index);
    void setRunning(bool running);

    QLabel* m_dataset;
    QComboBox* m_preset;
    QLabel* m_presetNote;
    QSpinBox* m_steps;
    QDoubleSpinBox* m_learningRate;
    QSpinBox* m_batch;
    QSpinBox* m_seed;
    QPushButton* m_train;
    QPushButton* m_pause;
    QPushButton* m_stop;
    QProgressBar* m_progress;
    QLabel* m_rate;
    QLabel* m_message;
    bool m_running = false;
    bool m_paused = false;
};

}  // namespace ll::widgets
