#include "steer/steercontrols.h"

#include <algorithm>
#include <utility>

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSlider>
#include <QSpinBox>
#include <QVBoxLayout>

#include "common/rangeslider.h"
#include "run/runfolder.h"

namespace ll::widgets {

namespace {

constexpr int kPreviewSteps = 10;  // diffusion steps while a slider is held

QSlider* slider(const char* name, int max, int value) {
    auto* s = new QSlider(Qt::Horizontal);
    s->setObjectName(QLatin1String(name));
    s->setRange(0, max);
    s->setValue(value);
    return s;
}

// A control (a slider, the interval's two-handle slider) with its value shown beside it.
QWidget* withValue(QWidget* control, QLabel* value, int valueWidth = 44) {
    auto* row = new QWidget;
    auto* layout = new QHBoxLayout(row);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(control, 1);
    value->setMinimumWidth(valueWidth);
    layout->addWidget(value);
    return row;
}

}  // namespace

SteerControls::SteerControls(std::filesystem::path workspace, QWidget* parent)
    : QWidget(parent), m_workspace(std::move(workspace)) {
    m_seed = new QSpinBox;
    m_seed->setObjectName(QStringLiteral("steerSeed"));
    m_seed->setRange(0, 2'000'000'000);
    m_seed->setValue(1);
    m_seed->setKeyboardTracking(false);
    m_reseed = new QPushButton(tr("Reseed"));
    m_reseed->setObjectName(QStringLiteral("steerReseed"));
    auto* seedRow = new QHBoxLayout;
    seedRow->addWidget(m_seed, 1);
    seedRow->addWidget(m_reseed);
    m_classMode = new QComboBox;
    m_classMode->setObjectName(QStringLiteral("steerClass"));
    auto* form = new QFormLayout;
    form->addRow(tr("Seed"), seedRow);
    form->addRow(tr("Classes"), m_classMode);

    m_mixBox = new QGroupBox(tr("Class mixture"));
    m_mixBox->setToolTip(tr("Every tile is conditioned on the weighted mix of these classes"));
    new QFormLayout(m_mixBox);

    m_diffusionBox = new QGroupBox(tr("Diffusion"));
    m_guidance = slider("guidanceSlider", 100, 0);
    m_guidance->setToolTip(tr("Classifier-free guidance weight w, 0 to 10"));
    m_guidanceValue = new QLabel;
    m_interval = new RangeSlider;
    m_interval->setObjectName(QStringLiteral("guidanceInterval"));
    m_interval->setToolTip(
        tr("Guide only while the noise level t/T lies between the handles "
           "(0: clean image, 1: pure noise)"));
    m_intervalValue = new QLabel;
    m_classifier = new QComboBox;
    m_classifier->setObjectName(QStringLiteral("guidingClassifier"));
    m_classifierScale = slider("classifierScaleSlider", 100, 0);
    m_classifierScale->setToolTip(tr("Classifier guidance scale, 0 to 10"));
    m_classifierScaleValue = new QLabel;
    m_steps = new QSpinBox;
    m_steps->setObjectName(QStringLiteral("steerSteps"));
    m_steps->setRange(0, 1000);
    m_steps->setSpecialValueText(tr("model's default"));
    m_steps->setKeyboardTracking(false);
    m_samplerKind = new QComboBox;
    m_samplerKind->addItem(QStringLiteral("DDIM"), int(ll::Sampler::Ddim));
    m_samplerKind->addItem(QStringLiteral("DDPM"), int(ll::Sampler::Ddpm));
    auto* diffusionForm = new QFormLayout(m_diffusionBox);
    diffusionForm->addRow(tr("Guidance"), withValue(m_guidance, m_guidanceValue));
    diffusionForm->addRow(tr("Interval"), withValue(m_interval, m_intervalValue, 70));
    diffusionForm->addRow(tr("Classifier"), m_classifier);
    diffusionForm->addRow(tr("Scale"), withValue(m_classifierScale, m_classifierScaleValue));
    diffusionForm->addRow(tr("Steps"), m_steps);
    diffusionForm->addRow(tr("Sampler"), m_samplerKind);
    m_continue = new QCheckBox(tr("A running draw follows the guidance"));
    m_continue->setObjectName(QStringLiteral("steerContinue"));
    m_continue->setChecked(true);
    m_continue->setToolTip(
        tr("Moving guidance, scale or interval while a full draw denoises continues it from "
           "its current step with the new setting instead of starting over"));
    diffusionForm->addRow(m_continue);

    m_ganBox = new QGroupBox(tr("GAN"));
    m_truncation = slider("truncationSlider", 300, 0);
    m_truncation->setToolTip(tr("Resample latents until every |z_i| <= T; 0 is off"));
    m_truncationValue = new QLabel;
    auto* ganForm = new QFormLayout(m_ganBox);
    ganForm->addRow(tr("Truncation"), withValue(m_truncation, m_truncationValue));

    m_vaeBox = new QGroupBox(tr("VAE"));
    m_temperature = slider("temperatureSlider", 300, 100);
    m_temperature->setToolTip(tr("Scale of the prior's standard deviation"));
    m_temperatureValue = new QLabel;
    auto* vaeForm = new QFormLayout(m_vaeBox);
    vaeForm->addRow(tr("Temperature"), withValue(m_temperature, m_temperatureValue));

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(form);
    layout->addWidget(m_mixBox);
    layout->addWidget(m_diffusionBox);
    layout->addWidget(m_ganBox);
    layout->addWidget(m_vaeBox);

    auto valueLabels = [this] {
        m_guidanceValue->setText(QString::number(m_guidance->value() / 10.0, 'f', 1));
        m_classifierScaleValue->setText(QString::number(m_classifierScale->value() / 10.0, 'f', 1));
        m_truncationValue->setText(m_truncation->value() == 0
                                       ? tr("off")
                                       : QString::number(m_truncation->value() / 100.0, 'f', 2));
        m_temperatureValue->setText(QString::number(m_temperature->value() / 100.0, 'f', 2));
        m_intervalValue->setText(QStringLiteral("%1 – %2")
                                     .arg(m_interval->lower(), 0, 'f', 2)
                                     .arg(m_interval->upper(), 0, 'f', 2));
    };
    valueLabels();
    for (QSlider* s : {m_guidance, m_classifierScale, m_truncation, m_temperature}) {
        connect(s, &QSlider::valueChanged, this, valueLabels);
        connect(s, &QSlider::valueChanged, this, &SteerControls::changed);
        connect(s, &QSlider::sliderReleased, this, &SteerControls::changed);
    }
    connect(m_interval, &RangeSlider::rangeChanged, this, valueLabels);
    connect(m_interval, &RangeSlider::rangeChanged, this, &SteerControls::changed);
    connect(m_interval, &RangeSlider::released, this, &SteerControls::changed);
    connect(m_seed, &QSpinBox::valueChanged, this, &SteerControls::changed);
    connect(m_steps, &QSpinBox::valueChanged, this, &SteerControls::changed);
    connect(m_samplerKind, &QComboBox::currentIndexChanged, this, &SteerControls::changed);
    connect(m_classifier, &QComboBox::currentIndexChanged, this, &SteerControls::changed);
    connect(m_classMode, &QComboBox::currentIndexChanged, this, [this] {
        m_mixBox->setVisible(m_classMode->currentData().toInt() == -2);
        Q_EMIT changed();
    });
    connect(m_reseed, &QPushButton::clicked, this, &SteerControls::reseed);
    setRun({});
}

void SteerControls::reseed() {
    m_seed->setValue(m_seed->value() + 1);
}

int SteerControls::classMode() const {
    return m_classMode->currentData().toInt();
}

QString SteerControls::classifierRun() const {
    return m_classifier->currentData().toString();
}

bool SteerControls::followsGuidance() const {
    return m_continue->isChecked();
}

void SteerControls::setRun(const SteerRun& run) {
    m_run = run;
    const bool conditional = !run.dir.isEmpty() && run.conditional;
    const int numClasses = run.dir.isEmpty() ? 0 : run.numClasses();
    const auto& classNames = run.classNames;
    {
        QSignalBlocker block(m_classMode);
        m_classMode->clear();
        if (conditional) {
            m_classMode->addItem(tr("One row per class"), -1);
            for (int k = 0; k < numClasses; ++k)
                m_classMode->addItem(QString::fromStdString(classNames[std::size_t(k)]), k);
            m_classMode->addItem(tr("Mixture of classes"), -2);
        } else {
            m_classMode->addItem(tr("Unconditional"), -1);
        }
    }
    // One slider per class for the mixture; the first two at half each.
    auto* mixForm = static_cast<QFormLayout*>(m_mixBox->layout());
    while (mixForm->rowCount() > 0) mixForm->removeRow(0);
    m_mix.clear();
    for (int k = 0; k < numClasses && conditional; ++k) {
        auto* s = slider("mixSlider", 100, k < 2 ? 50 : 0);
        s->setObjectName(QStringLiteral("mix_%1").arg(k));
        connect(s, &QSlider::valueChanged, this, &SteerControls::changed);
        connect(s, &QSlider::sliderReleased, this, &SteerControls::changed);
        mixForm->addRow(QString::fromStdString(classNames[std::size_t(k)]), s);
        m_mix.push_back(s);
    }
    fillClassifiers();
    showControls();
}

void SteerControls::fillClassifiers() {
    QSignalBlocker block(m_classifier);
    m_classifier->clear();
    m_classifier->addItem(tr("none"), QString());
    if (m_run.dir.isEmpty() || !m_run.info().classifierGuidance) return;
    for (const auto& r : ll::listRuns(m_workspace))
        if (ll::modelInfo(r.model).guidesDiffusion && r.dataset == m_run.dataset)
            m_classifier->addItem(QString::fromStdString(r.dir.filename().string()),
                                  QString::fromStdString(r.dir.string()));
}

void SteerControls::showControls() {
    const bool any = !m_run.dir.isEmpty();
    m_seed->setEnabled(any);
    m_reseed->setEnabled(any);
    m_classMode->setEnabled(any);
    m_mixBox->setVisible(any && m_classMode->currentData().toInt() == -2);
    const ll::ModelInfo& model = m_run.info();
    m_diffusionBox->setVisible(model.family == ll::ModelFamily::Diffusion);
    m_ganBox->setVisible(model.knob == ll::SampleKnob::Truncation);
    m_vaeBox->setVisible(model.knob == ll::SampleKnob::Temperature);
    const bool classifierGuidance = model.classifierGuidance;
    m_classifier->setEnabled(classifierGuidance && m_classifier->count() > 1);
    m_classifierScale->setEnabled(classifierGuidance && m_classifier->count() > 1);
    m_classifier->setToolTip(classifierGuidance
                                 ? (m_classifier->count() > 1
                                        ? tr("A noisy-classifier run of this workspace")
                                        : tr("Train a noisy-classifier run on the same data to "
                                             "use classifier guidance"))
                                 : tr("This model takes no classifier guidance (a noisy "
                                      "classifier sees images, not latents)"));
}

bool SteerControls::dragging() const {
    for (QSlider* s : {m_guidance, m_classifierScale, m_truncation, m_temperature})
        if (s->isSliderDown()) return true;
    for (QSlider* s : m_mix)
        if (s->isSliderDown()) return true;
    return m_interval->isDragging();
}

ll::SampleRequest SteerControls::request(bool preview) const {
    ll::SampleRequest r{.seed = static_cast<std::uint64_t>(m_seed->value()),
                        .temperature = m_temperature->value() / 100.0,
                        .truncation = m_truncation->value() / 100.0,
                        .guidance = m_guidance->value() / 10.0,
                        .guidanceFrom = m_interval->lower(),
                        .guidanceTo = m_interval->upper(),
                        .steps = m_steps->value(),
                        .sampler = ll::Sampler(m_samplerKind->currentData().toInt())};
    if (!m_classifier->currentData().toString().isEmpty())
        r.classifierScale = m_classifierScale->value() / 10.0;
    const int mode = m_classMode->currentData().toInt();
    if (mode >= 0) r.labels = {mode};
    if (mode == -2)
        for (std::size_t k = 0; k < m_mix.size(); ++k)
            if (m_mix[k]->value() > 0) r.mixture.emplace_back(int(k), m_mix[k]->value() / 100.0);
    if (preview && m_run.info().family == ll::ModelFamily::Diffusion)
        r.steps = r.steps > 0 ? std::min(r.steps, kPreviewSteps) : kPreviewSteps;
    return r;
}

}  // namespace ll::widgets
