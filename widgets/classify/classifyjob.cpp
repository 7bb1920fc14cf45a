#include "classify/classifyjob.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "data/preview.h"

namespace ll::widgets {

namespace {

// Core's stage names as the panel says them; a stage with its own words ("vae seed 3")
// keeps them.
QString stageText(const std::string& stage) {
    static const std::map<std::string, const char*> kStages = {
        {"loading", QT_TRANSLATE_NOOP("ClassifyJob", "Loading")},
        {"baseline", QT_TRANSLATE_NOOP("ClassifyJob", "The clean classifier")},
        {"classifying", QT_TRANSLATE_NOOP("ClassifyJob", "Classifying")},
        {"features", QT_TRANSLATE_NOOP("ClassifyJob", "Computing features")},
        {"fitting", QT_TRANSLATE_NOOP("ClassifyJob", "Fitting the classifiers")},
        {"scoring", QT_TRANSLATE_NOOP("ClassifyJob", "Scoring")},
        {"charts", QT_TRANSLATE_NOOP("ClassifyJob", "Drawing the charts")},
        {"chart", QT_TRANSLATE_NOOP("ClassifyJob", "Drawing the chart")},
        {"generator", QT_TRANSLATE_NOOP("ClassifyJob", "Training the generators")}};
    const auto it = kStages.find(stage);
    if (it != kStages.end()) return ClassifyJob::tr(it->second);
    QString text = QString::fromStdString(stage);
    if (!text.isEmpty()) text[0] = text[0].toUpper();
    return text;
}

QString message(const ll::Error& error) {
    return QString::fromStdString(error.message);
}

}  // namespace

ClassifyJob::ClassifyJob(QObject* parent) : QObject(parent) {
    connect(&m_studies, &JobBridge::progress, this, &ClassifyJob::progress);
    connect(&m_studies, &JobBridge::failed, this,
            [this](const QString& why) { Q_EMIT finished(false, why); });
    // The newest job of each kind asked for meanwhile starts once the last one has ended.
    connect(&m_runBridge, &JobBridge::finished, this, [this] {
        if (!m_runBridge.isRunning()) startNext();
    });
}

// The bridges cancel and join their jobs.
ClassifyJob::~ClassifyJob() = default;

template <class R>
bool ClassifyJob::startStudy(
    std::function<ll::Result<R>(const std::function<bool(const std::string&, double)>&)> run,
    std::function<void(const R&)> deliver) {
    if (isRunning()) return false;
    return m_studies.start([this, run, deliver](JobContext& job) -> JobBridge::Then {
        std::string lastStage;
        double lastFraction = -1;
        auto result = std::make_shared<ll::Result<R>>(run([&](const std::string& stage, double f) {
            if (job.stopRequested()) return false;
            // Reported when the stage or a tenth of a percent changes, not every step.
            if (stage != lastStage || std::abs(f - lastFraction) >= 0.001) {
                job.progress(stageText(stage), std::clamp(f, 0.0, 1.0));
                lastStage = stage;
                lastFraction = f;
            }
            return true;
        }));
        return [this, result, deliver] {
            if (*result) deliver(**result);
            Q_EMIT finished(result->has_value(), *result ? QString() : message(result->error()));
        };
    });
}

bool ClassifyJob::classify(const ll::DiffusionClassifyRequest& request) {
    return startStudy<ll::DiffusionClassifyResult>(
        [request](const auto& progress) { return ll::classifyWithDiffusion(request, progress); },
        [this](const ll::DiffusionClassifyResult& r) { Q_EMIT classified(r); });
}

bool ClassifyJob::learningCurve(const ll::LearningCurveRequest& request) {
    return startStudy<ll::LearningCurveResult>(
        [request](const auto& progress) { return ll::runLearningCurve(request, progress); },
        [this](const ll::LearningCurveResult& r) { Q_EMIT curveReady(r); });
}

bool ClassifyJob::oneClass(const ll::OneClassRequest& request) {
    return startStudy<ll::OneClassResult>(
        [request](const auto& progress) { return ll::runOneClass(request, progress); },
        [this](const ll::OneClassResult& r) { Q_EMIT oneClassReady(r); });
}

bool ClassifyJob::rebalance(const ll::RebalanceRequest& request) {
    return startStudy<ll::RebalanceResult>(
        [request](const auto& progress) { return ll::runRebalance(request, progress); },
        [this](const ll::RebalanceResult& r) { Q_EMIT rebalanceReady(r); });
}

void ClassifyJob::cancel() {
    m_studies.requestStop();
}

void ClassifyJob::openRun(const QString& run) {
    queue(
        OpenSlot,
        [this, run](JobContext&, const Classifier&) -> JobBridge::Then {
            Classifier opened;
            QString refusal;
            if (auto c = ll::DiffusionClassifier::open(run.toStdString()))
                opened = std::make_shared<ll::DiffusionClassifier>(std::move(*c));
            else
                refusal = message(c.error());
            return [this, run, opened, refusal] {
                m_classifier = opened;
                m_openedRun = run;
                Q_EMIT runOpened(run, refusal);
            };
        },
        [this, run](const QString& why) {
            m_classifier.reset();
            m_openedRun = run;
            Q_EMIT runOpened(run, why);
        });
}

void ClassifyJob::loadImages(const ll::DatasetSpec& data, std::vector<int> labels, int count) {
    count = std::min<int>(count, int(labels.size()));
    queue(
        ImagesSlot,
        [this, data, labels, count](JobContext&, const Classifier&) -> JobBridge::Then {
            // The data panel's preview lists each class's first members in data order: image
            // i is member rank(i) of its class there.
            std::vector<int> rank(static_cast<std::size_t>(count));
            std::vector<int> seen;
            int classes = 0, perClass = 1;
            for (int i = 0; i < count; ++i) {
                const int label = labels[std::size_t(i)];
                if (label < 0) continue;
                if (label >= int(seen.size())) seen.resize(std::size_t(label) + 1, 0);
                rank[std::size_t(i)] = seen[std::size_t(label)]++;
                classes = std::max(classes, label + 1);
                perClass = std::max(perClass, rank[std::size_t(i)] + 1);
            }
            auto preview = ll::previewDataset(data, perClass, classes);
            if (!preview) {
                const QString why = message(preview.error());
                return [this, why] { Q_EMIT imagesFailed(why); };
            }
            const ll::SampleGrid& g = preview->grid;
            const QImage atlas(g.rgba.data(), g.atlasWidth(), g.atlasHeight(), g.atlasWidth() * 4,
                               QImage::Format_RGBA8888);
            QList<QImage> images;
            for (int i = 0; i < count; ++i) {
                const int label = labels[std::size_t(i)];
                if (label < 0 || label >= g.rows) {
                    images.append(QImage());
                    continue;
                }
                images.append(atlas.copy(rank[std::size_t(i)] * g.tileWidth, label * g.tileHeight,
                                         g.tileWidth, g.tileHeight));
            }
            return [this, images] { Q_EMIT imagesReady(images); };
        },
        [this](const QString& why) { Q_EMIT imagesFailed(why); });
}

void ClassifyJob::explain(const ll::DatasetSpec& data, std::int64_t index,
                          const ll::DiffusionClassifierOptions& options) {
    queue(
        ExplainSlot,
        [this, data, index, options](JobContext&, const Classifier& c) -> JobBridge::Then {
            if (!c) return [this] { Q_EMIT explainFailed(tr("No diffusion run is open.")); };
            auto e = std::make_shared<ll::Result<ll::DiffusionExplanation>>(
                c->explain(data, index, options));
            return [this, e, index] {
                if (*e)
                    Q_EMIT explained(index, **e);
                else
                    Q_EMIT explainFailed(message(e->error()));
            };
        },
        [this](const QString& why) { Q_EMIT explainFailed(why); });
}

void ClassifyJob::queue(Slot slot, RunWork work, JobBridge::Failure failure) {
    m_pending[slot] = {std::move(work), std::move(failure)};
    if (!m_runBridge.isRunning()) startNext();
}

void ClassifyJob::startNext() {
    if (m_pending.empty()) return;
    auto [work, failure] = std::move(m_pending.begin()->second);
    m_pending.erase(m_pending.begin());
    // The classifier is read here, on the GUI thread, and handed to the worker: only this
    // bridge's continuations replace it, and they run between its jobs.
    m_runBridge.start([work = std::move(work), c = m_classifier](
                          JobContext& job) -> JobBridge::Then { return work(job, c); },
                      std::move(failure));
}

}  // namespace ll::widgets
