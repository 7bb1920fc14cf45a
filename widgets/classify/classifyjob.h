#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include <QImage>
#include <QList>
#include <QObject>
#include <QString>

#include "common/jobbridge.h"
#include "study/diffusionclassifier.h"
#include "study/learningcurve.h"
#include "study/oneclass.h"
#include "study/rebalance.h"

namespace ll::widgets {

/// The Classify mode's worker. One study at a time runs on the study bridge (core's
/// classifyWithDiffusion, runLearningCurve, runOneClass or runRebalance, with progress and cancel);
/// the run bridge does the short work beside it, one job at a time, the newest of each kind
/// winning: opening a run as a diffusion classifier (core says whether it is one), loading the
/// classified images for the centre's strip, and explaining one image. Destroying the job
/// cancels and joins both; whatever a job throws ends it with its message.
class ClassifyJob : public QObject {
    Q_OBJECT
public:
    explicit ClassifyJob(QObject* parent = nullptr);
    ~ClassifyJob() override;

    /// A study is running.
    bool isRunning() const { return m_studies.isRunning(); }
    /// Each starts a study; false while one runs.
    bool classify(const ll::DiffusionClassifyRequest& request);
    bool learningCurve(const ll::LearningCurveRequest& request);
    bool oneClass(const ll::OneClassRequest& request);
    bool rebalance(const ll::RebalanceRequest& request);
    /// Stops the running study at its next step; its finished parts stay for a resume.
    void cancel();

    /// Opens `run` as a diffusion classifier (runOpened says whether core took it); the
    /// explanations use the run opened last.
    void openRun(const QString& run);
    QString openedRun() const { return m_openedRun; }
    bool isOpen() const { return m_classifier != nullptr; }
    /// The first `count` images of `data` (as classified, in data order, `labels` their
    /// classes) as pictures for the strip: imagesReady.
    void loadImages(const ll::DatasetSpec& data, std::vector<int> labels, int count);
    /// Why image `index` of `data` went where it did, with the opened run: explained.
    void explain(const ll::DatasetSpec& data, std::int64_t index,
                 const ll::DiffusionClassifierOptions& options);
    bool isExplaining() const { return m_runBridge.isRunning(); }

Q_SIGNALS:
    /// What the study does now and how much of it is done (0..1).
    void progress(const QString& stage, double fraction);
    void classified(const ll::DiffusionClassifyResult& result);
    void curveReady(const ll::LearningCurveResult& result);
    void oneClassReady(const ll::OneClassResult& result);
    void rebalanceReady(const ll::RebalanceResult& result);
    /// A study ended: ok, or why not ("cancelled" for a cancel).
    void finished(bool ok, const QString& message);

    /// `refusal` is empty when core opened `run` as a diffusion classifier, else its reason.
    void runOpened(const QString& run, const QString& refusal);
    void imagesReady(const QList<QImage>& images);
    void imagesFailed(const QString& message);
    void explained(std::int64_t index, const ll::DiffusionExplanation& explanation);
    void explainFailed(const QString& message);

private:
    using Classifier = std::shared_ptr<ll::DiffusionClassifier>;
    /// Run-bridge work: gets the classifier opened last (null when none).
    using RunWork = std::function<JobBridge::Then(JobContext&, const Classifier&)>;
    enum Slot { OpenSlot, ImagesSlot, ExplainSlot };

    /// Starts a study whose core call is `run(progressFn)`.
    template <class R>
    bool startStudy(
        std::function<ll::Result<R>(const std::function<bool(const std::string&, double)>&)> run,
        std::function<void(const R&)> deliver);
    void queue(Slot slot, RunWork work, JobBridge::Failure failure);
    void startNext();

    JobBridge m_studies;
    JobBridge m_runBridge;
    std::map<Slot, std::pair<RunWork, JobBridge::Failure>> m_pending;
    Classifier m_classifier;
    QString m_openedRun;
};

}  // namespace ll::widgets
