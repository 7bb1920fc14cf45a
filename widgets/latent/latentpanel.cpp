#include "latent/latentpanel.h"

#include <algorithm>
#include <cmath>

#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPixmap>
#include <QPushButton>
#include <QScrollArea>
#include <QSlider>
#include <QSpinBox>
#include <QVBoxLayout>

#include "common/runsamplerqueue.h"
#include "latent/latentsliders.h"
#include "latent/latentview.h"
#include "models/catalog.h"
#include "run/runfolder.h"
#include "run/runsampler.h"
#include "sample/latentarithmetic.h"

namespace ll::widgets {

namespace {

constexpr int kDirections = LatentSliders::kDirections;

QString describeLatent(const std::vector<float>& z) {
    double norm = 0;
    for (float v : z) norm += double(v) * v;
    return QObject::tr("|z| = %1").arg(std::sqrt(norm), 0, 'f', 2);
}

}  // namespace

LatentPanel::LatentPanel(RunSamplerQueue* samplers, LatentView* view, QWidget* parent)
    : QWidget(parent), m_samplers(samplers), m_view(view) {
    m_title = new QLabel;
    m_title->setWordWrap(true);
    m_title->setObjectName(QStringLiteral("latentRun"));

    m_count = new QSpinBox;
    m_count->setObjectName(QStringLiteral("latentCount"));
    m_count->setRange(100, 20000);
    m_count->setSingleStep(500);
    m_count->setValue(2000);
    m_count->setToolTip(tr("Drawn latents, and as many encoded training images (VAE family)"));
    m_seed = new QSpinBox;
    m_seed->setRange(0, 2'000'000'000);
    m_seed->setObjectName(QStringLiteral("latentSeed"));
    m_showReal = new QCheckBox(tr("encoded data"));
    m_showDrawn = new QCheckBox(tr("drawn latents"));
    m_showReal->setChecked(true);
    m_showDrawn->setChecked(true);
    m_build = new QPushButton(tr("Build map"));
    m_build->setObjectName(QStringLiteral("latentBuild"));
    auto* shown = new QHBoxLayout;
    shown->addWidget(m_showReal);
    shown->addWidget(m_showDrawn);
    auto* form = new QFormLayout;
    form->addRow(tr("Points"), m_count);
    form->addRow(tr("Seed"), m_seed);
    form->addRow(tr("Show"), shown);
    form->addRow(m_build);

    auto* currentBox = new QGroupBox(tr("Current latent"));
    m_picture = new QLabel;
    m_picture->setObjectName(QStringLiteral("latentPicture"));
    m_picture->setFixedSize(140, 140);
    m_picture->setAlignment(Qt::AlignCenter);
    m_picture->setFrameShape(QFrame::StyledPanel);
    m_description = new QLabel(tr("Click a point or a place of the map."));
    m_description->setObjectName(QStringLiteral("latentDescription"));
    m_description->setWordWrap(true);
    m_class = new QComboBox;
    m_class->setObjectName(QStringLiteral("latentClass"));
    auto* pictureRow = new QHBoxLayout;
    pictureRow->addWidget(m_picture);
    pictureRow->addWidget(m_description, 1);
    auto* pickRow = new QHBoxLayout;
    const char* names[] = {"A", "B", "C"};
    for (int k = 0; k < 3; ++k) {
        m_pick[std::size_t(k)] = new QPushButton(tr("Set %1").arg(QLatin1String(names[k])));
        m_pick[std::size_t(k)]->setObjectName(
            QStringLiteral("latentPick%1").arg(QLatin1String(names[k])));
        m_pick[std::size_t(k)]->setToolTip(
            tr("Keep the current latent as %1 (interpolation A to B, arithmetic A - B + C)")
                .arg(QLatin1String(names[k])));
        pickRow->addWidget(m_pick[std::size_t(k)]);
        connect(m_pick[std::size_t(k)], &QPushButton::clicked, this, [this, k] { pickEnd(k); });
    }
    auto* currentLayout = new QVBoxLayout(currentBox);
    currentLayout->addLayout(pictureRow);
    auto* classForm = new QFormLayout;
    classForm->addRow(tr("Class"), m_class);
    currentLayout->addLayout(classForm);
    currentLayout->addLayout(pickRow);

    m_sliders = new LatentSliders;

    auto* interpolationBox = new QGroupBox(tr("Interpolation and arithmetic"));
    m_endsLabel = new QLabel;
    m_endsLabel->setObjectName(QStringLiteral("latentEnds"));
    m_endsLabel->setWordWrap(true);
    m_steps = new QSpinBox;
    m_steps->setObjectName(QStringLiteral("latentSteps"));
    m_steps->setRange(2, 200);
    m_steps->setValue(10);
    m_path = new QComboBox;
    m_path->setObjectName(QStringLiteral("latentPath"));
    m_path->addItem(tr("slerp (great circle)"), int(ll::Interpolation::Spherical));
    m_path->addItem(tr("lerp (straight line)"), int(ll::Interpolation::Linear));
    m_interpolate = new QPushButton(tr("Interpolate A → B"));
    m_interpolate->setObjectName(QStringLiteral("latentInterpolate"));
    m_export = new QPushButton(tr("Save strip and video"));
    m_export->setObjectName(QStringLiteral("latentExport"));
    m_export->setToolTip(tr("Writes <run>/latent/interpolation-<time>.png and .mp4"));
    m_arithmetic = new QPushButton(tr("Decode A − B + C"));
    m_arithmetic->setObjectName(QStringLiteral("latentArithmetic"));
    m_arithmetic->setToolTip(
        tr("Latent arithmetic: what A has and B lacks, added to C (decoded with C's class)"));
    auto* interpolationForm = new QFormLayout(interpolationBox);
    interpolationForm->addRow(m_endsLabel);
    interpolationForm->addRow(tr("Steps"), m_steps);
    interpolationForm->addRow(tr("Path"), m_path);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_interpolate);
    buttons->addWidget(m_export);
    interpolationForm->addRow(buttons);
    interpolationForm->addRow(m_arithmetic);

    m_status = new QLabel;
    m_status->setObjectName(QStringLiteral("latentStatus"));
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_title);
    layout->addLayout(form);
    layout->addWidget(currentBox);
    layout->addWidget(m_sliders);
    layout->addWidget(interpolationBox);
    layout->addWidget(m_status);
    layout->addStretch(1);

    connect(m_build, &QPushButton::clicked, this, &LatentPanel::buildMap);
    connect(m_sliders, &LatentSliders::changed, this, &LatentPanel::decodeCurrent);
    connect(m_class, &QComboBox::currentIndexChanged, this, [this] { decodeCurrent(); });
    connect(m_interpolate, &QPushButton::clicked, this, &LatentPanel::interpolate);
    connect(m_export, &QPushButton::clicked, this, &LatentPanel::exportInterpolation);
    connect(m_arithmetic, &QPushButton::clicked, this, &LatentPanel::arithmetic);
    auto showKinds = [this] {
        m_view->setShown(m_showReal->isChecked(), m_showDrawn->isChecked());
    };
    connect(m_showReal, &QCheckBox::toggled, this, showKinds);
    connect(m_showDrawn, &QCheckBox::toggled, this, showKinds);
    connect(m_view, &LatentView::pointClicked, this, &LatentPanel::choosePoint);
    connect(m_view, &LatentView::placeClicked, this, &LatentPanel::choosePlace);
    setRun({});
}

LatentPanel::~LatentPanel() = default;

QString LatentPanel::className(int label) const {
    return label >= 0 && std::size_t(label) < m_classNames.size()
               ? QString::fromStdString(m_classNames[std::size_t(label)])
               : tr("no class");
}

void LatentPanel::setRun(const QString& runDir) {
    if (runDir == m_runDir && !runDir.isEmpty()) return;
    m_runDir.clear();
    m_model.clear();
    m_classNames.clear();
    m_map = {};
    m_sliders->clear();
    m_ends = {};
    m_image = {};
    m_steering = {};
    m_samplers->dropWaiting(this);  // a running job finishes; its result is dropped
    m_picture->clear();
    m_description->setText(tr("Click a point or a place of the map."));
    const std::filesystem::path run = runDir.toStdString();
    auto config =
        runDir.isEmpty() ? ll::Result<ll::TrainConfig>(ll::fail("no run")) : ll::readRunConfig(run);
    auto data =
        runDir.isEmpty() ? ll::Result<ll::RunData>(ll::fail("no run")) : ll::readRunData(run);
    const ll::ModelInfo* info = config ? ll::findModel(config->model) : nullptr;
    const bool ok = config && data && info && info->generates && !data->shape.tabular();
    if (ok) {
        m_runDir = runDir;
        m_model = config->model;
        m_classNames = data->classNames;
        m_conditional = info->conditional;
        const bool encodes = info->encodes;
        m_title->setText(
            tr("<b>%1</b><br>%2 on %3: %4")
                .arg(QFileInfo(runDir).fileName().toHtmlEscaped(), QString::fromStdString(m_model),
                     QString::fromStdString(data->datasetName).toHtmlEscaped(),
                     encodes ? tr("its encoder maps the training images, its prior draws latents")
                     : m_conditional ? tr("latents drawn with their classes (nothing to encode)")
                                     : tr("latents drawn from its prior (nothing to encode)")));
        m_view->clear(tr("Building the latent map…"));
    } else {
        m_title->setText(
            config && data && info && info->generates
                ? tr("%1 generates table rows: the latent browser shows images.")
                      .arg(QFileInfo(runDir).fileName())
                : tr("Select a generator run of images in the runs browser to browse its latent "
                     "space."));
        m_view->clear(m_title->text());
    }
    {
        QSignalBlocker block(m_class);
        m_class->clear();
        if (m_conditional && ok)
            for (std::size_t k = 0; k < m_classNames.size(); ++k)
                m_class->addItem(QString::fromStdString(m_classNames[k]), int(k));
        else
            m_class->addItem(tr("unconditional"), -1);
        m_class->setEnabled(m_conditional && ok);
    }
    for (QWidget* w : std::initializer_list<QWidget*>{m_build, m_count, m_seed, m_interpolate,
                                                      m_export, m_arithmetic})
        w->setEnabled(ok);
    for (QPushButton* b : m_pick) b->setEnabled(false);
    m_samplers->hold(this, m_runDir);  // the last run's model closes unless another holds it
    showMarks();
    showStatus({});
    if (ok) buildMap();
}

void LatentPanel::showStatus(const QString& text, bool error) {
    m_status->setText(text);
    if (error && !text.isEmpty()) Q_EMIT message(text);
}

bool LatentPanel::isBusy() const {
    return m_samplers->isBusy(this);
}

void LatentPanel::submit(Work work, bool droppable, bool reopen) {
    if (m_runDir.isEmpty()) return;
    const QString run = m_runDir;
    // A continuation or a failure is told only while its run is still the panel's.
    m_samplers->submit(
        {.client = this,
         .run = run,
         .kind = droppable ? 1 : 0,
         .work = [this, run, work](ll::RunSampler* sampler, JobContext&) -> JobBridge::Then {
             Then then = work(*sampler);
             return [this, run, then] {
                 if (m_runDir == run) then(*this);
             };
         },
         .failed =
             [this, run](const QString& why) {
                 if (m_runDir != run) return;
                 m_build->setEnabled(true);
                 if (!m_view->hasMap()) m_view->clear(why);
                 showStatus(why, true);
             },
         .replaceable = droppable,  // a newer decode replaces a waiting one
         .reopen = reopen});
}

void LatentPanel::buildMap() {
    if (m_runDir.isEmpty()) return;
    const auto count = std::int64_t(m_count->value());
    const auto seed = std::uint64_t(m_seed->value());
    const bool slowDraws = info().slowDraws;
    showStatus(tr("Building the latent map: %1 points%2…")
                   .arg(count)
                   .arg(slowDraws ? QString() : tr(" and their images")));
    m_build->setEnabled(false);
    submit(
        [count, seed](ll::RunSampler& sampler) -> Then {
            auto images = std::make_shared<ll::SampleGrid>();
            auto map = sampler.latentMap(count, seed, kDirections, images.get(), false);
            if (!map) {
                const QString why = QString::fromStdString(map.error().message);
                return [why](LatentPanel& p) {
                    p.m_build->setEnabled(true);
                    p.m_view->clear(why);
                    p.showStatus(why, true);
                };
            }
            auto shared = std::make_shared<ll::LatentMap>(std::move(*map));
            return [shared, images](LatentPanel& p) {
                p.m_build->setEnabled(true);
                p.m_map = *shared;
                p.m_view->setMap(*shared, *images, p.m_classNames, !p.info().slowDraws);
                p.m_view->setShown(p.m_showReal->isChecked(), p.m_showDrawn->isChecked());
                const bool encoded = std::count(shared->real.begin(), shared->real.end(), 1) > 0;
                p.m_showReal->setEnabled(encoded);
                p.m_showReal->setToolTip(encoded ? QString()
                                                 : tr("This model has no encoder: only drawn "
                                                      "latents"));
                p.m_sliders->setMap(*shared);
                p.showStatus(
                    tr("%1 points in a %2-dimensional latent space.%3")
                        .arg(shared->x.size())
                        .arg(shared->dims)
                        .arg(shared->note.empty()
                                 ? QString()
                                 : QStringLiteral(" ") + QString::fromStdString(shared->note)),
                    !shared->note.empty());
                if (p.m_sliders->empty() && !shared->x.empty())
                    p.choosePoint(int(std::find(shared->real.begin(), shared->real.end(), 1) -
                                      shared->real.begin()) %
                                  int(shared->x.size()));
                else
                    p.showMarks();
            };
        },
        false, true);  // reopened: the run may have trained on since
}

int LatentPanel::currentLabel() const {
    return m_conditional ? m_class->currentData().toInt() : -1;
}

void LatentPanel::setLatent(std::vector<float> latent, int label, const QString& what) {
    m_sliders->setLatent(std::move(latent));
    m_what = what;
    if (m_conditional && label >= 0) {
        QSignalBlocker block(m_class);
        m_class->setCurrentIndex(m_class->findData(label));
    }
    for (QPushButton* b : m_pick) b->setEnabled(true);
    decodeCurrent();
}

void LatentPanel::choosePoint(int index) {
    if (index < 0 || std::size_t(index) >= m_map.x.size()) return;
    const auto i = std::size_t(index), dims = std::size_t(m_map.dims);
    std::vector<float> z(m_map.latents.begin() + std::ptrdiff_t(i * dims),
                         m_map.latents.begin() + std::ptrdiff_t((i + 1) * dims));
    const int label = m_map.label[i];
    m_steering = {};
    setLatent(std::move(z), label,
              m_map.real[i]
                  ? tr("training image %1 (%2), encoded").arg(m_map.index[i]).arg(className(label))
                  : tr("draw %1 (%2)").arg(m_map.index[i]).arg(className(label)));
}

void LatentPanel::choosePlace(float x, float y) {
    if (m_map.directions.size() < 2) return;
    std::vector<float> z = m_map.mean;
    for (std::size_t i = 0; i < z.size(); ++i)
        z[i] += x * m_map.directions[0][i] + y * m_map.directions[1][i];
    // The class of the nearest point, for conditional models.
    int label = -1;
    float best = 1e30f;
    for (std::size_t i = 0; i < m_map.x.size(); ++i) {
        const float d = (m_map.x[i] - x) * (m_map.x[i] - x) + (m_map.y[i] - y) * (m_map.y[i] - y);
        if (d < best) best = d, label = m_map.label[i];
    }
    m_steering = {};
    setLatent(std::move(z), label,
              tr("the place (%1, %2) of the map").arg(x, 0, 'f', 2).arg(y, 0, 'f', 2));
}

std::vector<float> LatentPanel::currentLatent() const {
    return m_sliders->current();
}

ll::SampleRequest LatentPanel::decodeRequest(int label) const {
    ll::SampleRequest r = m_steering;  // temperature, truncation, guidance of a Steer tile
    r.count = 1;
    r.labels.clear();
    r.mixture.clear();
    r.pinned.clear();
    r.onStep = {};
    r.live.reset();
    if (label >= 0) r.labels = {label};
    return r;
}

void LatentPanel::decodeCurrent() {
    if (m_sliders->empty()) return;
    const std::vector<float> z = currentLatent();
    const ll::SampleRequest request = decodeRequest(currentLabel());
    const QString what = m_what;
    showMarks();
    submit(
        [z, request, what](ll::RunSampler& sampler) -> Then {
            auto grid = sampler.decode(z, request, 1);
            if (!grid) {
                const QString why = QString::fromStdString(grid.error().message);
                return [why](LatentPanel& p) { p.showStatus(why, true); };
            }
            auto image = std::make_shared<ll::SampleGrid>(std::move(*grid));
            return [image, what, z](LatentPanel& p) {
                ++p.m_decodes;
                p.m_image = *image;
                p.m_picture->setPixmap(QPixmap::fromImage(gridImage(*image))
                                           .scaled(p.m_picture->size() - QSize(4, 4),
                                                   Qt::KeepAspectRatio, Qt::FastTransformation));
                const QStringList moved = p.m_sliders->moves();
                p.m_description->setText(
                    tr("%1; %2%3")
                        .arg(what, describeLatent(z),
                             moved.isEmpty()
                                 ? QString()
                                 : tr("; moved along %1").arg(moved.join(QStringLiteral(", ")))));
            };
        },
        true);
}

void LatentPanel::showMarks() {
    std::vector<LatentView::Mark> marks;
    const QColor colours[] = {QColor(255, 120, 120), QColor(120, 170, 255), QColor(140, 220, 140)};
    const char* names[] = {"A", "B", "C"};
    QStringList ends;
    for (std::size_t k = 0; k < 3; ++k) {
        const End& e = m_ends[k];
        if (e.latent.empty()) continue;
        const auto [x, y] = ll::projectLatent(m_map, e.latent);
        marks.push_back({QLatin1String(names[k]), x, y, colours[k]});
        ends << QStringLiteral("%1: %2").arg(QLatin1String(names[k]), e.what);
    }
    if (!m_sliders->empty()) {
        const auto [x, y] = ll::projectLatent(m_map, currentLatent());
        marks.push_back({QString(), x, y, QColor(255, 220, 60)});  // a ring
    }
    m_view->setMarks(std::move(marks));
    m_endsLabel->setText(ends.isEmpty() ? tr("Pick A and B (and C) with the Set buttons above.")
                                        : ends.join(QLatin1Char('\n')));
    const bool ab = !m_ends[0].latent.empty() && !m_ends[1].latent.empty();
    m_interpolate->setEnabled(ab);
    m_export->setEnabled(ab);
    m_arithmetic->setEnabled(ab && !m_ends[2].latent.empty());
}

void LatentPanel::pickEnd(int which) {
    if (which < 0 || which > 2 || m_sliders->empty()) return;
    m_ends[std::size_t(which)] = {currentLatent(), currentLabel(), m_what};
    showMarks();
}

void LatentPanel::interpolate() {
    if (m_ends[0].latent.empty() || m_ends[1].latent.empty()) return;
    const ll::LatentEnd from{.label = m_ends[0].label, .latent = m_ends[0].latent};
    const ll::LatentEnd to{.label = m_ends[1].label, .latent = m_ends[1].latent};
    const int steps = m_steps->value();
    const auto mode = ll::Interpolation(m_path->currentData().toInt());
    const ll::SampleRequest base = decodeRequest(-1);
    const QString caption =
        tr("%1 from A to B in %2 steps")
            .arg(mode == ll::Interpolation::Spherical ? tr("slerp") : tr("lerp"))
            .arg(steps);
    showStatus(tr("Interpolating…"));
    submit(
        [from, to, steps, mode, base, caption](ll::RunSampler& sampler) -> Then {
            auto strip = sampler.interpolate(from, to, steps, mode, base);
            if (!strip) {
                const QString why = QString::fromStdString(strip.error().message);
                return [why](LatentPanel& p) { p.showStatus(why, true); };
            }
            auto shared = std::make_shared<ll::SampleGrid>(std::move(*strip));
            return [shared, caption](LatentPanel& p) {
                p.m_view->setStrip(*shared, caption);
                p.showStatus(tr("Interpolated: %1.").arg(caption));
            };
        },
        false);
}

void LatentPanel::exportInterpolation() {
    if (m_ends[0].latent.empty() || m_ends[1].latent.empty() || m_runDir.isEmpty()) return;
    const QString dir =
        QString::fromStdString(ll::runfiles::latentDir(m_runDir.toStdString()).string());
    if (!QDir().mkpath(dir)) {
        showStatus(tr("Cannot create %1").arg(dir), true);
        return;
    }
    const QString stem =
        dir +
        QStringLiteral("/interpolation-%1")
            .arg(QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-hhmmss-zzz")));
    const ll::LatentEnd from{.label = m_ends[0].label, .latent = m_ends[0].latent};
    const ll::LatentEnd to{.label = m_ends[1].label, .latent = m_ends[1].latent};
    const int steps = m_steps->value();
    const auto mode = ll::Interpolation(m_path->currentData().toInt());
    const ll::SampleRequest base = decodeRequest(-1);
    showStatus(tr("Writing the strip and the video…"));
    submit(
        [from, to, steps, mode, base, stem](ll::RunSampler& sampler) -> Then {
            const std::string png = (stem + QStringLiteral(".png")).toStdString();
            const std::string video = (stem + QStringLiteral(".mp4")).toStdString();
            auto strip = sampler.interpolate(from, to, steps, mode, base, png, video);
            if (!strip) {
                const QString why = QString::fromStdString(strip.error().message);
                return [why](LatentPanel& p) { p.showStatus(why, true); };
            }
            auto shared = std::make_shared<ll::SampleGrid>(std::move(*strip));
            return [shared, stem](LatentPanel& p) {
                p.m_view->setStrip(*shared,
                                   tr("Saved as %1.png and .mp4").arg(QFileInfo(stem).fileName()));
                p.m_lastExport = stem;
                p.showStatus(tr("Saved %1.png and %1.mp4").arg(stem));
                Q_EMIT p.message(tr("Interpolation saved: %1.png and .mp4").arg(stem));
            };
        },
        false);
}

void LatentPanel::arithmetic() {
    const auto& a = m_ends[0].latent;
    const auto& b = m_ends[1].latent;
    const auto& c = m_ends[2].latent;
    if (a.empty() || b.empty() || c.empty()) return;
    auto z = ll::latentArithmetic(a, b, c);
    if (!z) return;  // ends of different widths
    setLatent(std::move(*z), m_ends[2].label, tr("A − B + C"));
}

void LatentPanel::showTile(const QString& runDir, const ll::SampleRequest& request, qint64 index,
                           int label) {
    setRun(runDir);
    if (m_runDir.isEmpty()) return;
    showStatus(tr("Fetching the tile's latent…"));
    submit(
        [request, index, label](ll::RunSampler& sampler) -> Then {
            auto z = sampler.latentOf(request, index);
            if (!z) {
                const QString why = QString::fromStdString(z.error().message);
                return [why](LatentPanel& p) { p.showStatus(why, true); };
            }
            auto shared = std::make_shared<std::vector<float>>(std::move(*z));
            return [shared, request, index, label](LatentPanel& p) {
                p.m_steering = request;
                p.setLatent(*shared, label,
                            tr("Steer tile %1 of seed %2 (%3)")
                                .arg(index)
                                .arg(request.seed)
                                .arg(p.className(label)));
                p.showStatus(tr("The tile's latent, decoded with its Steer settings."));
                // Bring the picture into view where the panel scrolls.
                for (QWidget* w = p.parentWidget(); w; w = w->parentWidget())
                    if (auto* scroll = qobject_cast<QScrollArea*>(w)) {
                        scroll->ensureWidgetVisible(p.m_picture);
                        break;
                    }
            };
        },
        false);
}

}  // namespace ll::widgets
