#pragma once

#include <filesystem>

#include <QString>

namespace ll::widgets {

/// The Classify mode's studies, in the panel's order.
enum class StudyKind { Diffusion, LearningCurve, OneClass, Rebalance };
/// Every study, in the panel's order.
inline constexpr StudyKind kStudyKinds[] = {StudyKind::Diffusion, StudyKind::LearningCurve,
                                            StudyKind::OneClass, StudyKind::Rebalance};

/// The study's folder name stem ("diffusion-classifier", "learning-curve", "oneclass",
/// "rebalance").
QString studyKey(StudyKind kind);
/// The study's name as the panel's chooser shows it.
QString studyTitle(StudyKind kind);

/// A study folder and how far the study in it got: result.json written (finished), or
/// finished parts under parts/ without a result (interrupted: a start with the same options
/// into the same folder resumes it).
struct StudyFolder {
    QString path;
    bool finished = false;
    bool interrupted = false;
    bool exists() const { return !path.isEmpty(); }
};

/// What `folder` holds (an empty path gives an empty StudyFolder).
StudyFolder studyAt(const QString& folder);

/// The dataset studies' folders: `<workspace>/studies/<key>-<yyyyMMdd-HHmmss>/`. A new one is
/// named by the time now (not created); the latest is the newest by name, or the newest
/// that holds a result with `finishedOnly`.
QString newStudyFolder(const std::filesystem::path& workspace, StudyKind kind);
StudyFolder latestStudy(const std::filesystem::path& workspace, StudyKind kind,
                        bool finishedOnly = false);

/// `text` (a path, or a message naming one) with a break allowed after each '/', so that a
/// word-wrapped label does not widen the panel to the longest path.
QString wrappable(const QString& text);

/// Where the diffusion classifier writes for `run` when its request leaves `out` empty
/// (runfiles::studies(run) / "diffusion-classifier", as core picks it).
QString diffusionStudyFolder(const QString& run);

}  // namespace ll::widgets
