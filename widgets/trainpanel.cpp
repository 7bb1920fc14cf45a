#include "trainpanel.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include "common/format.h"

namespace ll::widgets {

TrainPanel::TrainPanel(QWidget* parent) : QWidget(parent) {
    m_dataset = new QLabel(tr("No dataset loaded: the Data mode loads one."));
    m_dataset->setWordWrap(true);
    m_preset = new QComboBox;
    m_preset->setObjectName(QStringLiteral("presetCombo"));
    for (const auto& p : ll::modelPresets()) m_preset->addItem(QString::fromStdString(p.name));
    m_presetNote = new QLabel;
    m_presetNote->setWordWrap(true);
    m_presetNote->setStyleSheet(QStringLiteral("color: palette(mid);"));

    m_steps = new QSpinBox;
    m_steps->setObjectName(QStringLiteral("stepsSpin"));
    m_steps->setRange(1, 10'000'000);
    m_steps->setSingleStep(500);
    m_learningRate = new QDoubleSpinBox;
    m_learningRate->setObjectName(QStringLiteral("learningRateSpin"));
    m_learningRate->setDecimals(6);
    m_learningRate->setRange(1e-6, 1.0);
    m_learningRate->setSingleStep(1e-4);
    m_learningRate->setToolTip(tr("Can be changed while training: it applies from the next step"));
    m_batch = new QSpinBox;
    m_batch->setObjectName(QStringLiteral("batchSpin"));
    m_batch->setRange(1, 65536);
    m_seed = new QSpinBox;
    m_seed->setRange(0, 2'000'000'000);
    m_seed->setValue(1);

    m_train = new QPushButton(tr("Train"));
    m_train->setObjectName(QStringLiteral("trainButton"));
    m_pause = new QPushButton(tr("Pause"));
    m_pause->setObjectName(QStringLiteral("pauseButton"));
    m_stop = new QPushButton(tr("Stop"));
    m_stop->setObjectName(QStringLiteral("stopButton"));
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_train);
    buttons->addWidget(m_pause);
    buttons->addWidget(m_stop);

    m_progress = new QProgressBar;
    m_progress->setObjectName(QStringLiteral("trainProgress"));
    m_progress->setRange(0, 1000);
    m_progress->setValue(0);
    m_rate = new QLabel(QStringLiteral(" "));
    m_rate->setObjectName(QStringLiteral("rateLabel"));
    m_message = new QLabel;
    m_message->setWordWrap(true);
    m_message->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto* form = new QFormLayout;
    form->addRow(tr("Preset"), m_preset);
    form->addRow(QString(), m_presetNote);
    form->addRow(tr("Steps"), m_steps);
    form->addRow(tr("Learning rate"), m_learningRate);
    form->addRow(tr("Batch size"), m_batch);
    form->addRow(tr("Seed"), m_seed);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_dataset);
    layout->addLayout(form);
    layout->addLayout(buttons);
    layout->addWidget(m_progress);
    layout->addWidget(m_rate);
    layout->addWidget(m_message);
    layout->addStretch(1);

    connect(m_preset, &QComboBox::currentIndexChanged, this, &TrainPanel::applyPreset);
    connect(m_train, &QPushButton::clicked, this, &TrainPanel::trainRequested);
    connect(m_pause, &QPushButton::clicked, this,
            [this] { Q_EMIT(m_paused ? resumeRequested() : pauseRequested()); });
    connect(m_stop, &QPushButton::clicked, this, &TrainPanel::stopRequested);
    connect(m_learningRate, &QDoubleSpinBox::valueChanged, this, [this](double lr) {
        if (m_running) Q_EMIT learningRateChanged(lr);
    });
    applyPreset(0);
    setRunning(false);
}

void TrainPanel::applyPreset(int index) {
    if (index < 0 || index >= static_cast<int>(ll::modelPresets().size())) return;
    const auto& p = ll::modelPresets()[static_cast<std::size_t>(index)];
    m_presetNote->setText(QString::fromStdString(p.description));
    m_steps->setValue(static_cast<int>(p.steps));
    m_learningRate->setValue(p.learningRate);
    m_batch->setValue(p.batchSize);
}

ll::TrainConfig TrainPanel::config() const {
    const auto& p =
        ll::modelPresets()[static_cast<std::size_t>(std::max(0, m_preset->currentIndex()))];
    return ll::TrainConfig{.model = p.model,
                           .preset = p.name,
                           .settings = p.settings,
                           .steps = m_steps->value(),
                           .learningRate = m_learningRate->value(),
                           .batchSize = m_batch->value(),
                           .seed = static_cast<std::uint64_t>(m_seed->value())};
}

void TrainPanel::setDatasetDescription(const QString& text) {
    m_dataset->setText(text);
}

void TrainPanel::setRunning(bool running) {
    m_running = running;
    m_train->setEnabled(!running);
    m_pause->setEnabled(running);
    m_stop->setEnabled(running);
    m_preset->setEnabled(!running);
    m_steps->setEnabled(!running);
    m_batch->setEnabled(!running);
    m_seed->setEnabled(!running);
    if (!running) onPausedChanged(false);
}

void TrainPanel::onStarted(const ll::TrainStarted& info) {
    setRunning(true);
    m_message->setText(tr("Run folder: %1").arg(QString::fromStdString(info.runDir)));
    m_progress->setValue(static_cast<int>(1000.0 * double(info.startStep) /
                                          double(std::max<std::int64_t>(1, info.totalSteps))));
    m_rate->setText(tr("Starting at step %1...").arg(info.startStep));
}

void TrainPanel::onProgress(const ll::TrainProgress& p) {
    m_progress->setValue(static_cast<int>(1000.0 * double(p.step) /
                                          double(std::max<std::int64_t>(1, p.totalSteps))));
    m_progress->setFormat(QStringLiteral("%1 / %2").arg(p.step).arg(p.totalSteps));
    m_rate->setText(tr("%1 steps/s · %2 left")
                        .arg(p.stepsPerSecond, 0, 'f', 1)
                        .arg(QString::fromStdString(ll::formatDuration(p.secondsLeft))));
}

void TrainPanel::onPausedChanged(bool paused) {
    m_paused = paused;
    m_pause->setText(paused ? tr("Resume") : tr("Pause"));
}

void TrainPanel::onFinished(const ll::TrainFinished& result) {
    setRunning(false);
    const QString text = QString::fromStdString(result.message).toHtmlEscaped();
    m_message->setText(result.outcome == ll::TrainFinished::Outcome::Failed
                           ? QStringLiteral("<span style='color:#e06c60'>%1</span>").arg(text)
                           : text);
    if (result.outcome == ll::TrainFinished::Outcome::Completed) m_rate->setText(tr("Done."));
}

}  // namespace ll::widgets
