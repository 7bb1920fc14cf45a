#include "steerpanel.h"

#include <algorithm>
#include <utility>

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPointer>
#include <QPushButton>
#include <QSlider>
#include <QSpinBox>
#include <QVBoxLayout>

#include "backgroundtask.h"
#include "models/catalog.h"
#include "rangeslider.h"
#include "run/runfolder.h"
#include "run/runsampler.h"
#include "sample/sweep.h"

namespace ll::widgets {

namespace {

constexpr int kCols = 8;
constexpr int kRows = 10;
constexpr int kSingleRows = 4;     // one class or a mixture: 4 x 8 tiles
constexpr int kPreviewSteps = 10;  // diffusion steps while a slider is held

bool isDiffusion(const std::string& m) {
    return m == "ddpm" || m == "latent-ddpm";
}
bool isGan(const std::string& m) {
    return m == "dcgan" || m == "cgan" || m == "acgan" || m == "wgan-gp";
}
bool isVae(const std::string& m) {
    return m == "vae" || m == "cvae" || m == "chaotic-vae";
}

QSlider* slider(const char* name, int max, int value) {
    auto* s = new QSlider(Qt::Horizontal);
    s->setObjectName(QLatin1String(name));
    s->setRange(0, max);
    s->setValue(value);
    return s;
}

// Locked tiles get a yellow frame, two pixels inside their edge, so that the user sees which
// keep their latent. Only the picture on screen: the samples themselves are unchanged.
void frameTiles(ll::SampleGrid& grid, const std::vector<ll::PinnedLatent>& pins) {
    const int w = grid.tileWidth, h = grid.tileHeight, stride = grid.atlasWidth() * 4;
    for (const auto& pin : pins) {
        if (pin.tile < 0 || pin.tile >= std::int64_t(grid.rows) * grid.cols) continue;
        const int x0 = int(pin.tile % grid.cols) * w, y0 = int(pin.tile / grid.cols) * h;
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x) {
                if (x >= 2 && x < w - 2 && y >= 2 && y < h - 2) continue;
                auto* px = grid.rgba.data() + std::ptrdiff_t(y0 + y) * stride + (x0 + x) * 4;
                px[0] = 255, px[1] = 200, px[2] = 0, px[3] = 255;
            }
    }
}

// A slider with its value shown beside it.
QWidget* withValue(QSlider* s, QLabel* value) {
    auto* row = new QWidget;
    auto* layout = new QHBoxLayout(row);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(s, 1);
    value->setMinimumWidth(44);
    layout->addWidget(value);
    return row;
}

}  // namespace

struct SteerPanel::Draw {
    QString run;
    QString classifierRun;
    ll::SampleRequest request;
    bool classRows = true;  // one row per class; else rows x cols of request's condition
    std::vector<std::string> rowLabels;
    bool preview = false;
};

struct SteerPanel::Outcome {
    Draw draw;
    std::shared_ptr<ll::RunSampler> sampler;
    std::optional<ll::SampleGrid> grid;
    QString error;
};

SteerPanel::SteerPanel(std::filesystem::path workspace, QWidget* parent)
    : QWidget(parent), m_workspace(std::move(workspace)) {
    m_title = new QLabel(tr("Select a generator run in the runs browser to steer its samples."));
    m_title->setWordWrap(true);
    m_title->setObjectName(QStringLiteral("steerRun"));

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
    auto* intervalRow = new QWidget;
    auto* intervalLayout = new QHBoxLayout(intervalRow);
    intervalLayout->setContentsMargins(0, 0, 0, 0);
    intervalLayout->addWidget(m_interval, 1);
    m_intervalValue->setMinimumWidth(70);
    intervalLayout->addWidget(m_intervalValue);
    auto* diffusionForm = new QFormLayout(m_diffusionBox);
    diffusionForm->addRow(tr("Guidance"), withValue(m_guidance, m_guidanceValue));
    diffusionForm->addRow(tr("Interval"), intervalRow);
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

    auto* sweepBox = new QGroupBox(tr("Sweep"));
    sweepBox->setToolTip(
        tr("An X/Y grid over two settings, every other setting as above; "
           "saved as a PNG with a JSON sidecar in the run's sweeps folder"));
    m_sweepX = new QComboBox;
    m_sweepY = new QComboBox;
    m_sweepX->setObjectName(QStringLiteral("sweepX"));
    m_sweepY->setObjectName(QStringLiteral("sweepY"));
    for (const char* axis : {"guidance", "classifier-scale", "steps", "class", "seed", "checkpoint",
                             "truncation", "temperature"}) {
        m_sweepX->addItem(QLatin1String(axis));
        m_sweepY->addItem(QLatin1String(axis));
    }
    m_sweepXValues = new QLineEdit(QStringLiteral("0, 1, 2, 4"));
    m_sweepYValues = new QLineEdit(QStringLiteral("0, 1, 2"));
    m_sweepXValues->setObjectName(QStringLiteral("sweepXValues"));
    m_sweepYValues->setObjectName(QStringLiteral("sweepYValues"));
    m_sweepY->setCurrentText(QStringLiteral("class"));
    m_sweepButton = new QPushButton(tr("Run sweep"));
    m_sweepButton->setObjectName(QStringLiteral("sweepRunButton"));
    m_sweepStop = new QPushButton(tr("Stop"));
    m_sweepStop->setEnabled(false);
    auto* sweepForm = new QFormLayout(sweepBox);
    auto axisRow = [](QComboBox* axis, QLineEdit* values) {
        auto* row = new QWidget;
        auto* l = new QHBoxLayout(row);
        l->setContentsMargins(0, 0, 0, 0);
        l->addWidget(axis);
        l->addWidget(values, 1);
        return row;
    };
    sweepForm->addRow(tr("Columns"), axisRow(m_sweepX, m_sweepXValues));
    sweepForm->addRow(tr("Rows"), axisRow(m_sweepY, m_sweepYValues));
    auto* sweepButtons = new QHBoxLayout;
    sweepButtons->addWidget(m_sweepButton);
    sweepButtons->addWidget(m_sweepStop);
    sweepForm->addRow(sweepButtons);

    m_status = new QLabel;
    m_status->setObjectName(QStringLiteral("steerStatus"));
    m_status->setWordWrap(true);
    m_tile = new QLabel(tr("Click a tile to see how it was made."));
    m_tile->setObjectName(QStringLiteral("steerTile"));
    m_tile->setWordWrap(true);
    m_tile->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_lockTile = new QPushButton(tr("Lock tile"));
    m_lockTile->setObjectName(QStringLiteral("steerLockTile"));
    m_lockTile->setToolTip(tr("A locked tile keeps its latent when the grid reseeds"));
    m_unlockAll = new QPushButton(tr("Unlock all"));
    m_unlockAll->setObjectName(QStringLiteral("steerUnlockAll"));
    m_toBrowser = new QPushButton(tr("Open in latent browser"));
    m_toBrowser->setObjectName(QStringLiteral("steerToBrowser"));
    m_toBrowser->setToolTip(
        tr("The tile's latent in the Latent mode: its sliders, "
           "interpolation and arithmetic"));
    auto* tileButtons = new QHBoxLayout;
    tileButtons->addWidget(m_lockTile);
    tileButtons->addWidget(m_unlockAll);
    tileButtons->addWidget(m_toBrowser);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_title);
    layout->addLayout(form);
    layout->addWidget(m_mixBox);
    layout->addWidget(m_diffusionBox);
    layout->addWidget(m_ganBox);
    layout->addWidget(m_vaeBox);
    layout->addWidget(sweepBox);
    layout->addWidget(m_status);
    layout->addWidget(m_tile);
    layout->addLayout(tileButtons);
    layout->addStretch(1);

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
        connect(s, &QSlider::valueChanged, this, &SteerPanel::redraw);
        connect(s, &QSlider::sliderReleased, this, &SteerPanel::redraw);
    }
    connect(m_interval, &RangeSlider::rangeChanged, this, valueLabels);
    connect(m_interval, &RangeSlider::rangeChanged, this, &SteerPanel::redraw);
    connect(m_interval, &RangeSlider::released, this, &SteerPanel::redraw);
    connect(m_seed, &QSpinBox::valueChanged, this, &SteerPanel::redraw);
    connect(m_steps, &QSpinBox::valueChanged, this, &SteerPanel::redraw);
    connect(m_samplerKind, &QComboBox::currentIndexChanged, this, &SteerPanel::redraw);
    connect(m_classifier, &QComboBox::currentIndexChanged, this, &SteerPanel::redraw);
    connect(m_classMode, &QComboBox::currentIndexChanged, this, [this] {
        m_mixBox->setVisible(m_classMode->currentData().toInt() == -2);
        redraw();
    });
    connect(m_reseed, &QPushButton::clicked, this, &SteerPanel::reseed);
    connect(m_lockTile, &QPushButton::clicked, this, &SteerPanel::toggleTileLock);
    connect(m_unlockAll, &QPushButton::clicked, this, &SteerPanel::unlockAll);
    connect(m_toBrowser, &QPushButton::clicked, this, &SteerPanel::sendTile);
    connect(m_sweepButton, &QPushButton::clicked, this, &SteerPanel::runSweep);
    connect(m_sweepStop, &QPushButton::clicked, this, [this] {
        if (m_sweepStopFlag) m_sweepStopFlag->store(true);
    });
    setRun({});
}

SteerPanel::~SteerPanel() = default;

void SteerPanel::setRun(const QString& runDir) {
    m_runDir.clear();
    m_pins.clear();
    m_tileIndex = -1;
    m_model.clear();
    m_classNames.clear();
    m_dataset.clear();
    m_numClasses = 0;
    const std::filesystem::path run = runDir.toStdString();
    auto config =
        runDir.isEmpty() ? ll::Result<ll::TrainConfig>(ll::fail("no run")) : ll::readRunConfig(run);
    auto data =
        runDir.isEmpty() ? ll::Result<ll::RunData>(ll::fail("no run")) : ll::readRunData(run);
    const ll::ModelInfo* info = config ? ll::findModel(config->model) : nullptr;
    if (config && data && info && info->generates && !data->shape.tabular()) {
        m_runDir = runDir;
        m_model = config->model;
        m_classNames = data->classNames;
        m_numClasses = int(data->classNames.size());
        m_dataset = data->datasetName;
        m_title->setText(tr("<b>%1</b><br>%2 on %3: move a control and the same seeds redraw")
                             .arg(QFileInfo(runDir).fileName().toHtmlEscaped(),
                                  QString::fromStdString(m_model),
                                  QString::fromStdString(data->datasetName).toHtmlEscaped()));
    } else {
        m_title->setText(
            config && data && info && info->generates
                ? tr("%1 generates table rows: the Steer mode steers images. Sample its rows "
                     "from the runs browser.")
                      .arg(QFileInfo(runDir).fileName())
                : tr("Select a generator run in the runs browser to steer its samples."));
    }
    const bool conditional = info && info->conditional;
    m_conditional = conditional;
    {
        QSignalBlocker block(m_classMode);
        m_classMode->clear();
        if (conditional) {
            m_classMode->addItem(tr("One row per class"), -1);
            for (int k = 0; k < m_numClasses; ++k)
                m_classMode->addItem(QString::fromStdString(m_classNames[std::size_t(k)]), k);
            m_classMode->addItem(tr("Mixture of classes"), -2);
        } else {
            m_classMode->addItem(tr("Unconditional"), -1);
        }
    }
    // One slider per class for the mixture; the first two at half each.
    auto* mixForm = static_cast<QFormLayout*>(m_mixBox->layout());
    while (mixForm->rowCount() > 0) mixForm->removeRow(0);
    m_mix.clear();
    for (int k = 0; k < m_numClasses && conditional; ++k) {
        auto* s = slider("mixSlider", 100, k < 2 ? 50 : 0);
        s->setObjectName(QStringLiteral("mix_%1").arg(k));
        connect(s, &QSlider::valueChanged, this, &SteerPanel::redraw);
        connect(s, &QSlider::sliderReleased, this, &SteerPanel::redraw);
        mixForm->addRow(QString::fromStdString(m_classNames[std::size_t(k)]), s);
        m_mix.push_back(s);
    }
    fillClassifiers();
    showControls();
    showLocks();
    if (!m_runDir.isEmpty()) redraw();
}

void SteerPanel::fillClassifiers() {
    QSignalBlocker block(m_classifier);
    m_classifier->clear();
    m_classifier->addItem(tr("none"), QString());
    if (m_model != "ddpm") return;  // latent-ddpm diffuses latents: no image classifier fits
    for (const auto& r : ll::listRuns(m_workspace))
        if (r.model == "noisy-classifier" && r.dataset == m_dataset)
            m_classifier->addItem(QString::fromStdString(r.dir.filename().string()),
                                  QString::fromStdString(r.dir.string()));
}

void SteerPanel::showControls() {
    const bool any = !m_runDir.isEmpty();
    m_seed->setEnabled(any);
    m_reseed->setEnabled(any);
    m_classMode->setEnabled(any);
    m_mixBox->setVisible(any && m_classMode->currentData().toInt() == -2);
    m_diffusionBox->setVisible(isDiffusion(m_model));
    m_ganBox->setVisible(isGan(m_model));
    m_vaeBox->setVisible(isVae(m_model));
    const bool classifierGuidance = m_model == "ddpm";
    m_classifier->setEnabled(classifierGuidance && m_classifier->count() > 1);
    m_classifierScale->setEnabled(classifierGuidance && m_classifier->count() > 1);
    m_classifier->setToolTip(classifierGuidance
                                 ? (m_classifier->count() > 1
                                        ? tr("A noisy-classifier run of this workspace")
                                        : tr("Train a noisy-classifier run on the same data to "
                                             "use classifier guidance"))
                                 : tr("Classifier guidance needs a pixel-space ddpm run"));
}

bool SteerPanel::dragging() const {
    for (QSlider* s : {m_guidance, m_classifierScale, m_truncation, m_temperature})
        if (s->isSliderDown()) return true;
    for (QSlider* s : m_mix)
        if (s->isSliderDown()) return true;
    return m_interval->isDragging();
}

ll::SampleRequest SteerPanel::request(bool preview) const {
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
    if (preview && isDiffusion(m_model))
        r.steps = r.steps > 0 ? std::min(r.steps, kPreviewSteps) : kPreviewSteps;
    r.pinned = m_pins;
    return r;
}

int SteerPanel::tileCount(const ll::SampleRequest& r) const {
    const bool classRows = r.labels.empty() && r.mixture.empty() && m_conditional;
    return (classRows ? std::min(m_numClasses, kRows) : kSingleRows) * kCols;
}

bool SteerPanel::continueRunningDraw(const ll::SampleRequest& wish, const QString& classifierRun) {
    if (!m_busy || !m_live || !m_continue->isChecked() || classifierRun != m_runningClassifier)
        return false;
    const auto& r = m_running;
    const bool same = wish.seed == r.seed && wish.labels == r.labels && wish.mixture == r.mixture &&
                      wish.steps == r.steps && wish.sampler == r.sampler &&
                      wish.temperature == r.temperature && wish.truncation == r.truncation &&
                      wish.pinned.size() == r.pinned.size();
    if (!same) return false;
    auto& live = *m_live;
    if (live.guidance == wish.guidance && live.classifierScale == wish.classifierScale &&
        live.guidanceFrom == wish.guidanceFrom && live.guidanceTo == wish.guidanceTo)
        return true;  // nothing new
    live.guidance = wish.guidance;
    live.classifierScale = wish.classifierScale;
    live.guidanceFrom = wish.guidanceFrom;
    live.guidanceTo = wish.guidanceTo;
    const int done = m_progress ? m_progress->load() : 0;
    const QString change = tr("from step %1: guidance %2, scale %3, interval %4–%5")
                               .arg(done + 1)
                               .arg(wish.guidance)
                               .arg(wish.classifierScale)
                               .arg(wish.guidanceFrom, 0, 'f', 2)
                               .arg(wish.guidanceTo, 0, 'f', 2);
    // Changes before the next step replace each other.
    if (!m_liveChanges.isEmpty() &&
        m_liveChanges.back().startsWith(tr("from step %1:").arg(done + 1)))
        m_liveChanges.back() = change;
    else
        m_liveChanges << change;
    m_status->setText(tr("The running draw continues %1").arg(change));
    return true;
}

void SteerPanel::redraw() {
    if (m_runDir.isEmpty()) return;
    const int mode = m_classMode->currentData().toInt();
    Draw draw{.run = m_runDir,
              .classifierRun = m_classifier->currentData().toString(),
              .request = request(dragging()),
              .classRows = mode == -1 && m_conditional,
              .preview = dragging()};
    if (mode == -2 && draw.request.mixture.empty()) {
        m_status->setText(tr("Give at least one class of the mixture a weight."));
        return;
    }
    // A full diffusion draw under way takes a new guidance from its current step on.
    if (continueRunningDraw(request(false), draw.classifierRun)) {
        m_pending.reset();
        return;
    }
    if (!draw.classRows && m_conditional) {
        const QString what =
            mode >= 0 ? QString::fromStdString(m_classNames[std::size_t(mode)]) : tr("mixture");
        draw.rowLabels.assign(kSingleRows, what.toStdString());
    }
    if (m_busy) {
        m_pending = std::make_unique<Draw>(std::move(draw));  // replaces an older wish
        if (m_superseded) m_superseded->store(true);          // and stops a long draw
        return;
    }
    start(std::move(draw));
}

void SteerPanel::reseed() {
    m_seed->setValue(m_seed->value() + 1);
}

void SteerPanel::start(Draw draw) {
    m_busy = true;
    m_status->setText(draw.preview ? tr("Drawing a preview…") : tr("Drawing…"));
    std::shared_ptr<ll::RunSampler> sampler = m_samplerRun == draw.run ? m_sampler : nullptr;
    m_superseded = std::make_shared<std::atomic<bool>>(false);
    m_progress = std::make_shared<std::atomic<int>>(0);
    m_liveChanges.clear();
    m_live.reset();
    if (isDiffusion(m_model) && !draw.preview) {  // guidance sliders may steer it midway
        m_live = std::make_shared<ll::LiveGuidance>();
        m_live->guidance = draw.request.guidance;
        m_live->classifierScale = draw.request.classifierScale;
        m_live->guidanceFrom = draw.request.guidanceFrom;
        m_live->guidanceTo = draw.request.guidanceTo;
        draw.request.live = m_live;
        m_running = draw.request;
        m_runningClassifier = draw.classifierRun;
    }
    // Pixel-space diffusion takes seconds on a CPU: show the grid after every denoising step.
    QPointer<SteerPanel> self(this);
    const bool live = m_model == "ddpm";
    const int id = ++m_drawId;
    ll::RunSampler::StepFn onStep = [self, superseded = m_superseded, progress = m_progress, live,
                                     id, pins = draw.request.pinned](const ll::SampleGrid& shown,
                                                                     int done, int total) {
        if (superseded->load()) return false;
        progress->store(done);
        if (live)
            QMetaObject::invokeMethod(
                qApp,
                [self, grid = shown, done, total, id, pins]() mutable {
                    frameTiles(grid, pins);
                    if (!self || !self->m_busy || self->m_drawId != id) return;
                    ++self->m_steps_shown;
                    self->m_status->setText(tr("Denoising: step %1 of %2").arg(done).arg(total));
                    Q_EMIT self->gridReady(
                        grid, tr("Denoising: step %1 of %2").arg(done).arg(total), true);
                },
                Qt::QueuedConnection);
        return true;
    };
    runInBackground<Outcome>(
        this,
        [sampler, draw, onStep]() mutable {
            Outcome out{.draw = draw};
            try {
                if (!sampler) {
                    auto opened = ll::RunSampler::open(draw.run.toStdString());
                    if (!opened) {
                        out.error = QString::fromStdString(opened.error().message);
                        return out;
                    }
                    sampler = std::shared_ptr<ll::RunSampler>(std::move(*opened));
                }
                out.sampler = sampler;
                if (auto ok = sampler->setGuidingClassifier(draw.classifierRun.toStdString());
                    !ok) {
                    out.error = QString::fromStdString(ok.error().message);
                    return out;
                }
                auto request = draw.request;
                ll::Result<ll::SampleGrid> grid =
                    draw.classRows ? sampler->classGrid(request.seed, kCols, kRows, request, onStep)
                                   : (request.count = std::int64_t(kSingleRows) * kCols,
                                      sampler->grid(request, kCols, draw.rowLabels, onStep));
                if (grid)
                    out.grid = std::move(*grid);
                else
                    out.error = QString::fromStdString(grid.error().message);
            } catch (const std::exception& e) {
                out.error = QString::fromUtf8(e.what());
            }
            return out;
        },
        [this](Outcome out) { finish(std::move(out)); });
}

void SteerPanel::finish(Outcome out) {
    m_busy = false;
    if (m_live) {  // the grid shows the guidance the draw ended with
        out.draw.request.guidance = m_live->guidance;
        out.draw.request.classifierScale = m_live->classifierScale;
        out.draw.request.guidanceFrom = m_live->guidanceFrom;
        out.draw.request.guidanceTo = m_live->guidanceTo;
        m_live.reset();
    }
    out.draw.request.live.reset();
    const QStringList changes = std::exchange(m_liveChanges, {});
    if (out.sampler && out.draw.run == m_runDir) {
        m_sampler = out.sampler;
        m_samplerRun = out.draw.run;
    }
    // A newer request waits: this grid is already stale, draw that one instead. A preview
    // that finished after its release still shows, the full grid follows at once.
    std::unique_ptr<Draw> next = std::move(m_pending);
    const bool current = out.draw.run == m_runDir;
    const bool stopped = next && out.error == QStringLiteral("sampling stopped");
    if (current && !out.error.isEmpty() && !stopped) {
        m_status->setText(out.error);
        Q_EMIT message(out.error);
    } else if (current && out.grid && (!next || out.draw.preview)) {
        ++m_draws;
        m_shown = out.draw.request;
        m_sweepShown = false;
        out.grid->step = out.sampler->step();
        const QString caption =
            tr("%1 at step %2, seed %3%4")
                .arg(QFileInfo(out.draw.run).fileName())
                .arg(out.sampler->step())
                .arg(out.draw.request.seed)
                .arg(out.draw.preview ? tr(" (preview: %1 steps; release for full quality)")
                                            .arg(out.draw.request.steps)
                                      : QString()) +
            (changes.isEmpty()
                 ? QString()
                 : tr("; guidance changed mid-run, %1").arg(changes.join(QStringLiteral("; "))));
        m_status->setText(out.draw.preview ? tr("Preview")
                          : changes.isEmpty()
                              ? tr("Done.")
                              : tr("Done; continued %1").arg(changes.join(QStringLiteral("; "))));
        m_shownGrid = *out.grid;
        m_shownCaption = caption;
        m_shownPreview = out.draw.preview;
        frameTiles(*out.grid, out.draw.request.pinned);
        Q_EMIT gridReady(*out.grid, caption, out.draw.preview);
        if (m_tileIndex >= 0) describeTile(m_tileIndex);  // the clicked tile, as it is now
    }
    if (next && next->run == m_runDir) start(std::move(*next));
}

void SteerPanel::runSweep() {
    if (m_runDir.isEmpty() || m_busy) return;
    auto axis = [](QComboBox* name, QLineEdit* values) {
        QString text = values->text();
        text.remove(QLatin1Char(' '));
        return ll::parseSweepAxis((name->currentText() + QLatin1Char('=') + text).toStdString());
    };
    auto x = axis(m_sweepX, m_sweepXValues);
    auto y = axis(m_sweepY, m_sweepYValues);
    if (!x || !y) {
        const QString why = QString::fromStdString((!x ? x : y).error().message);
        m_status->setText(why);
        Q_EMIT message(why);
        return;
    }
    const QString dir = m_runDir + QStringLiteral("/sweeps");
    QDir().mkpath(dir);
    const QString out =
        dir + QStringLiteral("/sweep-%1.png")
                  .arg(QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-hhmmss")));
    ll::SweepRequest request{.run = m_runDir.toStdString(),
                             .x = *x,
                             .y = *y,
                             .base = this->request(false),
                             .defaultClass = std::max(0, m_classMode->currentData().toInt())};
    request.base.labels.clear();
    request.base.mixture.clear();
    request.base.pinned.clear();  // locks are the grid's: every cell has its own latent
    const int rows = int(y->values.size()), cols = int(x->values.size());
    QStringList columns;
    for (double v : x->values) columns << QString::number(v);
    std::vector<std::string> rowLabels;
    for (double v : y->values)
        rowLabels.push_back(y->axis == ll::SweepAxis::Class && v < m_classNames.size()
                                ? m_classNames[std::size_t(v)]
                                : m_sweepY->currentText().toStdString() + " " +
                                      QString::number(v).toStdString());
    const QString caption = tr("Sweep: columns %1 = %2; saved to %3")
                                .arg(m_sweepX->currentText(), columns.join(QStringLiteral(", ")),
                                     QFileInfo(out).fileName());
    m_busy = true;
    m_sweepGrid = {};
    m_sweepShown = true;
    m_sweepColumns = {m_sweepX->currentText(), columns};
    m_sweepRows.clear();
    for (const auto& label : rowLabels) m_sweepRows << QString::fromStdString(label);
    m_sweepButton->setEnabled(false);
    m_sweepStop->setEnabled(true);
    m_sweepStopFlag = std::make_shared<std::atomic<bool>>(false);
    m_status->setText(tr("Sweeping: 0 of %1 cells").arg(rows * cols));
    QPointer<SteerPanel> self(this);
    auto stop = m_sweepStopFlag;
    auto onCell = [self, stop, rows, cols, rowLabels, caption](int r, int c,
                                                               const ll::SampleGrid& tile) {
        QMetaObject::invokeMethod(
            qApp,
            [self, r, c, tile, rows, cols, rowLabels, caption] {
                if (!self) return;
                auto& g = self->m_sweepGrid;
                if (g.empty()) {  // the first cell fixes the tile size
                    g.rows = rows;
                    g.cols = cols;
                    g.tileWidth = tile.tileWidth;
                    g.tileHeight = tile.tileHeight;
                    g.rgba.assign(std::size_t(g.atlasWidth()) * g.atlasHeight() * 4, 0);
                    g.rowLabels = rowLabels;
                }
                if (tile.tileWidth != g.tileWidth || tile.tileHeight != g.tileHeight) return;
                for (int py = 0; py < g.tileHeight; ++py)
                    std::copy_n(
                        tile.rgba.begin() + std::ptrdiff_t(py) * g.tileWidth * 4, g.tileWidth * 4,
                        g.rgba.begin() + (std::ptrdiff_t(r * g.tileHeight + py) * g.atlasWidth() +
                                          std::ptrdiff_t(c) * g.tileWidth) *
                                             4);
                self->m_status->setText(
                    tr("Sweeping: %1 of %2 cells").arg(r * cols + c + 1).arg(rows * cols));
                Q_EMIT self->gridReady(g, caption, true);
            },
            Qt::QueuedConnection);
        return !stop->load();
    };
    struct SweepOutcome {
        QString error;
    };
    runInBackground<SweepOutcome>(
        this,
        [request, out, onCell]() {
            try {
                auto file = ll::runSweep(request, out.toStdString(), onCell);
                return SweepOutcome{file ? QString()
                                         : QString::fromStdString(file.error().message)};
            } catch (const std::exception& e) {
                return SweepOutcome{QString::fromUtf8(e.what())};
            }
        },
        [this, out, caption](SweepOutcome result) {
            m_busy = false;
            m_sweepButton->setEnabled(true);
            m_sweepStop->setEnabled(false);
            if (!result.error.isEmpty()) {
                m_status->setText(result.error);
                Q_EMIT message(result.error);
            } else {
                m_status->setText(tr("Sweep saved: %1 (+ .json)").arg(out));
                if (!m_sweepGrid.empty()) Q_EMIT gridReady(m_sweepGrid, caption, false);
            }
            if (m_pending) {  // a control moved meanwhile
                auto next = std::move(m_pending);
                start(std::move(*next));
            }
        });
}

void SteerPanel::describeTile(int index) {
    if (m_runDir.isEmpty() || index < 0) return;
    if (m_sweepShown) {  // a cell of the sweep on screen: its settings are the axes'
        const int cols = int(m_sweepColumns.second.size());
        const int row = index / std::max(1, cols), col = index % std::max(1, cols);
        if (row >= m_sweepRows.size()) return;
        m_tileIndex = -1;
        m_tile->setText(
            tr("Sweep cell: %1, %2 %3 (other settings as the controls say; the "
               "sweep's JSON sidecar has them all).")
                .arg(m_sweepRows[row], m_sweepColumns.first, m_sweepColumns.second.value(col)));
        showLocks();
        return;
    }
    if (index >= tileCount(m_shown)) return;
    m_tileIndex = index;
    const int row = index / kCols, col = index % kCols;
    const auto& r = m_shown;
    QString cls;
    if (!r.mixture.empty()) {
        QStringList parts;
        for (const auto& [k, w] : r.mixture)
            parts << QStringLiteral("%1 %2")
                         .arg(QString::fromStdString(m_classNames[std::size_t(k)]))
                         .arg(w);
        cls = tr("mixture of %1").arg(parts.join(QStringLiteral(", ")));
    } else if (!r.labels.empty()) {
        cls = QString::fromStdString(m_classNames[std::size_t(r.labels.front())]);
    } else if (row < m_numClasses) {
        cls = QString::fromStdString(m_classNames[std::size_t(row)]);
    }
    QString settings;
    if (isDiffusion(m_model))
        settings = tr("guidance %1 between noise levels %2 and %3, classifier scale %4, %5 %6 "
                      "steps")
                       .arg(r.guidance)
                       .arg(r.guidanceFrom)
                       .arg(r.guidanceTo)
                       .arg(r.classifierScale)
                       .arg(r.sampler == ll::Sampler::Ddim ? QStringLiteral("DDIM")
                                                           : QStringLiteral("DDPM"))
                       .arg(r.steps > 0 ? QString::number(r.steps) : tr("default"));
    else if (isGan(m_model))
        settings = r.truncation > 0 ? tr("truncation %1").arg(r.truncation) : tr("no truncation");
    else
        settings = tr("temperature %1").arg(r.temperature);
    // A locked tile's latent is that of its own draw, not of the grid's seed.
    const auto pin = std::find_if(m_shown.pinned.begin(), m_shown.pinned.end(),
                                  [&](const ll::PinnedLatent& p) { return p.tile == index; });
    const bool locked = std::any_of(m_pins.begin(), m_pins.end(),
                                    [&](const ll::PinnedLatent& p) { return p.tile == index; });
    const std::uint64_t seed = pin != m_shown.pinned.end() ? pin->seed : r.seed;
    const std::int64_t sample = pin != m_shown.pinned.end() ? pin->index : index;
    m_tile->setText(tr("Tile row %1, column %2: %3; seed %4, sample %5 of its batch; %6. "
                       "latentlab-cli sample --seed %4 reproduces it.")
                        .arg(row)
                        .arg(col)
                        .arg(cls.isEmpty() ? tr("no class") : cls)
                        .arg(seed)
                        .arg(sample)
                        .arg(settings) +
                    (locked ? tr(" Locked: its latent stays when the grid reseeds.") : QString()));
    showLocks();
}

void SteerPanel::showLocks() {
    const bool tile = !m_runDir.isEmpty() && m_tileIndex >= 0;
    const bool locked =
        tile && std::any_of(m_pins.begin(), m_pins.end(),
                            [&](const ll::PinnedLatent& p) { return p.tile == m_tileIndex; });
    m_lockTile->setEnabled(tile);
    m_lockTile->setText(locked ? tr("Unlock tile") : tr("Lock tile"));
    m_unlockAll->setEnabled(!m_pins.empty());
    m_unlockAll->setText(m_pins.empty() ? tr("Unlock all")
                                        : tr("Unlock all (%1)").arg(m_pins.size()));
    m_toBrowser->setEnabled(tile);
}

void SteerPanel::toggleTileLock() {
    if (m_runDir.isEmpty() || m_tileIndex < 0) return;
    const auto at = std::find_if(m_pins.begin(), m_pins.end(),
                                 [&](const ll::PinnedLatent& p) { return p.tile == m_tileIndex; });
    if (at != m_pins.end()) {
        m_pins.erase(at);  // it follows the grid's seed again
        m_status->setText(tr("Tile %1 unlocked.").arg(m_tileIndex));
        describeTile(m_tileIndex);
        redraw();
        return;
    }
    // The latent the tile shows now: its own draw's, or the one it was locked to before.
    m_pins.push_back({.tile = m_tileIndex,
                      .seed = m_shown.seed,
                      .count = tileCount(m_shown),
                      .index = m_tileIndex});
    m_status->setText(tr("Tile %1 locked: it keeps its latent when you reseed (%2 locked).")
                          .arg(m_tileIndex)
                          .arg(m_pins.size()));
    describeTile(m_tileIndex);
    if (!m_shownGrid.empty()) {  // the same grid, its locked tiles framed
        auto framed = m_shownGrid;
        frameTiles(framed, m_pins);
        Q_EMIT gridReady(framed, m_shownCaption, m_shownPreview);
    }
}

void SteerPanel::unlockAll() {
    if (m_pins.empty()) return;
    m_pins.clear();
    showLocks();
    redraw();
}

void SteerPanel::sendTile() {
    if (m_runDir.isEmpty() || m_tileIndex < 0) return;
    ll::SampleRequest r = m_shown;
    r.count = tileCount(m_shown);
    r.onStep = {};
    r.live.reset();
    int label = -1;
    if (!r.mixture.empty())
        label =
            std::max_element(r.mixture.begin(), r.mixture.end(), [](const auto& a, const auto& b) {
                return a.second < b.second;
            })->first;
    else if (!r.labels.empty())
        label = int(r.labels.front());
    else if (m_conditional)
        label = m_tileIndex / kCols;
    Q_EMIT tileSent(m_runDir, r, m_tileIndex, label);
}

}  // namespace ll::widgets
