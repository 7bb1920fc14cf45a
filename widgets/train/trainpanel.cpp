#include "train/trainpanel.h"

#include <algorithm>

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QVBoxLayout>

#include "common/format.h"
#include "common/notelabel.h"
#include "common/scientificspinbox.h"
#include "models/catalog.h"

namespace ll::widgets {

TrainPanel::TrainPanel(QWidget* parent) : QWidget(parent) {
    m_dataset = new QLabel(tr("No dataset loaded: the Data mode loads one."));
    m_dataset->setWordWrap(true);
    m_model = new QComboBox;
    m_model->setObjectName(QStringLiteral("modelCombo"));
    m_modelNote = noteLabel();
    m_modelNote->setObjectName(QStringLiteral("modelNote"));
    m_preset = new QComboBox;
    m_preset->setObjectName(QStringLiteral("presetCombo"));
    m_presetNote = noteLabel();
    m_presetNote->setObjectName(QStringLiteral("presetNote"));

    m_settingsBox = new QGroupBox(tr("Model settings"));
    m_settingsBox->setObjectName(QStringLiteral("settingsBox"));
    m_settingsForm = new QFormLayout(m_settingsBox);

    m_steps = new QSpinBox;
    m_steps->setObjectName(QStringLiteral("stepsSpin"));
    m_steps->setRange(1, 10'000'000);
    m_steps->setSingleStep(500);
    // Rates span decades (a GAN's 2e-4, a NaN guard's 5e-7): shown and typed as numbers in
    // scientific notation, stepped by a factor.
    auto* learningRate = new ScientificSpinBox;
    learningRate->setStepsPerDecade(4);
    m_learningRate = learningRate;
    m_learningRate->setObjectName(QStringLiteral("learningRateSpin"));
    m_learningRate->setRange(1e-12, 9.99);
    m_learningRate->setKeyboardTracking(false);
    m_learningRate->setToolTip(tr("Can be changed while training: it applies from the next step"));
    m_batch = new QSpinBox;
    m_batch->setObjectName(QStringLiteral("batchSpin"));
    m_batch->setRange(1, 65536);
    m_processes = new QSpinBox;
    m_processes->setObjectName(QStringLiteral("processesSpin"));
    m_processes->setRange(1, 64);
    m_processes->setToolTip(
        tr("Data-parallel: this many processes on this machine share the cores, each taking "
           "'Batch size' rows of every step. They train outside the window, which follows "
           "them; more than one cannot pause."));
    m_seed = new QSpinBox;
    m_seed->setRange(0, 2'000'000'000);
    m_seed->setValue(1);
    // Like the learning rate, the intervals can change while a run trains.
    m_sampleEvery = new QSpinBox;
    m_sampleEvery->setObjectName(QStringLiteral("sampleEverySpin"));
    m_sampleEvery->setRange(1, 1'000'000);
    m_sampleEvery->setValue(ll::TrainConfig{}.sampleEvery);
    m_sampleEvery->setSuffix(tr(" steps"));
    m_sampleEvery->setKeyboardTracking(false);
    m_sampleEvery->setToolTip(
        tr("Draw samples every this many steps; can be changed while training"));
    m_checkpointEvery = new QSpinBox;
    m_checkpointEvery->setObjectName(QStringLiteral("checkpointEverySpin"));
    m_checkpointEvery->setRange(1, 10'000'000);
    m_checkpointEvery->setValue(ll::TrainConfig{}.checkpointEvery);
    m_checkpointEvery->setSingleStep(500);
    m_checkpointEvery->setSuffix(tr(" steps"));
    m_checkpointEvery->setKeyboardTracking(false);
    m_checkpointEvery->setToolTip(
        tr("Save a checkpoint every this many steps; can be changed while training"));

    m_evalEvery = new QSpinBox;
    m_evalEvery->setObjectName(QStringLiteral("evalEverySpin"));
    m_evalEvery->setRange(0, 10'000'000);
    m_evalEvery->setSingleStep(500);
    m_evalEvery->setSpecialValueText(tr("off"));
    m_evalEvery->setSuffix(tr(" steps"));
    m_evalEvery->setToolTip(
        tr("Every this many steps, score 2,000 samples (FID, precision, recall, agreement) "
           "against real images; the Inspect mode charts them over steps. Off by default: "
           "each takes seconds to minutes."));

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

    m_guardBanner = new QLabel;
    m_guardBanner->setObjectName(QStringLiteral("guardBanner"));
    m_guardBanner->setWordWrap(true);
    m_guardBanner->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_guardBanner->setStyleSheet(
        QStringLiteral("QLabel { background: #fff3cd; color: #664d03; border: 1px solid #e0b84c;"
                       " border-radius: 4px; padding: 6px; }"));
    m_guardBanner->hide();

    m_progress = new QProgressBar;
    m_progress->setObjectName(QStringLiteral("trainProgress"));
    m_progress->setRange(0, 1000);
    m_progress->setValue(0);
    m_rate = new QLabel(QStringLiteral(" "));
    m_rate->setObjectName(QStringLiteral("rateLabel"));
    m_device = new QLabel;
    m_device->setObjectName(QStringLiteral("deviceLabel"));
    m_device->setWordWrap(true);
    m_message = new QLabel;
    m_message->setWordWrap(true);
    m_message->setTextInteractionFlags(Qt::TextSelectableByMouse);

    // A grid, not a QFormLayout: in Qt 6.4 the form cut a wrapped note off after a model
    // change (wgan-gp's preset note drawn 70 px high of the 140 it needs).
    auto* form = new QGridLayout;
    auto* modelLabel = new QLabel(tr("Model"));
    modelLabel->setBuddy(m_model);
    auto* presetLabel = new QLabel(tr("Preset"));
    presetLabel->setBuddy(m_preset);
    form->addWidget(modelLabel, 0, 0);
    form->addWidget(m_model, 0, 1);
    form->addWidget(m_modelNote, 1, 1);
    form->addWidget(presetLabel, 2, 0);
    form->addWidget(m_preset, 2, 1);
    form->addWidget(m_presetNote, 3, 1);
    form->setColumnStretch(1, 1);
    auto* runForm = new QFormLayout;
    runForm->addRow(tr("Steps"), m_steps);
    runForm->addRow(tr("Learning rate"), m_learningRate);
    runForm->addRow(tr("Batch size"), m_batch);
    runForm->addRow(tr("Processes"), m_processes);
    runForm->addRow(tr("Seed"), m_seed);
    runForm->addRow(tr("Sample every"), m_sampleEvery);
    runForm->addRow(tr("Checkpoint every"), m_checkpointEvery);
    runForm->addRow(tr("Metrics every"), m_evalEvery);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_dataset);
    layout->addLayout(form);
    layout->addWidget(m_settingsBox);
    layout->addLayout(runForm);
    layout->addLayout(buttons);
    layout->addWidget(m_guardBanner);
    layout->addWidget(m_progress);
    layout->addWidget(m_rate);
    layout->addWidget(m_device);
    layout->addWidget(m_message);
    layout->addStretch(1);

    connect(m_model, &QComboBox::currentIndexChanged, this, &TrainPanel::chooseModel);
    connect(m_preset, &QComboBox::currentIndexChanged, this, &TrainPanel::applyPreset);
    connect(m_train, &QPushButton::clicked, this, &TrainPanel::trainRequested);
    connect(m_pause, &QPushButton::clicked, this,
            [this] { Q_EMIT(m_paused ? resumeRequested() : pauseRequested()); });
    connect(m_stop, &QPushButton::clicked, this, &TrainPanel::stopRequested);
    connect(m_learningRate, &QDoubleSpinBox::valueChanged, this, [this](double lr) {
        if (m_running) Q_EMIT learningRateChanged(lr);
    });
    connect(m_sampleEvery, &QSpinBox::valueChanged, this, [this](int steps) {
        if (m_running) Q_EMIT sampleEveryChanged(steps);
    });
    connect(m_checkpointEvery, &QSpinBox::valueChanged, this, [this](int steps) {
        if (m_running) Q_EMIT checkpointEveryChanged(steps);
    });
    fillModels();
    setRunning(false);
}

void TrainPanel::setTabularData(bool tabular) {
    if (tabular == m_tabular) return;
    m_tabular = tabular;
    fillModels();
}

QString TrainPanel::modelName() const {
    return m_model->currentData().toString();
}

void TrainPanel::fillModels() {
    // Keep the user's model when it also takes the new data; else the catalogue's first
    // conditional generator (the cvae: quick to train, one row per class).
    const QString previous = m_model->currentData().toString();
    QSignalBlocker block(m_model);
    m_model->clear();
    int firstConditional = -1;
    for (const auto& m : ll::modelCatalog()) {
        if (m_tabular ? !m.tabular : !m.images) continue;
        const QString name = QString::fromStdString(m.name);
        if (firstConditional < 0 && m.conditional && m.generates)
            firstConditional = m_model->count();
        m_model->addItem(name, name);
        m_model->setItemData(m_model->count() - 1, QString::fromStdString(m.description),
                             Qt::ToolTipRole);
    }
    int index = m_model->findData(previous);
    if (index < 0) index = firstConditional;
    m_model->setCurrentIndex(std::max(0, index));
    chooseModel(m_model->currentIndex());
}

void TrainPanel::chooseModel(int index) {
    const ll::ModelInfo* info =
        index < 0 ? nullptr : ll::findModel(m_model->itemData(index).toString().toStdString());
    m_modelNote->setText(info ? QString::fromStdString(info->description) : QString());

    // One row per setting, with its help as the tooltip.
    while (m_settingsForm->rowCount() > 0) m_settingsForm->removeRow(0);
    m_settingEdits.clear();
    if (info) {
        for (const auto& [key, value] : info->defaults) {
            // A table's own settings (filled from the data when empty): not for images.
            const bool fromData = std::find(info->tableSettings.begin(), info->tableSettings.end(),
                                            key) != info->tableSettings.end();
            if (fromData && !m_tabular) continue;
            auto* edit = new QLineEdit(QString::fromStdString(value));
            edit->setObjectName(QStringLiteral("setting_") + QString::fromStdString(key));
            edit->setPlaceholderText(fromData ? tr("from the data") : tr("default"));
            QString help;
            if (auto it = info->help.find(key); it != info->help.end())
                help = QString::fromStdString(it->second);
            edit->setToolTip(help);
            auto* label = new QLabel(QString::fromStdString(key));
            label->setToolTip(help);
            m_settingsForm->addRow(label, edit);
            m_settingEdits[key] = edit;
        }
    }
    m_settingsBox->setVisible(!m_settingEdits.empty());

    QSignalBlocker block(m_preset);
    m_preset->clear();
    if (info)
        for (const auto& p : ll::modelPresets())
            if (p.model == info->name) m_preset->addItem(QString::fromStdString(p.name));
    if (m_preset->count() == 0) m_preset->addItem(tr("defaults"));
    m_preset->setCurrentIndex(0);
    applyPreset(0);
}

void TrainPanel::applyPreset(int index) {
    const ll::ModelPreset* p =
        index < 0 ? nullptr : ll::findPreset(m_preset->itemText(index).toStdString());
    const ll::ModelInfo* info = ll::findModel(modelName().toStdString());
    // Every setting back to the model's default, then the preset's own values on top.
    if (info)
        for (const auto& [key, value] : info->defaults)
            if (auto it = m_settingEdits.find(key); it != m_settingEdits.end())
                it->second->setText(QString::fromStdString(value));
    if (!p) {
        m_presetNote->setText(tr("The model's default settings."));
        return;
    }
    for (const auto& [key, value] : p->settings)
        if (auto it = m_settingEdits.find(key); it != m_settingEdits.end())
            it->second->setText(QString::fromStdString(value));
    // Presets are tuned and timed on Fashion-MNIST; a table trains the models' MLPs.
    m_presetNote->setText(
        QString::fromStdString(p->description) +
        (m_tabular ? tr("\nOn a table: the figures above are Fashion-MNIST's; the networks are "
                        "MLPs (settings of conv nets do not apply).")
                   : QString()));
    m_steps->setValue(static_cast<int>(p->steps));
    m_learningRate->setValue(p->learningRate);
    m_batch->setValue(p->batchSize);
}

ll::TrainConfig TrainPanel::config() const {
    ll::Settings settings;
    for (const auto& [key, edit] : m_settingEdits) {
        const QString value = edit->text().trimmed();
        if (!value.isEmpty()) settings[key] = value.toStdString();
    }
    const bool preset = ll::findPreset(m_preset->currentText().toStdString()) != nullptr;
    return ll::TrainConfig{.model = modelName().toStdString(),
                           .preset = preset ? m_preset->currentText().toStdString() : std::string(),
                           .settings = std::move(settings),
                           .steps = m_steps->value(),
                           .learningRate = m_learningRate->value(),
                           .batchSize = m_batch->value(),
                           .worldSize = m_processes->value(),
                           .seed = static_cast<std::uint64_t>(m_seed->value()),
                           .sampleEvery = m_sampleEvery->value(),
                           .checkpointEvery = m_checkpointEvery->value(),
                           .evalEvery = m_evalEvery->value()};
}

void TrainPanel::showRunConfig(const ll::TrainConfig& config) {
    QSignalBlocker a(m_sampleEvery), b(m_checkpointEvery), c(m_learningRate);
    m_sampleEvery->setValue(config.sampleEvery);
    m_checkpointEvery->setValue(config.checkpointEvery);
    m_learningRate->setValue(config.learningRate);
}

void TrainPanel::setDatasetDescription(const QString& text) {
    m_dataset->setText(text);
}

void TrainPanel::setRunning(bool running) {
    m_running = running;
    m_train->setEnabled(!running);
    m_pause->setEnabled(running);
    m_stop->setEnabled(running);
    m_model->setEnabled(!running);
    m_preset->setEnabled(!running);
    m_settingsBox->setEnabled(!running);
    m_steps->setEnabled(!running);
    m_batch->setEnabled(!running);
    m_processes->setEnabled(!running);
    m_seed->setEnabled(!running);
    if (!running) onPausedChanged(false);
}

void TrainPanel::onStarted(const ll::TrainStarted& info) {
    setRunning(true);
    m_guardBanner->hide();
    m_message->setText(tr("Run folder: %1").arg(QString::fromStdString(info.runDir)));
    if (!info.warning.empty()) {
        // Resumed from an older checkpoint: say which one failed, as the CLI does.
        m_guardBanner->setText(tr("<b>Resumed from an older checkpoint</b><br>%1")
                                   .arg(QString::fromStdString(info.warning).toHtmlEscaped()));
        m_guardBanner->show();
    }
    // What the model costs, as the CLI says it: a very wide table's model is large.
    const QString cost = info.parameters > 0
                             ? tr(" · %1 million parameters, training holds about %2")
                                   .arg(static_cast<double>(info.parameters) / 1e6, 0, 'f', 2)
                                   .arg(QString::fromStdString(
                                       ll::formatBytes(static_cast<double>(info.trainingBytes))))
                             : QString();
    m_device->setText(tr("Device: %1%2").arg(QString::fromStdString(info.device), cost));
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

void TrainPanel::setPausable(bool pausable) {
    m_pause->setEnabled(m_running && pausable);
}

void TrainPanel::onPausedChanged(bool paused) {
    m_paused = paused;
    m_pause->setText(paused ? tr("Resume") : tr("Pause"));
    if (!paused) m_guardBanner->hide();
}

void TrainPanel::onGuardTripped(const QString& message) {
    m_guardBanner->setText(tr("<b>Training paused</b><br>%1").arg(message.toHtmlEscaped()));
    m_guardBanner->show();
    m_learningRate->setFocus();
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
